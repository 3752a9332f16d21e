"""Demo data of the finance module: exchange rates, revenue targets, a year of revenue
history, demo deals in the demo team's first pipeline (through the CRM services) and past
forecasts. Idempotent: rates are keyed by day and pair, targets by period, revenue entries
by their description, deals by title and forecasts by name.

Runs after the CRM's seeder; without a pipeline in the demo team it seeds what does not
need one and says so.
"""

import datetime
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from coop.demo import seed_core
from crm.models import Deal, Pipeline
from crm.services import deal_create
from finance.models import ExchangeRate, RevenueEntry, RevenueForecast, RevenueSource, RevenueTarget
from finance.periods import PeriodType, next_period_start, period_start
from finance.services import forecast_generate

# Units of EUR per unit of each currency, drifting a little week by week.
BASE_RATES = {"USD": Decimal("0.92"), "GBP": Decimal("1.17"), "CHF": Decimal("1.05")}
RATE_WEEKS = 60
REVENUE_MONTHS = 12
MONTHLY_TARGET_CENTS = 6_000_000

# title, owner, stage position (0 = first open stage), value in cents, months from now, day
DEMO_DEALS = [
    ("Community solar roof", "rafael", 2, 2_400_000, 0, 20),
    ("Bakery oven replacement", "rafael", 1, 850_000, 1, 5),
    ("Print shop press lease", "sana", 0, 1_600_000, 1, 18),
    ("Café fit-out", "sana", 1, 450_000, 2, 9),
    ("Co-housing heat pumps", "rafael", 2, 3_100_000, 2, 25),
    ("Library shelving", "sana", 0, 300_000, 3, 3),
    ("Bike co-op fleet", "rafael", 1, 1_250_000, 3, 14),
    ("Farm shop refrigeration", "sana", 2, 980_000, 4, 7),
    ("Makerspace laser cutter", "rafael", 0, 620_000, 5, 21),
    ("Food hub cold store", "sana", 1, 2_050_000, -1, 12),
]


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


# Deals that were expected to close in each of the last six months and are still open (so the
# past forecasts have something to forecast): label, owner, stage position, value in cents.
DEMO_PAST_DEALS = [
    ("Cooperative audit", "rafael", 1, 3_000_000),
    ("Solar maintenance contract", "sana", 2, 3_500_000),
    ("Bulk order: fair-trade coffee", "rafael", 2, 2_600_000),
    ("Website rebuild", "sana", 1, 3_900_000),
]


def _deal_specs(today: datetime.date) -> list[tuple[str, str, int, int, int, int]]:
    specs = list(DEMO_DEALS)
    for offset in range(1, 7):
        month = _add_months(period_start(today, PeriodType.MONTHLY), -offset)
        for index in (offset % 4, (offset + 1) % 4):
            label, owner, position, value = DEMO_PAST_DEALS[index]
            specs.append((f"{label} ({month:%b %Y})", owner, position, value, -offset, 10 + index))
    return specs


def seed_deals(pipeline: Pipeline, people: dict, today: datetime.date) -> int:
    stages = list(pipeline.stages.filter(is_won=False, is_lost=False).order_by("position"))
    existing = set(Deal.objects.filter(pipeline=pipeline).values_list("title", flat=True))
    created = 0
    for title, owner, position, value, months, day in _deal_specs(today):
        if title in existing:
            continue
        close = _add_months(period_start(today, PeriodType.MONTHLY), months).replace(day=day)
        deal_create(
            actor=people[owner],
            pipeline=pipeline,
            stage=stages[min(position, len(stages) - 1)],
            title=title,
            value_cents=value,
            owner=people[owner],
            expected_close_date=close,
        )
        created += 1
    return created


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
            forecast = forecast_generate(
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
    log(f"Finance demo: {rates} new rate(s), {targets} target(s), {revenue} revenue entries.")
    pipeline = Pipeline.objects.filter(team=team).order_by("name").first()
    if pipeline is None:
        log("Finance demo: the demo team has no pipeline yet, so no demo deals or forecasts.")
        return
    deals = seed_deals(pipeline, people, today)
    forecasts = seed_forecasts(team, people, today)
    log(f"Finance demo: {deals} new deal(s) in {pipeline}, {forecasts} new forecast(s).")
