"""Demo data of the finance module: exchange rates, revenue targets, a year of revenue that
did not come from deals, the revenue of the CRM demo's won deals, and forecasts (past ones
dated as if made before their quarter, so forecast accuracy has a history). Idempotent:
rates are keyed by day and pair, targets by period, revenue entries by their description or
deal, forecasts by name. Runs after the CRM's seeder, whose deals it forecasts.
"""

import datetime
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from coop.demo import seed_core
from crm.models import Deal, DealStatus
from finance.models import ExchangeRate, RevenueEntry, RevenueForecast, RevenueSource, RevenueTarget
from finance.periods import PeriodType, next_period_start, period_start
from finance.services import forecast_record, won_deal_revenue_entry

# Units of EUR per unit of each currency, drifting a little week by week.
BASE_RATES = {"USD": Decimal("0.92"), "GBP": Decimal("1.17"), "CHF": Decimal("1.05")}
RATE_WEEKS = 110  # the CRM demo history goes two years back
REVENUE_MONTHS = 12
MONTHLY_TARGET_CENTS = 6_000_000


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def seed_rates(today: datetime.date) -> int:
    rates = []
    for week in range(RATE_WEEKS):
        day = today - datetime.timedelta(weeks=week)
        drift = Decimal(1) + Decimal((week % 7) - 3) / Decimal(400)
        for code, rate in BASE_RATES.items():
            rates.append(
                ExchangeRate(
                    date=day,
                    base=code,
                    quote="EUR",
                    rate=(rate * drift).quantize(Decimal("0.0001")),
                )
            )
    before = ExchangeRate.objects.count()
    ExchangeRate.objects.bulk_create(rates, ignore_conflicts=True)
    return ExchangeRate.objects.count() - before


def seed_targets(team, today: datetime.date) -> int:
    created = 0
    this_month = period_start(today, PeriodType.MONTHLY)
    for offset in range(-REVENUE_MONTHS, 7):
        month = _add_months(this_month, offset)
        _, new = RevenueTarget.objects.get_or_create(
            team=team,
            period_type=PeriodType.MONTHLY,
            period_start=month,
            defaults={"amount_cents": MONTHLY_TARGET_CENTS, "currency": "EUR"},
        )
        created += new
    for offset in range(-4, 3):
        quarter = period_start(_add_months(this_month, 3 * offset), PeriodType.QUARTERLY)
        _, new = RevenueTarget.objects.get_or_create(
            team=team,
            period_type=PeriodType.QUARTERLY,
            period_start=quarter,
            defaults={"amount_cents": 3 * MONTHLY_TARGET_CENTS, "currency": "EUR"},
        )
        created += new
    return created


def seed_revenue(team, finance_user, today: datetime.date) -> int:
    """A year of revenue that did not come from deals (fees, workshops), month by month."""
    created = 0
    this_month = period_start(today, PeriodType.MONTHLY)
    for offset in range(1, REVENUE_MONTHS + 1):
        month = _add_months(this_month, -offset)
        for day, label, base, currency in (
            (3, "Membership fees", 2_100_000, "EUR"),
            (17, "Training workshops", 900_000, "GBP"),
            (26, "Installation services", 1_800_000, "EUR"),
        ):
            description = f"{label} {month:%B %Y}"
            amount = base + (offset * 37_000) % 400_000
            _, new = RevenueEntry.objects.get_or_create(
                team=team,
                description=description,
                defaults={
                    "booked_on": month.replace(day=day),
                    "amount_cents": amount,
                    "currency": currency,
                    "source": RevenueSource.MANUAL,
                    "created_by": finance_user,
                },
            )
            created += new
    return created


def seed_won_revenue(team) -> int:
    """Book the revenue of won demo deals written without `deal_close` (the CRM's demo loads
    its history in bulk), in bulk, as the entries `deal_close` books."""
    deals = Deal.objects.filter(
        pipeline__team=team, status=DealStatus.WON, revenue_entry__isnull=True
    ).select_related("pipeline", "owner")
    entries = RevenueEntry.objects.bulk_create(
        (won_deal_revenue_entry(deal) for deal in deals.iterator(chunk_size=5000)),
        batch_size=5000,
    )
    return len(entries)


def seed_forecasts(team, people: dict, today: datetime.date) -> int:
    """Monthly forecasts of the last two quarters (history for forecast accuracy, dated the
    day before their quarter began, as if made then), this quarter and the next, for the
    team and for one rep."""
    created = 0
    this_quarter = period_start(today, PeriodType.QUARTERLY)
    ranges = [
        _add_months(this_quarter, -6),
        _add_months(this_quarter, -3),
        this_quarter,
        next_period_start(this_quarter, PeriodType.QUARTERLY),
    ]
    for start in ranges:
        end = next_period_start(start, PeriodType.QUARTERLY) - datetime.timedelta(days=1)
        for scope_user in (None, people["rafael"]):
            who = scope_user or team
            name = f"Demo: {who} {start:%b} to {end:%b %Y}"
            if RevenueForecast.objects.filter(name=name).exists():
                continue
            forecast = forecast_record(
                actor=people["fiona"] if scope_user is None else scope_user,
                team=team,
                scope_user=scope_user,
                period_type=PeriodType.MONTHLY,
                start=start,
                end=end,
                currency="EUR",
                name=name,
            )
            if end < today:
                made = start - datetime.timedelta(days=1)
                made_at = datetime.datetime.combine(made, datetime.time(9), tzinfo=datetime.UTC)
                RevenueForecast.objects.filter(pk=forecast.pk).update(
                    forecast_date=made, created_at=made_at
                )
            created += 1
    return created


@transaction.atomic
def seed(*, options: dict, log: Callable[[str], None]) -> None:
    team, users, _ = seed_core()
    people = {user.username: user for user in users}
    today = timezone.localdate()
    rates = seed_rates(today)
    targets = seed_targets(team, today)
    revenue = seed_revenue(team, people["fiona"], today)
    log(
        gettext(
            "Finance demo: %(rates)d new rate(s), %(targets)d target(s), %(revenue)d revenue "
            "entries."
        )
        % {"rates": rates, "targets": targets, "revenue": revenue}
    )
    won = seed_won_revenue(team)
    forecasts = seed_forecasts(team, people, today)
    log(
        gettext(
            "Finance demo: revenue of %(won)d won deal(s) booked, %(forecasts)d new forecast(s)."
        )
        % {"won": won, "forecasts": forecasts}
    )
