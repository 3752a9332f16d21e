"""A forecast against what happened: actual revenue in its periods, pipeline value against
actual revenue in the periods before it, its financial KPIs (win rate, deal size, sales cycle,
pipeline coverage) and the accuracy of earlier forecasts.

Every function reads in a fixed number of queries, whatever the number of deals or entries.
Amounts are in the forecast's currency; a missing rate raises MissingRateError.
"""

import datetime
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import reduce
from operator import or_
from statistics import fmean

from django.db.models import Case, DateField, Q, QuerySet, Sum, When
from django.db.models.functions import Trunc
from django.utils import timezone

from coop.models import Team, User
from coop.money import CURRENCY_CHOICES
from crm.models import DealStatus
from finance.lines import day_bounds
from finance.models import (
    ForecastDeal,
    ImportedForecast,
    RevenueEntry,
    RevenueForecast,
)
from finance.periods import PAST_PERIODS, PeriodType, period_end, period_start
from finance.rates import RateTable, convert_minor
from finance.scopes import scope_deals
from finance.targets import forecast_targets

_TRUNC_KIND = {
    PeriodType.DAILY: "day",
    PeriodType.WEEKLY: "week",
    PeriodType.MONTHLY: "month",
    PeriodType.QUARTERLY: "quarter",
}

Groups = list[tuple[datetime.date, str, int]]  # (period start, currency, cents)


def past_window(forecast: RevenueForecast) -> list[tuple[datetime.date, datetime.date]]:
    """The complete periods before the one containing the forecast's date, oldest first."""
    count = PAST_PERIODS[forecast.period_type]
    current = period_start(forecast.forecast_date, forecast.period_type)
    starts = []
    for _ in range(count):
        current = period_start(current - datetime.timedelta(days=1), forecast.period_type)
        starts.append(current)
    return [(s, period_end(s, forecast.period_type)) for s in reversed(starts)]


def _revenue_entries(team: Team, scope_user: User | None) -> QuerySet[RevenueEntry]:
    entries = RevenueEntry.objects.filter(team=team)
    return entries.filter(owner=scope_user) if scope_user is not None else entries


def _as_date(value) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def _revenue_by_period(
    forecast: RevenueForecast, windows: Sequence[tuple[datetime.date, datetime.date]]
) -> list[Groups]:
    """The forecast's revenue booked in each window, grouped by the forecast's period and by
    currency, from one query. The windows may overlap: each group says which it falls in."""
    flags = {
        f"in_{index}": Case(When(booked_on__range=window, then=True), default=False)
        for index, window in enumerate(windows)
    }
    rows = (
        _revenue_entries(forecast.team, forecast.scope_user)
        .filter(reduce(or_, (Q(booked_on__range=window) for window in windows)))
        .annotate(
            period=Trunc("booked_on", _TRUNC_KIND[forecast.period_type], output_field=DateField()),
            **flags,
        )
        .values_list("period", "currency", *flags)
        .annotate(total=Sum("amount_cents"))
        .order_by()
    )
    groups: list[Groups] = [[] for _ in windows]
    for period, currency, *inside, total in rows:
        for window_groups, is_inside in zip(groups, inside, strict=True):
            if is_inside:
                window_groups.append((_as_date(period), currency, total))
    return groups


def revenue_groups(forecast: RevenueForecast) -> tuple[Groups, Groups]:
    """The revenue grouped by period and currency in the forecast's own window and in its
    past window, from one query: the `groups` arguments of `actual_revenue_by_bucket` and
    `pipeline_vs_actual`."""
    window = past_window(forecast)
    own, past = _revenue_by_period(
        forecast, [(forecast.start_date, forecast.end_date), (window[0][0], window[-1][1])]
    )
    return own, past


def _convert_grouped(
    groups: Iterable[tuple[datetime.date, str, int]],
    *,
    period_type: str,
    currency: str,
    today: datetime.date,
    rates: RateTable | None = None,
) -> dict[datetime.date, int]:
    """Sum (period start, currency, cents) groups into `currency`, each at the rate in effect
    on the period's last day (today for the current period)."""
    groups = list(groups)
    latest = max((period_end(s, period_type) for s, _, _ in groups), default=today)
    if rates is None:
        rates = RateTable.load({code for _, code, _ in groups}, currency, min(latest, today))
    totals: dict[datetime.date, int] = defaultdict(int)
    for start, code, cents in groups:
        on = min(period_end(start, period_type), today)
        totals[start] += convert_minor(cents, code, currency, rates.rate(code, currency, on))
    return totals


def page_rates(forecast: RevenueForecast) -> RateTable:
    """Every rate against the forecast's currency up to the latest day any function here
    looks up (one query), for their `rates` argument: a rate lookup answers the same from it
    as from the narrower table each would load."""
    latest = max(timezone.localdate(), forecast.forecast_date, forecast.end_date)
    return RateTable.load([code for code, _ in CURRENCY_CHOICES], forecast.currency, latest)


def pipeline_vs_actual(
    forecast: RevenueForecast, rates: RateTable | None = None, groups: Groups | None = None
) -> list[dict]:
    """For each past period: the pipeline value (every deal that was expected to close in it,
    whatever became of it) and the actual revenue booked in it, in the forecast's currency.
    Both grouped in SQL by period and currency. Raises MissingRateError."""
    window = past_window(forecast)
    first, last = window[0][0], window[-1][1]
    kind = _TRUNC_KIND[forecast.period_type]
    if groups is None:
        [groups] = _revenue_by_period(forecast, [(first, last)])
    pipeline_rows = (
        scope_deals(forecast.team, forecast.scope_user)
        .filter(expected_close_date__range=(first, last))
        .annotate(period=Trunc("expected_close_date", kind, output_field=DateField()))
        .values_list("period", "currency")
        .annotate(total=Sum("value_cents"))
        .order_by()
    )
    options = {
        "period_type": forecast.period_type,
        "currency": forecast.currency,
        "today": timezone.localdate(),
        "rates": rates,
    }
    actual = _convert_grouped(groups, **options)
    pipeline = _convert_grouped(((_as_date(p), c, t) for p, c, t in pipeline_rows), **options)
    return [
        {
            "start": s,
            "end": e,
            "pipeline_cents": pipeline.get(s, 0),
            "actual_cents": actual.get(s, 0),
        }
        for s, e in window
    ]


def actual_revenue_by_bucket(
    forecast: RevenueForecast, rates: RateTable | None = None, groups: Groups | None = None
) -> dict[datetime.date, int]:
    """Revenue booked in each of the forecast's periods (keyed by the bucket's first day), in
    its currency, grouped in SQL. Raises MissingRateError."""
    if groups is None:
        [groups] = _revenue_by_period(forecast, [(forecast.start_date, forecast.end_date)])
    totals = _convert_grouped(
        groups,
        period_type=forecast.period_type,
        currency=forecast.currency,
        today=timezone.localdate(),
        rates=rates,
    )
    return {max(start, forecast.start_date): cents for start, cents in totals.items()}


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def financial_kpis(
    forecast: RevenueForecast,
    rates: RateTable | None = None,
    open_pipeline_cents: int | None = None,
) -> dict:
    """Win rate, average deal size and sales cycle over the past window; pipeline coverage of
    the forecast's remaining target (and each period's target, `period_targets`). Raises
    MissingRateError. `open_pipeline_cents`: the
    value of its open deals when the caller has it (`finance.lines.open_deal_groups`)."""
    window = past_window(forecast)
    zone = zoneinfo.ZoneInfo(forecast.time_zone)
    begin, finish = day_bounds(window[0][0], window[-1][1], zone)
    closed = list(
        scope_deals(forecast.team, forecast.scope_user)
        .filter(closed_at__gte=begin, closed_at__lt=finish)
        .values_list("status", "value_cents", "currency", "created_at", "closed_at")
    )
    won = [row for row in closed if row[0] == DealStatus.WON]
    if rates is None:
        rates = RateTable.load({row[2] for row in won}, forecast.currency, forecast.forecast_date)
    won_values = [
        convert_minor(
            v, c, forecast.currency, rates.rate(c, forecast.currency, forecast.forecast_date)
        )
        for _, v, c, _, _ in won
    ]
    cycle_days = [(closed_at - created).total_seconds() / 86400 for *_, created, closed_at in won]
    open_pipeline = open_pipeline_cents
    if open_pipeline is None:
        open_pipeline = (
            ForecastDeal.objects.filter(forecast=forecast, realized=False).aggregate(
                total=Sum("value_cents")
            )["total"]
            or 0
        )
    period_targets = forecast_targets(forecast, rates)
    target = sum(period_targets.values()) if period_targets else None
    remaining = None if target is None else target - forecast.realized_cents
    return {
        "window_start": window[0][0],
        "window_end": window[-1][1],
        "closed_deals": len(closed),
        "won_deals": len(won),
        "win_rate": _ratio(len(won), len(closed)),
        "average_deal_cents": round(fmean(won_values)) if won_values else None,
        "average_cycle_days": fmean(cycle_days) if cycle_days else None,
        "target_cents": target,
        "period_targets": period_targets,
        "open_pipeline_cents": open_pipeline,
        "remaining_target_cents": remaining,
        "coverage": _ratio(open_pipeline, remaining) if remaining and remaining > 0 else None,
    }


def forecast_accuracy(forecast: RevenueForecast, rates: RateTable | None = None) -> dict:
    """How earlier forecasts of the same scope and period type did: for each of their periods
    that has ended, forecast F against the revenue A actually booked in it (converted into
    that forecast's currency). MAPE = mean |F - A| / A and bias = mean (F - A) / A over the
    periods with revenue (positive bias: forecasts were too high). Scenarios are left out."""
    today = timezone.localdate()
    earlier = list(
        ImportedForecast.objects.filter(
            team=forecast.team,
            scope_user=forecast.scope_user,
            period_type=forecast.period_type,
            forecast__baseline__isnull=True,
            forecast__created_at__lt=forecast.created_at,
            start_date__lt=today,
        ).order_by("start_date")[:50]
    )
    pairs = [
        (
            imported.currency,
            datetime.date.fromisoformat(p["start"]),
            datetime.date.fromisoformat(p["end"]),
            p["expected_cents"],
        )
        for imported in earlier
        for p in imported.periods
        if datetime.date.fromisoformat(p["end"]) < today
    ]
    if not pairs:
        return {"forecasts": 0, "periods": 0, "skipped": 0, "mape": None, "bias": None}
    first = min(p[1] for p in pairs)
    last = max(p[2] for p in pairs)
    daily = list(
        _revenue_entries(forecast.team, forecast.scope_user)
        .filter(booked_on__range=(first, last))
        .values_list("booked_on", "currency")
        .annotate(total=Sum("amount_cents"))
        .order_by()
    )
    if rates is None:
        rates = RateTable.load(
            {c for _, c, _ in daily} | {p[0] for p in pairs}, forecast.currency, last
        )
    errors, skipped = [], 0
    for currency, start, end, expected in pairs:
        actual = sum(
            convert_minor(
                total, code, currency, _cross_rate(rates, code, currency, forecast.currency, end)
            )
            for day, code, total in daily
            if start <= day <= end
        )
        if actual <= 0:
            skipped += 1
            continue
        errors.append((expected - actual) / actual)
    return {
        "forecasts": len(earlier),
        "periods": len(errors),
        "skipped": skipped,
        "mape": fmean(abs(e) for e in errors) if errors else None,
        "bias": fmean(errors) if errors else None,
    }


def _cross_rate(rates: RateTable, base: str, quote: str, via: str, on: datetime.date) -> Decimal:
    """base -> quote through the loaded pairs (each currency is loaded against `via`)."""
    if base == quote:
        return Decimal(1)
    return rates.rate(base, via, on) * rates.rate(via, quote, on)
