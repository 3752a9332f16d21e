import datetime
import random
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from crm.models import Deal, DealStatus
from finance.models import ForecastBucket, ForecastDeal, ImportedForecast, RevenueForecast
from finance.periods import PeriodType, period_count, periods_between
from finance.services import forecast_generate
from tests.finance.factories import ExchangeRateFactory

pytestmark = pytest.mark.django_db

JAN1, MAR31 = datetime.date(2026, 1, 1), datetime.date(2026, 3, 31)


def _generate(actor, team, period_type=PeriodType.MONTHLY, start=JAN1, end=MAR31, **options):
    options.setdefault("currency", "EUR")
    options.setdefault("scope_user", None)
    return forecast_generate(
        actor=actor, team=team, period_type=period_type, start=start, end=end, **options
    )


def _rows(forecast):
    return {row.title: row for row in ForecastDeal.objects.filter(forecast=forecast)}


def test_expected_values_round_half_even_and_totals_are_sums_of_the_rows(manager, team, make_deal):
    make_deal(stage="Proposal", value_cents=12_345, title="Half down")  # 6172.5 -> 6172
    make_deal(stage="Lead", value_cents=1_235, title="Half up")  # 123.5 -> 124
    make_deal(stage="Negotiation", value_cents=1_001, title="Plain")  # 800.8 -> 801
    forecast = _generate(manager, team)
    rows = _rows(forecast)
    assert rows["Half down"].expected_value_cents == 6_172
    assert rows["Half up"].expected_value_cents == 124
    assert rows["Plain"].expected_value_cents == 801
    assert rows["Plain"].probability == 80
    stored = ForecastDeal.objects.filter(forecast=forecast).aggregate(s=Sum("expected_value_cents"))
    assert forecast.total_expected_cents == stored["s"] == 7_097
    january = forecast.buckets.get(period_start=JAN1)
    assert january.expected_cents == 7_097
    assert january.deal_count == 3


def test_foreign_deals_convert_at_the_rate_in_effect_directly_or_inverted(
    manager, team, make_deal, usd_pipeline
):
    ExchangeRateFactory(date=datetime.date(2026, 1, 10), base="USD", quote="EUR", rate="0.9")
    ExchangeRateFactory(date=datetime.date(2026, 2, 1), base="EUR", quote="USD", rate="1.25")
    make_deal(in_pipeline=usd_pipeline, value_cents=100_001, title="January")  # 15 Jan
    make_deal(
        in_pipeline=usd_pipeline,
        value_cents=100_000,
        close=datetime.date(2026, 2, 20),
        title="February",
    )
    forecast = _generate(manager, team)
    rows = _rows(forecast)
    assert rows["January"].rate == Decimal("0.9")
    assert rows["January"].value_cents == 90_001  # 90000.9 -> 90001
    assert rows["January"].expected_value_cents == 45_000  # 45000.5 -> 45000
    assert rows["February"].rate == Decimal("0.8")
    assert rows["February"].value_cents == 80_000
    assert rows["February"].deal_currency == "USD"
    assert rows["February"].deal_value_cents == 100_000


def test_a_missing_rate_names_the_pair_and_date_and_writes_nothing(
    manager, team, make_deal, usd_pipeline
):
    ExchangeRateFactory(date=datetime.date(2026, 2, 1), base="USD", quote="EUR", rate="0.9")
    make_deal(title="Home")
    make_deal(in_pipeline=usd_pipeline, title="Abroad", close=datetime.date(2026, 1, 20))
    with pytest.raises(ValidationError, match="from USD to EUR on or before 2026-01-20"):
        _generate(manager, team)
    assert not RevenueForecast.objects.exists()
    assert not ImportedForecast.objects.exists()


@pytest.mark.parametrize(
    ("period_type", "before", "after"),
    [
        (PeriodType.DAILY, datetime.date(2026, 1, 5), datetime.date(2026, 1, 6)),
        (PeriodType.WEEKLY, datetime.date(2026, 1, 4), datetime.date(2026, 1, 5)),  # Sun, Mon
        (PeriodType.MONTHLY, datetime.date(2026, 1, 31), datetime.date(2026, 2, 1)),
        (PeriodType.QUARTERLY, datetime.date(2026, 3, 31), datetime.date(2026, 4, 1)),
    ],
)
def test_deals_either_side_of_a_period_edge_land_in_different_buckets(
    manager, team, make_deal, period_type, before, after
):
    make_deal(close=before, value_cents=10_000, title="Before")
    make_deal(close=after, value_cents=20_000, title="After")
    forecast = _generate(
        manager, team, period_type, start=datetime.date(2026, 1, 1), end=datetime.date(2026, 6, 30)
    )
    rows = _rows(forecast)
    assert rows["Before"].period_start < rows["After"].period_start == after
    by_start = {b.period_start: b.expected_cents for b in forecast.buckets.all()}
    assert by_start[after] == 10_000
    assert by_start[rows["Before"].period_start] == 5_000


def test_the_range_includes_both_end_days_and_nothing_outside(manager, team, make_deal):
    make_deal(close=datetime.date(2026, 1, 10), title="First day")
    make_deal(close=datetime.date(2026, 1, 20), title="Last day")
    make_deal(close=datetime.date(2026, 1, 9), title="Day before")
    make_deal(close=datetime.date(2026, 1, 21), title="Day after")
    forecast = _generate(
        manager, team, PeriodType.WEEKLY, datetime.date(2026, 1, 10), datetime.date(2026, 1, 20)
    )
    assert set(_rows(forecast)) == {"First day", "Last day"}
    buckets = list(forecast.buckets.values_list("period_start", "period_end"))
    assert buckets[0] == (datetime.date(2026, 1, 10), datetime.date(2026, 1, 11))
    assert buckets[-1] == (datetime.date(2026, 1, 19), datetime.date(2026, 1, 20))


def test_won_deals_count_as_realized_lost_deals_do_not(manager, team, make_deal):
    make_deal(stage="Lead", value_cents=10_000, title="Open")
    make_deal(status=DealStatus.WON, value_cents=30_000, title="Won")
    make_deal(status=DealStatus.LOST, value_cents=50_000, title="Lost")
    make_deal(status=DealStatus.WON, close=datetime.date(2025, 12, 31), title="Won before")
    forecast = _generate(manager, team)
    rows = _rows(forecast)
    assert set(rows) == {"Open", "Won"}
    assert rows["Won"].realized and rows["Won"].probability == 100
    assert rows["Won"].expected_value_cents == 30_000
    assert forecast.realized_cents == 30_000
    assert forecast.total_expected_cents == 31_000
    total = forecast.confidence_interval["total"]
    # The lead is won with chance 10 %: P(S <= 30 000) = 0.9, so only the 95 % bound wins it.
    assert (total["p10"], total["p90"], total["high95"]) == (30_000, 30_000, 40_000)


def test_a_won_deal_counts_on_its_closing_day_in_the_forecasters_time_zone(
    manager, team, make_deal
):
    manager.time_zone = "Europe/Paris"
    closed = datetime.datetime(2026, 1, 31, 23, 30, tzinfo=datetime.UTC)  # 1 Feb in Paris
    make_deal(status=DealStatus.WON, closed_at=closed, value_cents=1_000, title="Late")
    forecast = _generate(manager, team)
    assert _rows(forecast)["Late"].on_date == datetime.date(2026, 2, 1)
    assert forecast.buckets.get(period_start=datetime.date(2026, 2, 1)).realized_cents == 1_000


def test_the_interval_is_stored_per_period_and_for_the_total_with_its_method(
    manager, team, make_deal
):
    make_deal(value_cents=100, title="A")
    make_deal(value_cents=200, title="B", close=datetime.date(2026, 1, 20))
    forecast = _generate(manager, team)
    interval = forecast.confidence_interval
    assert interval["method"] == "exact"
    assert "Bernoulli" in interval["model"]
    assert [p["start"] for p in interval["periods"]] == ["2026-01-01", "2026-02-01", "2026-03-01"]
    january = interval["periods"][0]
    assert (january["p10"], january["p50"], january["p90"]) == (0, 100, 300)
    bucket = ForecastBucket.objects.get(forecast=forecast, period_start=JAN1)
    assert (bucket.p10_cents, bucket.p90_cents, bucket.high95_cents) == (0, 300, 300)
    assert interval["total"]["p50"] == 100


def test_the_forecast_is_imported_into_finance_in_the_same_flow(manager, team, make_deal):
    make_deal(value_cents=10_000)
    forecast = _generate(manager, team)
    imported = ImportedForecast.objects.get(forecast=forecast)
    assert imported.total_expected_cents == forecast.total_expected_cents == 5_000
    assert imported.periods[0] == {
        "start": "2026-01-01",
        "end": "2026-01-31",
        "expected_cents": 5_000,
    }


def test_a_rep_forecasts_only_their_own_deals(rep, team, make_deal, manager):
    make_deal(title="Mine", owner=rep)
    make_deal(title="Theirs", owner=manager)
    forecast = _generate(rep, team, scope_user=rep)
    assert set(_rows(forecast)) == {"Mine"}
    with pytest.raises(ValidationError, match="may not forecast"):
        _generate(rep, team)
    with pytest.raises(ValidationError, match="may not forecast"):
        _generate(rep, team, scope_user=manager)


def test_outsiders_cannot_forecast_another_team(outsider, team):
    with pytest.raises(ValidationError, match="may not forecast"):
        _generate(outsider, team)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end": datetime.date(2025, 12, 31)}, "end date must be on or after"),
        ({"period_type": "yearly"}, "Unknown period type"),
        ({"currency": "XXX"}, "Unknown currency"),
        ({"period_type": PeriodType.DAILY, "end": datetime.date(2027, 12, 31)}, "more than 400"),
        (
            {"period_type": PeriodType.MONTHLY, "end": datetime.date(2100, 12, 31)},
            r"more than 400 periods \(900 months\)",
        ),
        (
            {
                "period_type": PeriodType.DAILY,
                "start": datetime.date(1, 1, 1),
                "end": datetime.date(9999, 12, 30),
            },
            "cover the years 2000 to 2100",
        ),
        ({"end": datetime.date(9999, 12, 31)}, "cover the years 2000 to 2100"),
        (
            {"period_type": PeriodType.QUARTERLY, "start": datetime.date(9990, 1, 1)},
            "cover the years 2000 to 2100",
        ),
    ],
)
def test_bad_requests_are_refused_with_a_message(manager, team, changes, message):
    options = {"period_type": PeriodType.MONTHLY, "start": JAN1, "end": MAR31, **changes}
    with pytest.raises(ValidationError, match=message):
        _generate(manager, team, **options)
    assert not RevenueForecast.objects.exists()


def _bulk_deals(pipeline, owner, count):
    stages = list(pipeline.stages.filter(is_won=False, is_lost=False))
    Deal.objects.bulk_create(
        Deal(
            pipeline=pipeline,
            stage=stages[i % len(stages)],
            owner=owner,
            title=f"Deal {i}",
            value_cents=10_000 + i * 7,
            currency=pipeline.currency,
            expected_close_date=JAN1 + datetime.timedelta(days=i % 90),
        )
        for i in range(count)
    )


def _queries_to_generate(manager, team):
    with CaptureQueriesContext(connection) as captured:
        forecast = _generate(manager, team)
    return len(captured), forecast


def test_the_number_of_queries_does_not_grow_with_the_number_of_deals(
    manager, team, pipeline, usd_pipeline, django_assert_max_num_queries
):
    ExchangeRateFactory(date=datetime.date(2025, 12, 31), base="USD", quote="EUR", rate="0.9")
    _bulk_deals(pipeline, manager, 90)
    _bulk_deals(usd_pipeline, manager, 10)
    small, forecast = _queries_to_generate(manager, team)
    assert forecast.deals.count() == 100
    _bulk_deals(pipeline, manager, 4_900)
    with django_assert_max_num_queries(small):
        large = _generate(manager, team)
    assert large.deals.count() == 5_000
    again, _ = _queries_to_generate(manager, team)
    # Never more; one fewer when no interval needs the deals' values (5,000 deals: normal).
    assert again <= small


def test_a_failing_import_leaves_no_forecast_rows_behind(manager, team, make_deal, monkeypatch):
    from finance import services

    make_deal(value_cents=10_000)

    def broken(**kwargs):
        raise ValidationError("finance import failed")

    monkeypatch.setattr(services, "revenue_forecast_import", broken)
    with pytest.raises(ValidationError, match="finance import failed"):
        _generate(manager, team)
    assert not RevenueForecast.objects.exists()
    assert not ForecastDeal.objects.exists()
    assert not ForecastBucket.objects.exists()


def test_the_database_cascades_deal_and_forecast_deletions(manager, team, make_deal):
    kept = make_deal(title="Kept")
    gone = make_deal(title="Gone")
    forecast = _generate(manager, team)
    Deal.objects.filter(pk=gone.pk).delete()
    assert set(_rows(forecast)) == {"Kept"}
    RevenueForecast.objects.filter(pk=forecast.pk).delete()
    assert not ForecastDeal.objects.exists()
    assert not ForecastBucket.objects.exists()
    assert not ImportedForecast.objects.exists()
    assert Deal.objects.filter(pk=kept.pk).exists()


def test_forecast_deals_have_the_composite_primary_key(manager, team, make_deal):
    deal = make_deal()
    forecast = _generate(manager, team)
    row = ForecastDeal.objects.get(pk=(forecast.pk, deal.pk))
    assert row.expected_value_cents == 50_000
    columns = connection.introspection.get_constraints(connection.cursor(), "forecast_deals")
    primary = [set(c["columns"]) for c in columns.values() if c["primary_key"]]
    assert primary == [{"forecast_id", "deal_id"}]


@pytest.mark.parametrize("period_type", PeriodType.values)
def test_periods_are_counted_by_arithmetic_as_many_as_are_built(period_type):
    rng = random.Random(period_type)  # noqa: S311 - test data, not secrets
    for _ in range(300):
        start = datetime.date(2000, 1, 1) + datetime.timedelta(days=rng.randrange(36_500))
        end = start + datetime.timedelta(days=rng.randrange(800))
        assert period_count(start, end, period_type) == len(
            periods_between(start, end, period_type)
        )
        assert period_count(end + datetime.timedelta(days=1), end, period_type) == 0
    assert period_count(datetime.date(1, 1, 1), datetime.date(9999, 12, 31), period_type) > 0


def test_a_range_is_refused_before_any_period_is_built(manager, team, monkeypatch):
    def refuse(*args):
        raise AssertionError("periods were built")

    monkeypatch.setattr("finance.forecasting.periods_between", refuse)
    monkeypatch.setattr("finance.database_forecast.periods_between", refuse)
    with pytest.raises(ValidationError, match=r"more than 400 periods \(36,890 days\)"):
        _generate(
            manager,
            team,
            period_type=PeriodType.DAILY,
            start=datetime.date(2000, 1, 1),
            end=datetime.date(2100, 12, 31),
        )
