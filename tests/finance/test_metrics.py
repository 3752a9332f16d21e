import datetime

import pytest

from crm.models import Deal, DealStatus
from finance.forecasting import WhatIf
from finance.past_periods import (
    financial_kpis,
    forecast_accuracy,
    past_window,
    pipeline_vs_actual,
)
from finance.services import scenario_save
from tests.finance.factories import RevenueEntryFactory, RevenueTargetFactory, generate_forecast

pytestmark = pytest.mark.django_db

D = datetime.date


def _forecast(manager, team, start, end, made_on=None, scope_user=None):
    forecast = generate_forecast(manager, team, scope_user=scope_user, start=start, end=end)
    if made_on:
        forecast.forecast_date = made_on
        forecast.save(update_fields=["forecast_date"])
    return forecast


def _created(deal, day):
    created = datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)
    Deal.objects.filter(pk=deal.pk).update(created_at=created)


def test_the_past_window_is_the_complete_periods_before_the_forecast_date(manager, team):
    forecast = _forecast(manager, team, D(2026, 1, 1), D(2026, 3, 31), made_on=D(2026, 1, 10))
    window = past_window(forecast)
    assert window[0] == (D(2025, 7, 1), D(2025, 7, 31))
    assert window[-1] == (D(2025, 12, 1), D(2025, 12, 31))
    assert len(window) == 6


def test_financial_kpis_by_hand(manager, team, make_deal):
    _created(
        make_deal(status=DealStatus.WON, close=D(2025, 10, 1), value_cents=10_000), D(2025, 9, 1)
    )
    _created(
        make_deal(status=DealStatus.WON, close=D(2025, 11, 11), value_cents=30_000), D(2025, 10, 2)
    )
    make_deal(status=DealStatus.LOST, close=D(2025, 12, 5))
    make_deal(status=DealStatus.WON, close=D(2025, 5, 5))  # before the window
    make_deal(status=DealStatus.WON, close=D(2026, 1, 5), value_cents=50_000)  # realized
    make_deal(close=D(2026, 2, 1), value_cents=100_000)
    make_deal(close=D(2026, 3, 1), value_cents=400_000)
    for month in (1, 2, 3):
        RevenueTargetFactory(team=team, period_start=D(2026, month, 1), amount_cents=100_000)
    forecast = _forecast(manager, team, D(2026, 1, 1), D(2026, 3, 31), made_on=D(2026, 1, 10))
    kpis = financial_kpis(forecast)
    assert (kpis["won_deals"], kpis["closed_deals"]) == (2, 3)
    assert kpis["win_rate"] == pytest.approx(2 / 3)
    assert kpis["average_deal_cents"] == 20_000
    assert kpis["average_cycle_days"] == pytest.approx(35)
    assert kpis["target_cents"] == 300_000
    assert kpis["remaining_target_cents"] == 250_000
    assert kpis["open_pipeline_cents"] == 500_000
    assert kpis["coverage"] == pytest.approx(2.0)


def test_a_reps_forecast_counts_the_reps_own_target_not_the_teams(rep, team, make_deal):
    RevenueTargetFactory(team=team, period_start=D(2026, 1, 1))
    forecast = _forecast(rep, team, D(2026, 1, 1), D(2026, 1, 31), scope_user=rep)
    assert financial_kpis(forecast)["target_cents"] is None
    assert financial_kpis(forecast)["coverage"] is None
    RevenueTargetFactory(team=team, user=rep, period_start=D(2026, 1, 1), amount_cents=40_000)
    assert financial_kpis(forecast)["target_cents"] == 40_000


def test_pipeline_vs_actual_per_past_period(manager, team, make_deal):
    make_deal(close=D(2025, 11, 3), value_cents=70_000)  # still open: pipeline only
    make_deal(status=DealStatus.WON, close=D(2025, 11, 20), value_cents=30_000)
    make_deal(status=DealStatus.LOST, close=D(2025, 12, 2), value_cents=5_000)
    RevenueEntryFactory(team=team, booked_on=D(2025, 11, 20), amount_cents=30_000)
    RevenueEntryFactory(team=team, booked_on=D(2025, 12, 31), amount_cents=1_000)
    RevenueEntryFactory(team=team, booked_on=D(2026, 1, 1), amount_cents=9_999)  # not past
    forecast = _forecast(manager, team, D(2026, 1, 1), D(2026, 3, 31), made_on=D(2026, 1, 10))
    periods = {
        p["start"]: (p["pipeline_cents"], p["actual_cents"]) for p in pipeline_vs_actual(forecast)
    }
    assert periods[D(2025, 11, 1)] == (100_000, 30_000)
    assert periods[D(2025, 12, 1)] == (5_000, 1_000)
    assert periods[D(2025, 10, 1)] == (0, 0)


def test_forecast_accuracy_compares_earlier_forecasts_with_revenue_booked(manager, team, make_deal):
    make_deal(close=D(2025, 10, 15), value_cents=100_000)
    make_deal(close=D(2025, 11, 15), value_cents=100_000)
    earlier = _forecast(manager, team, D(2025, 10, 1), D(2025, 12, 31))  # 500, 500, 0 EUR
    scenario_save(actor=manager, baseline=earlier, what_if=WhatIf(slip_percent=100), name="S")
    RevenueEntryFactory(team=team, booked_on=D(2025, 10, 31), amount_cents=40_000)
    RevenueEntryFactory(team=team, booked_on=D(2025, 11, 1), amount_cents=60_000)
    RevenueEntryFactory(team=team, booked_on=D(2025, 11, 30), amount_cents=40_000)
    current = _forecast(manager, team, D(2026, 1, 1), D(2026, 3, 31))
    accuracy = forecast_accuracy(current)
    # October: F 50 000 vs A 40 000 -> +25 %; November: 50 000 vs 100 000 -> -50 %;
    # December had no revenue: skipped (a percentage error of nothing is undefined).
    assert accuracy["forecasts"] == 1
    assert (accuracy["periods"], accuracy["skipped"]) == (2, 1)
    assert accuracy["mape"] == pytest.approx(0.375)
    assert accuracy["bias"] == pytest.approx(-0.125)


def test_forecast_accuracy_without_history_says_so(manager, team):
    current = _forecast(manager, team, D(2026, 1, 1), D(2026, 3, 31))
    assert forecast_accuracy(current) == {
        "forecasts": 0,
        "periods": 0,
        "skipped": 0,
        "mape": None,
        "bias": None,
    }
