"""Revenue targets (quotas) and how far they are reached: per period of a forecast, and for
the current period on the home page. Reads only; `finance.services` writes targets.

Attainment = revenue won / target. On a forecast it is the forecast's realized revenue of
each period against the period's target (the team's, or the rep's for a forecast of one rep),
both in the forecast's currency, targets converted at the rate of the forecast's day.
"""

import dataclasses
import datetime

from django.db.models import Sum
from django.utils import timezone

from coop.models import User
from finance.models import RevenueEntry, RevenueForecast, RevenueTarget
from finance.periods import period_end, period_start
from finance.rates import MissingRateError, RateTable, convert_minor


def forecast_targets(
    forecast: RevenueForecast, rates: RateTable | None = None
) -> dict[datetime.date, int]:
    """Each period's target (by its start) in the forecast's currency; periods without one
    are absent. One query, and one more for the rates unless the caller passes them
    (`finance.past_periods.page_rates`). Raises MissingRateError."""
    targets = list(
        RevenueTarget.objects.filter(
            team_id=forecast.team_id,
            user_id=forecast.scope_user_id,
            period_type=forecast.period_type,
            period_start__range=(
                period_start(forecast.start_date, forecast.period_type),
                forecast.end_date,
            ),
        ).values_list("period_start", "amount_cents", "currency")
    )
    if not targets:
        return {}
    if rates is None:
        rates = RateTable.load(
            {c for _, _, c in targets}, forecast.currency, forecast.forecast_date
        )
    return {
        max(first, forecast.start_date): convert_minor(
            amount,
            code,
            forecast.currency,
            rates.rate(code, forecast.currency, forecast.forecast_date),
        )
        for first, amount, code in targets
    }


def attainment(won_cents: int | None, target_cents: int | None) -> float | None:
    """Won / target (None without a target or a won amount)."""
    return won_cents / target_cents if target_cents and won_cents is not None else None


# The home page's panel shows at most this many targets (each costs two queries).
HOME_TARGETS = 20


@dataclasses.dataclass(frozen=True)
class CurrentAttainment:
    target: RevenueTarget
    start: datetime.date
    end: datetime.date
    won_cents: int | None  # None: a won deal's currency has no rate to the target's
    attainment: float | None


def current_attainment(user: User) -> list[CurrentAttainment]:
    """The targets of the periods running today that the user sees (their own quotas; every
    target of the teams whose figures they see), each with the revenue won so far in its currency.
    A fixed number of queries per target (one revenue sum per currency and one rate load)."""
    today = timezone.localdate(timezone=user.zone)
    targets = (
        RevenueTarget.objects.visible_to(user)
        # No period is longer than a quarter: older targets have ended.
        .filter(period_start__range=(today - datetime.timedelta(days=92), today))
        .select_related("team", "user")
        .order_by("user_id", "team__name", "period_type", "-period_start")[:HOME_TARGETS]
    )
    rows = []
    for target in targets:
        end = period_end(target.period_start, target.period_type)
        if end < today:
            continue
        entries = RevenueEntry.objects.filter(
            team_id=target.team_id, booked_on__range=(target.period_start, end)
        )
        if target.user_id is not None:
            entries = entries.filter(owner_id=target.user_id)
        sums = list(entries.values_list("currency").annotate(total=Sum("amount_cents")).order_by())
        try:
            rates = RateTable.load({c for c, _ in sums}, target.currency, today)
            won = sum(
                convert_minor(
                    total, code, target.currency, rates.rate(code, target.currency, today)
                )
                for code, total in sums
            )
        except MissingRateError:
            won = None
        rows.append(
            CurrentAttainment(
                target=target,
                start=target.period_start,
                end=end,
                won_cents=won,
                attainment=attainment(won, target.amount_cents),
            )
        )
    return rows
