import datetime
import uuid
from decimal import Decimal

from finance.forecasting import Line, WhatIf, apply_what_if, evaluate
from finance.intervals import WorkBudget

JAN1, MAR31 = datetime.date(2026, 1, 1), datetime.date(2026, 3, 31)
LEAD, PROPOSAL = uuid.uuid4(), uuid.uuid4()


def _line(
    title,
    on_date,
    value=100_000,
    probability=50,
    stage=PROPOSAL,
    currency="EUR",
    rate="1",
    realized=False,
):
    rate = Decimal(rate)
    converted = value if currency == "EUR" else int((Decimal(value) * rate).to_integral_value())
    return Line(
        deal_id=uuid.uuid4(),
        title=title,
        stage_id=None if realized else stage,
        stage_name="Won" if realized else "Stage",
        realized=realized,
        on_date=on_date,
        deal_value_cents=value,
        deal_currency=currency,
        rate=rate,
        value_cents=converted,
        probability=100 if realized else probability,
        forecast_category="closed" if realized else "pipeline",
    )


def _apply(lines, what_if):
    changed = apply_what_if(
        lines, what_if, period_type="monthly", start=JAN1, report_currency="EUR"
    )
    return {line.title: line for line in changed}


def test_a_stage_override_changes_only_that_stages_deals():
    lines = [_line("a", JAN1, stage=LEAD, probability=10), _line("b", JAN1)]
    changed = _apply(lines, WhatIf(stage_probabilities={str(LEAD): 40}))
    assert changed["a"].probability == 40 and changed["a"].expected_cents == 40_000
    assert changed["b"].probability == 50


def test_a_value_change_scales_open_deals_half_even_and_leaves_won_revenue():
    lines = [_line("open", JAN1, value=12_345), _line("won", JAN1, value=10_000, realized=True)]
    changed = _apply(lines, WhatIf(value_change_percent=Decimal("-10")))
    assert changed["open"].deal_value_cents == 11_110  # 11110.5 -> 11110
    assert changed["open"].value_cents == 11_110
    assert changed["won"].value_cents == 10_000


def test_a_rate_shock_moves_the_converted_value_of_that_currency_only():
    lines = [_line("usd", JAN1, value=100_000, currency="USD", rate="0.9"), _line("eur", JAN1)]
    changed = _apply(lines, WhatIf(shock_currency="USD", shock_percent=Decimal("-10")))
    assert changed["usd"].rate == Decimal("0.81")
    assert changed["usd"].value_cents == 81_000
    assert changed["eur"].value_cents == 100_000


def test_slipping_moves_the_latest_share_of_each_periods_deals_to_the_next_period():
    lines = [
        _line("early", datetime.date(2026, 1, 5)),
        _line("middle", datetime.date(2026, 1, 15)),
        _line("late", datetime.date(2026, 1, 25)),
        _line("last", datetime.date(2026, 1, 30)),
        _line("march", datetime.date(2026, 3, 10)),
        _line("march late", datetime.date(2026, 3, 20)),
        _line("alone", datetime.date(2026, 2, 10)),
    ]
    changed = _apply(lines, WhatIf(slip_percent=50))
    assert changed["late"].on_date == changed["last"].on_date == datetime.date(2026, 2, 1)
    assert changed["early"].on_date == datetime.date(2026, 1, 5)
    assert changed["march late"].on_date == datetime.date(2026, 4, 1)
    assert changed["alone"].on_date == datetime.date(2026, 2, 10)  # half of 1 deal rounds to 0
    outcome = evaluate(changed.values(), period_type="monthly", start=JAN1, end=MAR31)
    assert [b.deal_count for b in outcome.buckets] == [2, 3, 1]
    assert outcome.total_expected_cents == 300_000  # "march late" slipped out of the range


def test_the_neutral_what_if_reproduces_the_forecast():
    lines = [_line("a", JAN1, value=33_333, probability=33), _line("b", MAR31)]
    base = evaluate(lines, period_type="monthly", start=JAN1, end=MAR31)
    assert WhatIf().is_neutral
    again = evaluate(_apply(lines, WhatIf()).values(), period_type="monthly", start=JAN1, end=MAR31)
    assert again == base


def test_a_neutral_what_if_on_a_saved_forecast_changes_nothing_even_with_inverted_rates(
    db, manager, team, make_deal, usd_pipeline
):
    from finance.services import what_if_outcome
    from tests.finance.factories import ExchangeRateFactory, generate_forecast

    ExchangeRateFactory(date=JAN1, base="EUR", quote="USD", rate="1.17")  # USD->EUR 1/1.17
    for index in range(40):
        make_deal(in_pipeline=usd_pipeline, value_cents=99_917 + 1_013 * index, title=f"{index}")
    forecast = generate_forecast(manager, team)
    outcome = what_if_outcome(forecast, WhatIf())
    assert outcome.total_expected_cents == forecast.total_expected_cents
    assert outcome.confidence_interval_json() == forecast.confidence_interval


def test_a_what_if_spends_at_most_its_work_budget_on_intervals(
    db, manager, team, make_deal, monkeypatch
):
    from finance import intervals, services
    from tests.finance.factories import generate_forecast

    for index in range(12):
        make_deal(value_cents=10_000 + index, title=f"{index}")
    forecast = generate_forecast(manager, team)
    assert services.what_if_outcome(forecast, WhatIf()).interval["method"] == "exact"

    def too_costly(*args):
        raise AssertionError("past the budget, no exact or simulated interval")

    monkeypatch.setattr(services, "WHAT_IF_WORK", 0)
    monkeypatch.setattr(intervals, "_exact", too_costly)
    monkeypatch.setattr(intervals, "_monte_carlo", too_costly)
    outcome = services.what_if_outcome(forecast, WhatIf(slip_percent=50))
    for interval in [outcome.interval, *(bucket.interval for bucket in outcome.buckets)]:
        if interval["uncertain_deals"]:
            assert interval["method"] == "cornish_fisher"
            assert interval["parameters"]["instead_of"] == "exact"


def test_a_large_what_if_simulates_no_period_past_the_budget():
    """3,000 deals a month and one dominant deal: January and the total would each be a
    Monte Carlo simulation of 20,000 draws (seconds each, recomputed per keystroke)."""
    lines = [
        _line(f"{month}-{index}", datetime.date(2026, month, 1 + index % 28), value=1_000)
        for month in (1, 2, 3)
        for index in range(3_000)
    ] + [_line("dominant", JAN1, value=10**10)]
    budget = WorkBudget(50_000_000)
    outcome = evaluate(lines, period_type="monthly", start=JAN1, end=MAR31, budget=budget)
    january = outcome.buckets[0].interval
    for interval in (outcome.interval, january):
        assert interval["method"] == "cornish_fisher"
        assert interval["parameters"]["instead_of"] == "monte_carlo"
    assert budget.numbers == 50_000_000
