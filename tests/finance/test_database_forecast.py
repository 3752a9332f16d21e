"""The PostgreSQL forecast (`finance.database_forecast`) against the Python one
(`deal_lines` + `evaluate`, which SQLite and the what-if scenarios use): the same deals must
give the same rows, buckets and intervals, to the cent."""

import datetime
import random
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from crm.models import Deal, DealStatus, ForecastCategory, PipelineStage, StageVisit
from finance import intervals
from finance.forecasting import evaluate
from finance.learned import forecast_probabilities
from finance.lines import deal_lines
from finance.models import ForecastBucket, ForecastDeal, ProbabilityChoice, RevenueForecast
from finance.periods import PeriodType
from finance.services import forecast_deal_row, forecast_generate, learned_probabilities_refit
from tests.crm.factories import PipelineFactory
from tests.finance.factories import ExchangeRateFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the database forecast is PostgreSQL's"
    ),
]

START, END = datetime.date(2026, 1, 1), datetime.date(2026, 6, 30)
STAGES = [
    ("Lead", 10, False, False),
    ("Proposal", 55, False, False),
    ("Verbal", 100, False, False),
    ("Dead end", 0, False, False),
    ("Won", 100, True, False),
    ("Lost", 0, False, True),
]
ROW_FIELDS = [
    "deal_id",
    "expected_value_cents",
    "probability",
    "realized",
    "on_date",
    "period_start",
    "deal_value_cents",
    "deal_currency",
    "rate",
    "value_cents",
    "stage_id",
    "stage_name",
    "title",
    "forecast_category",
]


def _rates():
    """Rates both ways, some on the same day (the direct one wins), with many decimals."""
    for day, base, quote, rate in [
        (datetime.date(2025, 12, 1), "USD", "EUR", "0.8523000001"),
        (datetime.date(2026, 2, 1), "EUR", "USD", "1.1733333333"),
        (datetime.date(2026, 3, 15), "USD", "EUR", "0.8812345678"),
        (datetime.date(2026, 3, 15), "EUR", "USD", "1.0"),
        (datetime.date(2025, 12, 1), "EUR", "JPY", "161.2345678901"),
        (datetime.date(2026, 4, 1), "JPY", "EUR", "0.0061234567"),
        (datetime.date(2025, 12, 1), "GBP", "EUR", "1.1500000000"),
    ]:
        ExchangeRateFactory(date=day, base=base, quote=quote, rate=rate)


def _deals(team, owners, count, seed):
    """`count` deals over four currencies and every kind of stage, some won late at night
    (their day depends on the zone), some worth nothing, some exactly half a cent off."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    pipelines = [
        PipelineFactory(team=team, name=f"Pipeline {code}", currency=code, stages=STAGES)
        for code in ("EUR", "USD", "JPY", "GBP")
    ]
    stages = {p.pk: list(p.stages.all()) for p in pipelines}
    deals = []
    for index in range(count):
        pipeline = rng.choice(pipelines)
        stage = rng.choice(stages[pipeline.pk])
        close = START + datetime.timedelta(days=rng.randrange(-10, 200))
        status = DealStatus.WON if stage.is_won else DealStatus.LOST if stage.is_lost else "open"
        closed_at = None
        if status != DealStatus.OPEN:
            closed_at = datetime.datetime.combine(
                close, datetime.time(rng.choice([0, 12, 22, 23]), 30), datetime.UTC
            )
        deals.append(
            Deal(
                pipeline=pipeline,
                stage=stage,
                owner=rng.choice(owners),
                title=rng.choice(["Renewal", "renewal", "Ärger", "Zebra", "A"]) + str(index % 7),
                value_cents=rng.choice([0, 1, 5, 50, 12_345, 2_500_050, rng.randrange(10**9)]),
                currency=pipeline.currency,
                expected_close_date=close,
                forecast_category=rng.choice(ForecastCategory.values),
                status=status,
                closed_at=closed_at,
            )
        )
    Deal.objects.bulk_create(deals)


def _python_path(team, scope_user, period_type, zone_name, currency="EUR", probabilities=None):
    lines = deal_lines(
        team=team,
        scope_user=scope_user,
        start=START,
        end=END,
        currency=currency,
        zone=zoneinfo.ZoneInfo(zone_name),
        probabilities=probabilities,
    )
    return evaluate(lines, period_type=period_type, start=START, end=END)


def _database_path(actor, team, scope_user, period_type, zone_name="UTC", currency="EUR"):
    return forecast_generate(
        actor=actor,
        team=team,
        scope_user=scope_user,
        period_type=period_type,
        start=START,
        end=END,
        currency=currency,
        time_zone=zone_name,
    )


def _rows(forecast):
    return sorted(
        (tuple(getattr(row, name) for name in ROW_FIELDS) for row in forecast.deals.all()),
        key=lambda row: str(row[0]),
    )


def _assert_same(forecast, outcome):
    expected_rows = sorted(
        (
            tuple(getattr(forecast_deal_row(forecast, line, first), name) for name in ROW_FIELDS)
            for line, first in outcome.lines
        ),
        key=lambda row: str(row[0]),
    )
    assert _rows(forecast) == expected_rows
    buckets = ForecastBucket.objects.filter(forecast=forecast).order_by("period_start")
    assert [
        (b.period_start, b.period_end, b.expected_cents, b.realized_cents, b.deal_count)
        for b in buckets
    ] == [
        (b.start, b.end, b.expected_cents, b.realized_cents, b.deal_count) for b in outcome.buckets
    ]
    assert forecast.total_expected_cents == outcome.total_expected_cents
    assert forecast.realized_cents == outcome.realized_cents
    assert forecast.confidence_interval == outcome.confidence_interval_json()


@pytest.mark.parametrize(
    ("period_type", "zone_name", "seed"),
    [
        (PeriodType.MONTHLY, "UTC", 1),
        (PeriodType.WEEKLY, "Europe/Berlin", 2),
        (PeriodType.DAILY, "America/New_York", 3),
        (PeriodType.QUARTERLY, "Asia/Tokyo", 4),
    ],
)
def test_the_database_and_python_forecasts_agree_to_the_cent(
    team, rep, manager, finance_user, period_type, zone_name, seed
):
    _rates()
    _deals(team, [rep, manager], 400, seed)
    outcome = _python_path(team, None, period_type, zone_name)
    assert outcome.deal_count > 200
    forecast = _database_path(finance_user, team, None, period_type, zone_name)
    _assert_same(forecast, outcome)


def test_one_members_forecast_in_a_currency_without_minor_units_agrees(team, rep, manager):
    _rates()
    ExchangeRateFactory(date=datetime.date(2025, 1, 1), base="USD", quote="JPY", rate="149.5")
    ExchangeRateFactory(date=datetime.date(2025, 1, 1), base="JPY", quote="GBP", rate="0.0052")
    _deals(team, [rep, manager], 300, 5)
    outcome = _python_path(team, rep, PeriodType.MONTHLY, "UTC", currency="JPY")
    forecast = _database_path(manager, team, rep, PeriodType.MONTHLY, "UTC", "JPY")
    assert {row[7] for row in _rows(forecast)} == {"EUR", "USD", "JPY", "GBP"}
    _assert_same(forecast, outcome)


@pytest.mark.parametrize(
    ("exact_max", "normal_max", "monte_carlo_max", "method"),
    [(10, 1.0, 10, "normal"), (10, 0.0, 10, "cornish_fisher"), (10, 0.0, 10**6, "monte_carlo")],
)
def test_every_interval_method_agrees(
    monkeypatch, team, rep, finance_user, exact_max, normal_max, monte_carlo_max, method
):
    monkeypatch.setattr(intervals, "EXACT_MAX_DEALS", exact_max)
    monkeypatch.setattr(intervals, "NORMAL_MAX_ERROR", normal_max)
    monkeypatch.setattr(intervals, "MONTE_CARLO_MAX_DEALS", monte_carlo_max)
    monkeypatch.setattr(intervals, "CORNISH_FISHER_MAX_BOUND", 10.0)
    _rates()
    _deals(team, [rep], 300, 6)
    outcome = _python_path(team, None, PeriodType.QUARTERLY, "UTC")
    forecast = _database_path(finance_user, team, None, PeriodType.QUARTERLY)
    assert forecast.confidence_interval["method"] == method
    _assert_same(forecast, outcome)


def test_a_missing_rate_names_the_same_deal_and_writes_nothing(team, rep, finance_user):
    _rates()
    _deals(team, [rep], 100, 7)
    chf = PipelineFactory(team=team, name="Swiss", currency="CHF", stages=STAGES)
    for day, title in [(datetime.date(2026, 3, 2), "Later"), (datetime.date(2026, 2, 9), "B")]:
        Deal.objects.create(
            pipeline=chf,
            stage=chf.stages.get(name="Lead"),
            owner=rep,
            title=title,
            value_cents=100,
            currency="CHF",
            expected_close_date=day,
        )
    with pytest.raises(ValidationError) as python_error:
        _python_path(team, None, PeriodType.MONTHLY, "UTC")
    with pytest.raises(ValidationError) as database_error:
        _database_path(finance_user, team, None, PeriodType.MONTHLY)
    assert database_error.value.messages == python_error.value.messages
    assert "CHF to EUR on or before 2026-02-09" in database_error.value.messages[0]
    assert not RevenueForecast.objects.exists()
    assert not ForecastDeal.objects.exists()


def test_the_rate_of_a_day_with_both_directions_is_the_direct_one(team, rep, finance_user):
    _rates()
    usd = PipelineFactory(team=team, name="USD", currency="USD", stages=STAGES)
    Deal.objects.create(
        pipeline=usd,
        stage=usd.stages.get(name="Lead"),
        owner=rep,
        title="Tie",
        value_cents=1_000,
        currency="USD",
        expected_close_date=datetime.date(2026, 3, 20),
    )
    forecast = _database_path(finance_user, team, None, PeriodType.MONTHLY)
    row = forecast.deals.get()
    assert row.rate == Decimal("0.8812345678")
    assert row.value_cents == 881  # 1,000 cents x 0.8812345678 = 881.23...


def test_deal_values_past_bigint_when_weighted_agree(team, rep, finance_user):
    """value x probability (in hundredths) passes bigint's range; the expected value fits."""
    _rates()
    pipeline = PipelineFactory(team=team, name="Huge", currency="EUR", stages=STAGES)
    Deal.objects.create(
        pipeline=pipeline,
        stage=pipeline.stages.get(name="Proposal"),
        owner=rep,
        title="Planet",
        value_cents=10**18 + 50,
        currency="EUR",
        expected_close_date=datetime.date(2026, 2, 2),
    )
    outcome = _python_path(team, None, PeriodType.MONTHLY, "UTC")
    forecast = _database_path(finance_user, team, None, PeriodType.MONTHLY)
    # (10**18 + 50) x 55 / 100 = 550,000,000,000,000,027.5: half-even gives ...028.
    assert forecast.deals.get().expected_value_cents == 550_000_000_000_000_028
    _assert_same(forecast, outcome)


def _learned_history(team, seed):
    """Two of the team's pipelines use learned probabilities; the closed deals get stage
    visits of 0 to 40 days with outcomes unlike the configured probabilities, and the open
    deals entered their stage 0 to 60 days ago, so every band is met."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    pipelines = list(team.pipelines.order_by("name"))
    for pipeline in pipelines[:2]:
        ProbabilityChoice.objects.create(pipeline=pipeline, use_learned=True)
    now = timezone.now()
    visits = []
    for deal in Deal.objects.filter(pipeline__team=team).exclude(status=DealStatus.OPEN):
        stage = rng.choice(list(deal.pipeline.stages.filter(is_won=False, is_lost=False)))
        days = rng.randrange(0, 41)
        entered = deal.closed_at - datetime.timedelta(days=days, hours=rng.randrange(24))
        visits.append(
            StageVisit(
                deal=deal,
                stage_id=stage.pk,
                stage_name=stage.name,
                entered_at=entered,
                left_at=deal.closed_at,
            )
        )
    StageVisit.objects.bulk_create(visits)
    learned_probabilities_refit(team=team)
    for deal in Deal.objects.filter(pipeline__team=team, status=DealStatus.OPEN):
        deal.stage_entered_at = now - datetime.timedelta(seconds=rng.randrange(60 * 86400))
        deal.save(update_fields=["stage_entered_at"])


def test_learned_probabilities_give_the_same_forecast_on_both_paths(
    team, rep, manager, finance_user
):
    _rates()
    _deals(team, [rep, manager], 400, 8)
    _learned_history(team, 8)
    forecast = _database_path(finance_user, team, None, PeriodType.MONTHLY, "Europe/Berlin")
    sources = forecast.probability_sources
    assert sorted(sources["pipelines"].values()) == [
        "configured",
        "configured",
        "learned",
        "learned",
    ]
    probabilities = forecast_probabilities(
        team.pk, datetime.datetime.fromisoformat(sources["as_of"])
    )
    configured = dict(PipelineStage.objects.values_list("pk", "probability"))
    learned_rows = [
        row
        for row in forecast.deals.filter(realized=False)
        if row.probability != configured[row.stage_id]
    ]
    assert len(learned_rows) > 20  # the learned probabilities were used
    outcome = _python_path(
        team, None, PeriodType.MONTHLY, "Europe/Berlin", probabilities=probabilities
    )
    _assert_same(forecast, outcome)
