"""Deals as forecast lines: the deals a forecast of a scope counts, read live, and what a
saved forecast counted (its lines, its open deals grouped by stage and currency, the levers
of a scenario).

Every function reads in a fixed number of queries, whatever the number of deals.
"""

import dataclasses
import datetime
import zoneinfo
from decimal import Decimal
from uuid import UUID

from django.db.models import Count, Max, Q, Sum
from django.utils.translation import gettext

from coop.models import Team, User
from crm.models import DealStatus
from finance.forecasting import Line
from finance.learned import ForecastProbabilities
from finance.models import CLOSED_CATEGORY, ForecastDeal, RevenueForecast
from finance.rates import RateTable, convert_minor
from finance.scopes import scope_deals


def day_bounds(start: datetime.date, end: datetime.date, zone: zoneinfo.ZoneInfo):
    """[begin, finish): the instants of the days `start` to `end` in `zone`."""
    begin = datetime.datetime.combine(start, datetime.time.min, tzinfo=zone)
    finish = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, zone)
    return begin, finish


def deal_lines(
    *,
    team: Team,
    scope_user: User | None,
    start: datetime.date,
    end: datetime.date,
    currency: str,
    zone: zoneinfo.ZoneInfo,
    probabilities: ForecastProbabilities | None = None,
) -> list[Line]:
    """Open deals expected to close in [start, end] at their stage probability (the learned
    one where `probabilities` has it) and deals won in it (their closing day in `zone`) as
    realized, converted into `currency` at the rate in effect on that day. Two queries: the
    deals, then the rates. Raises MissingRateError."""
    begin, finish = day_bounds(start, end, zone)
    rows = list(
        scope_deals(team, scope_user)
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
            "forecast_category",
            "stage_entered_at",
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
        category,
        entered_at,
    ) in rows:
        realized = status == DealStatus.WON
        on_date = closed_at.astimezone(zone).date() if realized else expected
        rate = rates.rate(code, currency, on_date)
        if probabilities is not None and not realized:
            probability = probabilities.probability(stage_id, probability, entered_at)
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
                forecast_category=CLOSED_CATEGORY if realized else category,
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
            forecast_category=row.forecast_category,
        )
        for row in ForecastDeal.objects.filter(forecast=forecast).order_by("on_date", "title")
    ]


@dataclasses.dataclass(frozen=True)
class OpenDeals:
    # One dict per stage (stage_id, stage_name, deals, probability: the stage's when the
    # forecast was made), highest probability first, then by name.
    stages: list[dict]
    currencies: list[str]  # the open deals' currencies other than the forecast's, sorted
    value_cents: int  # the open deals' value in the forecast's currency


def open_deal_groups(forecast: RevenueForecast) -> OpenDeals:
    """The stages and currencies of the forecast's open deals and their value, from one query
    (the forecast page and its what-if form need all three)."""
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
        gettext("%(stage)s: win probability %(probability)s %%")
        % {"stage": names.get(UUID(stage_id), gettext("A stage")), "probability": probability}
        for stage_id, probability in overrides.items()
    ]
    if Decimal(levers.get("value_change_percent", "0")):
        words.append(
            gettext("Open deal values changed by %(percent)s %%")
            % {"percent": levers["value_change_percent"]}
        )
    if levers.get("slip_percent"):
        words.append(
            gettext("%(percent)s %% of open deals slipped to the next period")
            % {"percent": levers["slip_percent"]}
        )
    if levers.get("shock_currency") and Decimal(levers.get("shock_percent", "0")):
        words.append(
            gettext("%(currency)s rate changed by %(percent)s %%")
            % {"currency": levers["shock_currency"], "percent": levers["shock_percent"]}
        )
    return words or [gettext("No lever changed")]
