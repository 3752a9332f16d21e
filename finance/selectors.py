"""Finance reads: who may forecast what, deals as forecast lines, actual revenue per period,
pipeline vs actual revenue, financial health metrics and forecast accuracy.

Every function reads in a fixed number of queries, whatever the number of deals.
"""

import dataclasses
import datetime
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from statistics import fmean
from uuid import UUID

from django.db.models import Case, Count, DateField, Max, Q, QuerySet, Sum, When
from django.db.models.functions import Trunc
from django.utils import timezone

from coop.models import Membership, Role, Team, User
from coop.money import CURRENCY_CHOICES
from crm.models import Deal, DealStatus
from finance.forecasting import Line
from finance.models import (
    ForecastDeal,
    ImportedForecast,
    RevenueEntry,
    RevenueForecast,
    RevenueTarget,
)
from finance.periods import PAST_PERIODS, PeriodType, period_end, period_start
from finance.rates import RateTable, convert_minor

_TRUNC_KIND = {
    PeriodType.DAILY: "day",
    PeriodType.WEEKLY: "week",
    PeriodType.MONTHLY: "month",
    PeriodType.QUARTERLY: "quarter",
}


# ---- Permissions -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Scope:
    team: Team
    user: User | None

    @property
    def key(self) -> str:
        return f"{self.team.pk}:{self.user.pk if self.user else 'team'}"

    @property
    def label(self) -> str:
        if self.user is None:
            return f"{self.team} — whole team"
        return f"{self.team} — {self.user}"


def full_access_team_ids(user: User) -> set:
    """Teams in which the user sees every forecast: finance staff and managers."""
    return set(
        Membership.objects.filter(user=user, role__in=[Role.MANAGER, Role.FINANCE]).values_list(
            "team_id", flat=True
        )
    )


def finance_team_ids(user: User) -> set:
    """Teams for which the user may enter revenue by hand: finance staff (staff: all)."""
    if user.is_staff:
        return set(Team.objects.values_list("pk", flat=True))
    return set(
        Membership.objects.filter(user=user, role=Role.FINANCE).values_list("team_id", flat=True)
    )


def forecast_scopes(user: User) -> list[Scope]:
    """What the user may forecast: a whole team and each of its members where they are finance
    staff or a manager (staff: every team); elsewhere only their own deals."""
    memberships = Membership.objects.select_related("team", "user").order_by(
        "team__name", "user__username"
    )
    if user.is_staff:
        full = set(Team.objects.values_list("pk", flat=True))
    else:
        full = full_access_team_ids(user)
    own = {m.team_id: m.team for m in memberships.filter(user=user)}
    rows = memberships.filter(Q(team_id__in=full) | Q(user=user))
    scopes, teams_done = [], set()
    for membership in rows:
        team = membership.team
        if team.pk in full and team.pk not in teams_done:
            scopes.append(Scope(team, None))
            teams_done.add(team.pk)
        if team.pk in full or (membership.user_id == user.pk and team.pk in own):
            scopes.append(Scope(team, membership.user))
    return scopes


def scope_allowed(user: User, team: Team, scope_user: User | None) -> bool:
    """May `user` forecast the team (scope_user None) or one member's deals?"""
    if (
        scope_user is not None
        and not Membership.objects.filter(user=scope_user, team=team).exists()
    ):
        return False
    if user.is_staff or team.pk in full_access_team_ids(user):
        return True
    return scope_user is not None and scope_user.pk == user.pk


def forecasts_visible_to(user: User) -> QuerySet[RevenueForecast]:
    return RevenueForecast.objects.visible_to(user).select_related("team", "scope_user", "user")


# ---- Deals as forecast lines -------------------------------------------------------------


def day_bounds(start: datetime.date, end: datetime.date, zone: zoneinfo.ZoneInfo):
    """[begin, finish): the instants of the days `start` to `end` in `zone`."""
    begin = datetime.datetime.combine(start, datetime.time.min, tzinfo=zone)
    finish = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, zone)
    return begin, finish


def _scoped_deals(team: Team, scope_user: User | None) -> QuerySet[Deal]:
    deals = Deal.objects.filter(pipeline__team=team)
    return deals.filter(owner=scope_user) if scope_user is not None else deals


def deal_lines(
    *,
    team: Team,
    scope_user: User | None,
    start: datetime.date,
    end: datetime.date,
    currency: str,
    zone: zoneinfo.ZoneInfo,
) -> list[Line]:
    """Open deals expected to close in [start, end] at their stage probability and deals won
    in it (their closing day in `zone`) as realized, converted into `currency` at the rate in
    effect on that day. Two queries: the deals, then the rates. Raises MissingRateError."""
    begin, finish = day_bounds(start, end, zone)
    rows = list(
        _scoped_deals(team, scope_user)
        .filter(
            Q(status=DealStatus.OPEN, expected_close_date__range=(start, end))
            | Q(status=DealStatus.WON, closed_at__gte=begin, closed_at__lt=finish)
        )
        .order_by("expected_close_date", "title", "id")
        .values_list(
            "id",
            "title",
            "stage_id",
            "stage__name",
            "stage__probability",
            "status",
            "expected_close_date",
            "closed_at",
            "value_cents",
            "currency",
        )
    )
    rates = RateTable.load({row[9] for row in rows}, currency, end)
    lines = []
    for (
        deal_id,
        title,
        stage_id,
        stage_name,
        probability,
        status,
        expected,
        closed_at,
        value,
        code,
    ) in rows:
        realized = status == DealStatus.WON
        on_date = closed_at.astimezone(zone).date() if realized else expected
        rate = rates.rate(code, currency, on_date)
        lines.append(
            Line(
                deal_id=deal_id,
                title=title,
                stage_id=stage_id,
                stage_name=stage_name,
                realized=realized,
                on_date=on_date,
                deal_value_cents=value,
                deal_currency=code,
                rate=rate,
                value_cents=convert_minor(value, code, currency, rate),
                probability=100 if realized else probability,
            )
        )
    return lines


def forecast_lines(forecast: RevenueForecast) -> list[Line]:
    """The deals a saved forecast counted, as lines (one query)."""
    return [
        Line(
            deal_id=row.deal_id,
            title=row.title,
            stage_id=row.stage_id,
            stage_name=row.stage_name,
            realized=row.realized,
            on_date=row.on_date,
            deal_value_cents=row.deal_value_cents,
            deal_currency=row.deal_currency,
            rate=row.rate,
            value_cents=row.value_cents,
            probability=row.probability,
        )
        for row in ForecastDeal.objects.filter(forecast=forecast).order_by("on_date", "title")
    ]


def forecast_stages(forecast: RevenueForecast) -> list[dict]:
    """The stages of the forecast's open deals with their probability (one per stage: the
    stage's when the forecast was made) and deal count."""
    return list(
        ForecastDeal.objects.filter(forecast=forecast, realized=False, stage_id__isnull=False)
        .values("stage_id", "stage_name")
        .annotate(deals=Count("deal_id"), probability=Max("probability"))
        .order_by("-probability", "stage_name")
    )


@dataclasses.dataclass(frozen=True)
class OpenDeals:
    stages: list[dict]  # as `forecast_stages`
    currencies: list[str]  # as `forecast_currencies`
    value_cents: int  # the open deals' value in the forecast's currency


def open_deal_groups(forecast: RevenueForecast) -> OpenDeals:
    """`forecast_stages`, `forecast_currencies` and the open pipeline's value from one query
    (the forecast page needs all three)."""
    rows = (
        ForecastDeal.objects.filter(forecast=forecast, realized=False)
        .values_list("stage_id", "stage_name", "deal_currency")
        .annotate(deals=Count("deal_id"), probability=Max("probability"), value=Sum("value_cents"))
        .order_by()
    )
    stages: dict[tuple, dict] = {}
    currencies, value = set(), 0
    for stage_id, stage_name, currency, deals, probability, total in rows:
        value += total
        if currency != forecast.currency:
            currencies.add(currency)
        if stage_id is None:
            continue
        stage = stages.setdefault(
            (stage_id, stage_name),
            {"stage_id": stage_id, "stage_name": stage_name, "deals": 0, "probability": 0},
        )
        stage["deals"] += deals
        stage["probability"] = max(stage["probability"], probability)
    return OpenDeals(
        stages=sorted(stages.values(), key=lambda s: (-s["probability"], s["stage_name"])),
        currencies=sorted(currencies),
        value_cents=value,
    )


def forecast_currencies(forecast: RevenueForecast) -> list[str]:
    return list(
        ForecastDeal.objects.filter(forecast=forecast, realized=False)
        .exclude(deal_currency=forecast.currency)
        .values_list("deal_currency", flat=True)
        .distinct()
        .order_by("deal_currency")
    )


# ---- Past periods: actual revenue, pipeline value, health metrics, accuracy -------------


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


def _as_date(value) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def page_rates(forecast: RevenueForecast) -> RateTable:
    """Every rate against the forecast's currency up to the latest day any past-period
    selector looks up (one query), for the `rates` argument of those selectors: a rate
    lookup answers the same from it as from the narrower table each would load."""
    latest = max(timezone.localdate(), forecast.forecast_date, forecast.end_date)
    return RateTable.load([code for code, _ in CURRENCY_CHOICES], forecast.currency, latest)


Groups = list[tuple[datetime.date, str, int]]  # (period start, currency, cents)


def revenue_groups(forecast: RevenueForecast) -> tuple[Groups, Groups]:
    """The revenue grouped by period and currency in the forecast's own window and in its
    past window, from one query (each group says which windows it falls in, as the two may
    overlap): the `groups` arguments of `actual_revenue_by_bucket` and `pipeline_vs_actual`."""
    window = past_window(forecast)
    own = (forecast.start_date, forecast.end_date)
    past = (window[0][0], window[-1][1])
    rows = (
        _revenue_entries(forecast.team, forecast.scope_user)
        .filter(Q(booked_on__range=own) | Q(booked_on__range=past))
        .annotate(
            period=Trunc("booked_on", _TRUNC_KIND[forecast.period_type], output_field=DateField()),
            in_own=Case(When(booked_on__range=own, then=True), default=False),
            in_past=Case(When(booked_on__range=past, then=True), default=False),
        )
        .values_list("period", "currency", "in_own", "in_past")
        .annotate(total=Sum("amount_cents"))
        .order_by()
    )
    own_groups: Groups = []
    past_groups: Groups = []
    for period, currency, in_own, in_past, total in rows:
        if in_own:
            own_groups.append((_as_date(period), currency, total))
        if in_past:
            past_groups.append((_as_date(period), currency, total))
    return own_groups, past_groups


def pipeline_vs_actual(
    forecast: RevenueForecast, rates: RateTable | None = None, groups: Groups | None = None
) -> list[dict]:
    """For each past period: the pipeline value (every deal that was expected to close in it,
    whatever became of it) and the actual revenue booked in it, in the forecast's currency.
    Both grouped in SQL by period and currency. Raises MissingRateError."""
    window = past_window(forecast)
    first, last = window[0][0], window[-1][1]
    kind = _TRUNC_KIND[forecast.period_type]
    today = timezone.localdate()
    if groups is None:
        groups = [
            (_as_date(p), c, t)
            for p, c, t in _revenue_entries(forecast.team, forecast.scope_user)
            .filter(booked_on__range=(first, last))
            .annotate(period=Trunc("booked_on", kind, output_field=DateField()))
            .values_list("period", "currency")
            .annotate(total=Sum("amount_cents"))
            .order_by()
        ]
    pipeline_rows = (
        _scoped_deals(forecast.team, forecast.scope_user)
        .filter(expected_close_date__range=(first, last))
        .annotate(period=Trunc("expected_close_date", kind, output_field=DateField()))
        .values_list("period", "currency")
        .annotate(total=Sum("value_cents"))
        .order_by()
    )
    options = {
        "period_type": forecast.period_type,
        "currency": forecast.currency,
        "today": today,
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


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def health_metrics(
    forecast: RevenueForecast,
    rates: RateTable | None = None,
    open_pipeline_cents: int | None = None,
) -> dict:
    """Win rate, average deal size and sales cycle over the past window; pipeline coverage of
    the forecast's remaining target. Raises MissingRateError. `open_pipeline_cents`: the
    value of its open deals when the caller has it (`open_deal_groups`)."""
    window = past_window(forecast)
    zone = zoneinfo.ZoneInfo(forecast.time_zone)
    begin, finish = day_bounds(window[0][0], window[-1][1], zone)
    closed = list(
        _scoped_deals(forecast.team, forecast.scope_user)
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
    target = _target_cents(forecast, rates)
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
        "open_pipeline_cents": open_pipeline,
        "remaining_target_cents": remaining,
        "coverage": _ratio(open_pipeline, remaining) if remaining and remaining > 0 else None,
    }


def _target_cents(forecast: RevenueForecast, rates: RateTable | None) -> int | None:
    """The team's targets for the forecast's periods, in its currency (None: none set, or a
    forecast of one rep, since targets are per team)."""
    if forecast.scope_user_id is not None:
        return None
    targets = list(
        RevenueTarget.objects.filter(
            team=forecast.team,
            period_type=forecast.period_type,
            period_start__range=(
                period_start(forecast.start_date, forecast.period_type),
                forecast.end_date,
            ),
        ).values_list("amount_cents", "currency")
    )
    if not targets:
        return None
    if rates is None:
        rates = RateTable.load({c for _, c in targets}, forecast.currency, forecast.forecast_date)
    return sum(
        convert_minor(
            a, c, forecast.currency, rates.rate(c, forecast.currency, forecast.forecast_date)
        )
        for a, c in targets
    )


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


def actual_revenue_by_bucket(
    forecast: RevenueForecast, rates: RateTable | None = None, groups: Groups | None = None
) -> dict[datetime.date, int]:
    """Revenue booked in each of the forecast's periods (keyed by the bucket's first day), in
    its currency, grouped in SQL. Raises MissingRateError."""
    if groups is None:
        groups = [
            (_as_date(p), c, t)
            for p, c, t in _revenue_entries(forecast.team, forecast.scope_user)
            .filter(booked_on__range=(forecast.start_date, forecast.end_date))
            .annotate(
                period=Trunc(
                    "booked_on", _TRUNC_KIND[forecast.period_type], output_field=DateField()
                )
            )
            .values_list("period", "currency")
            .annotate(total=Sum("amount_cents"))
            .order_by()
        ]
    totals = _convert_grouped(
        groups,
        period_type=forecast.period_type,
        currency=forecast.currency,
        today=timezone.localdate(),
        rates=rates,
    )
    return {max(start, forecast.start_date): cents for start, cents in totals.items()}


def scenario_levers(forecast: RevenueForecast) -> list[str]:
    """The what-if levers a scenario was saved with, in words (empty for a plain forecast)."""
    if not forecast.scenario:
        return []
    levers = forecast.scenario
    overrides = levers.get("stage_probabilities", {})
    names = dict(
        ForecastDeal.objects.filter(forecast=forecast, stage_id__in=list(overrides))
        .values_list("stage_id", "stage_name")
        .distinct()
    )
    words = [
        f"{names.get(UUID(stage_id), 'A stage')}: win probability {probability} %"
        for stage_id, probability in overrides.items()
    ]
    if Decimal(levers.get("value_change_percent", "0")):
        words.append(f"Open deal values changed by {levers['value_change_percent']} %")
    if levers.get("slip_percent"):
        words.append(f"{levers['slip_percent']} % of open deals slipped to the next period")
    if levers.get("shock_currency") and Decimal(levers.get("shock_percent", "0")):
        words.append(f"{levers['shock_currency']} rate changed by {levers['shock_percent']} %")
    return words or ["No lever changed"]
