import itertools

import numpy as np
import pytest

from finance import intervals
from finance.intervals import QUANTILES, revenue_interval, simulate_totals


def _brute_force(realized, values, probabilities):
    """Quantiles by enumerating every win/lose combination (the definition, nothing else)."""
    outcomes = []
    for wins in itertools.product([0, 1], repeat=len(values)):
        chance = 1.0
        total = realized
        for won, v, p in zip(wins, values, probabilities, strict=True):
            chance *= p / 100 if won else 1 - p / 100
            total += v * won
        outcomes.append((total, chance))
    outcomes.sort()
    result = {}
    for name, q in QUANTILES.items():
        cumulative = 0.0
        for total, chance in outcomes:
            cumulative += chance
            if cumulative >= q - 1e-12:
                result[name] = total
                break
    return result


def test_two_even_deals_by_hand():
    # Outcomes 0, 100, 200, 300 cents, each with chance 1/4.
    result = revenue_interval(realized_cents=0, values_cents=[100, 200], probabilities=[50, 50])
    assert (result["p10"], result["p50"], result["p90"]) == (0, 100, 300)
    assert (result["low95"], result["high95"]) == (0, 300)
    assert result["mean_cents"] == 150
    assert result["method"] == "exact"
    # The grid unit is the values' greatest common divisor: exact, with a short grid.
    assert result["parameters"] == {"grid_unit_cents": 100, "max_discretisation_error_cents": 0}


def test_realized_revenue_shifts_every_quantile_and_certain_deals_count_fully():
    result = revenue_interval(
        realized_cents=1_000, values_cents=[100, 500, 999], probabilities=[50, 100, 0]
    )
    assert (result["p10"], result["p90"]) == (1_500, 1_600)
    assert result["uncertain_deals"] == 1


def test_no_uncertain_deal_gives_a_point_interval():
    result = revenue_interval(realized_cents=700, values_cents=[300], probabilities=[100])
    assert {result[name] for name in QUANTILES} == {1_000}
    assert result["sd_cents"] == 0


@pytest.mark.parametrize("seed", range(6))
def test_exact_method_matches_brute_force_enumeration(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 13))
    values = rng.integers(1, 10_001, n).tolist()
    probabilities = rng.choice([5, 10, 25, 50, 75, 90], n).tolist()
    result = revenue_interval(realized_cents=123, values_cents=values, probabilities=probabilities)
    assert result["method"] == "exact"
    assert result["parameters"]["max_discretisation_error_cents"] == 0
    assert {name: result[name] for name in QUANTILES} == _brute_force(123, values, probabilities)


def test_round_amounts_stay_exact_on_a_grid_of_their_common_divisor():
    values, probabilities = [90_000_000, 40_000_000, 25_000_000], [80, 10, 50]
    result = revenue_interval(realized_cents=0, values_cents=values, probabilities=probabilities)
    assert result["parameters"] == {
        "grid_unit_cents": 5_000_000,
        "max_discretisation_error_cents": 0,
    }
    assert {name: result[name] for name in QUANTILES} == _brute_force(0, values, probabilities)


def test_a_coarser_grid_stays_within_its_stated_discretisation_bound():
    rng = np.random.default_rng(42)
    values = rng.integers(1_000_000, 90_000_000, 10).tolist()
    probabilities = rng.choice([10, 40, 70], 10).tolist()
    result = revenue_interval(realized_cents=0, values_cents=values, probabilities=probabilities)
    bound = result["parameters"]["max_discretisation_error_cents"]
    assert result["parameters"]["grid_unit_cents"] > 1
    assert bound > 0
    exact = _brute_force(0, values, probabilities)
    for name in QUANTILES:
        assert abs(result[name] - exact[name]) <= bound


def test_mean_and_sd_follow_the_closed_forms():
    values, probabilities = [1_000, 2_000, 4_000], [10, 50, 90]
    result = revenue_interval(realized_cents=0, values_cents=values, probabilities=probabilities)
    assert result["mean_cents"] == 100 + 1_000 + 3_600
    variance = 0.09 * 1_000**2 + 0.25 * 2_000**2 + 0.09 * 4_000**2
    assert result["sd_cents"] == round(variance**0.5)


def _many_deals(n, seed, probabilities=(10, 30, 50, 80)):
    rng = np.random.default_rng(seed)
    values = rng.integers(50_000, 5_000_000, n)
    probs = rng.choice(probabilities, n)
    return values.tolist(), probs.tolist()


@pytest.mark.parametrize("n", [60, 900])
def test_p10_p90_hold_about_80_percent_of_an_independent_simulation(n):
    values, probabilities = _many_deals(n, seed=n)
    result = revenue_interval(realized_cents=0, values_cents=values, probabilities=probabilities)
    totals = simulate_totals(
        np.array(values, dtype=float),
        np.array(probabilities) / 100,
        draws=20_000,
        seed=987_654,  # not the seed the forecast uses
    )
    inside = np.mean((totals >= result["p10"]) & (totals <= result["p90"]))
    assert inside == pytest.approx(0.80, abs=0.015)
    within95 = np.mean((totals >= result["low95"]) & (totals <= result["high95"]))
    assert within95 == pytest.approx(0.95, abs=0.01)


def test_many_similar_even_deals_use_the_normal_approximation_with_its_bound():
    values = [100_000 + i for i in range(4_000)]
    result = revenue_interval(
        realized_cents=0, values_cents=values, probabilities=[50] * len(values)
    )
    assert result["method"] == "normal"
    assert result["parameters"]["berry_esseen_bound"] <= intervals.NORMAL_MAX_ERROR
    assert result["p50"] == pytest.approx(result["mean_cents"], abs=1)


def test_skewed_buckets_fall_back_to_seeded_monte_carlo_and_are_reproducible():
    values, probabilities = _many_deals(
        intervals.EXACT_MAX_DEALS + 100, seed=3, probabilities=(5, 10)
    )
    first = revenue_interval(realized_cents=0, values_cents=values, probabilities=probabilities)
    again = revenue_interval(realized_cents=0, values_cents=values, probabilities=probabilities)
    assert first["method"] == "monte_carlo"
    assert first["parameters"]["draws"] >= 10_000
    assert first["parameters"]["seed"] == intervals.MONTE_CARLO_SEED
    assert first == again


def test_monte_carlo_agrees_with_the_exact_convolution(monkeypatch):
    values, probabilities = _many_deals(300, seed=11)
    exact = revenue_interval(realized_cents=0, values_cents=values, probabilities=probabilities)
    monkeypatch.setattr(intervals, "EXACT_MAX_DEALS", 10)
    monkeypatch.setattr(intervals, "NORMAL_MAX_ERROR", 0.0)
    simulated = revenue_interval(realized_cents=0, values_cents=values, probabilities=probabilities)
    assert exact["method"] == "exact" and simulated["method"] == "monte_carlo"
    for name in QUANTILES:
        assert simulated[name] == pytest.approx(exact[name], rel=0.02)


def test_a_dominant_deal_is_never_approximated_by_the_normal_curve():
    values = [100] * (intervals.EXACT_MAX_DEALS + 50) + [100_000_000]
    result = revenue_interval(
        realized_cents=0, values_cents=values, probabilities=[50] * len(values)
    )
    assert result["method"] == "monte_carlo"
    assert result["p10"] < 100_000 and result["p90"] > 100_000_000


def _lognormal_deals(n, seed, sigma, probabilities=(10, 25, 50, 75, 90)):
    rng = np.random.default_rng(seed)
    values = np.rint(rng.lognormal(13, sigma, n)).astype(int)
    return values.tolist(), rng.choice(probabilities, n).tolist()


@pytest.mark.parametrize(
    ("extra_deals", "sigma", "probabilities"),
    [(50, 0.4, (10, 50, 90)), (2_000, 0.6, (10, 25, 50, 75, 90))],
)
def test_large_skewed_buckets_use_cornish_fisher_within_0_6_point_of_a_simulation(
    extra_deals, sigma, probabilities
):
    values, probabilities = _lognormal_deals(
        intervals.MONTE_CARLO_MAX_DEALS + extra_deals, 5, sigma, probabilities
    )
    result = revenue_interval(realized_cents=0, values_cents=values, probabilities=probabilities)
    assert result["method"] == "cornish_fisher"
    bound = result["parameters"]["berry_esseen_bound"]
    assert intervals.NORMAL_MAX_ERROR < bound <= intervals.CORNISH_FISHER_MAX_BOUND
    totals = np.sort(
        simulate_totals(
            np.array(values, dtype=float), np.array(probabilities) / 100, draws=40_000, seed=7
        )
    )
    for name, q in QUANTILES.items():
        level = np.searchsorted(totals, result[name], side="right") / len(totals)
        assert level == pytest.approx(q, abs=0.006), name


def test_moments_of_a_bucket_add_up_to_those_of_the_whole():
    values, probabilities = _many_deals(50, seed=8, probabilities=(0, 10, 50, 100))
    whole = intervals.Moments.of(realized_cents=7, values_cents=values, probabilities=probabilities)
    parts = intervals.Moments.of(
        realized_cents=7, values_cents=values[:20], probabilities=probabilities[:20]
    ) + intervals.Moments.of(
        realized_cents=0, values_cents=values[20:], probabilities=probabilities[20:]
    )
    assert parts == whole
    uncertain = [(v, p / 100) for v, p in zip(values, probabilities, strict=True) if 0 < p < 100]
    assert whole.uncertain_deals == len(uncertain)
    assert whole.variance == pytest.approx(sum(p * (1 - p) * v * v for v, p in uncertain))


def test_the_deals_are_read_only_when_the_method_needs_them():
    many = [100_000 + i for i in range(4_000)]
    moments = intervals.Moments.of(
        realized_cents=0, values_cents=many, probabilities=[50] * len(many)
    )

    def unread():
        raise AssertionError("the normal approximation needs no deal")

    assert intervals.interval_from_moments(moments, unread)["method"] == "normal"


def test_a_dominant_deal_among_thousands_still_gets_the_simulation():
    values = [1_000] * (intervals.MONTE_CARLO_MAX_DEALS + 100) + [100_000_000]
    result = revenue_interval(
        realized_cents=0, values_cents=values, probabilities=[50] * len(values)
    )
    assert result["parameters"]["berry_esseen_bound"] > intervals.CORNISH_FISHER_MAX_BOUND
    assert result["method"] == "monte_carlo"


def _dominated(count):
    values = [1_000] * count + [100_000_000]
    return {"realized_cents": 0, "values_cents": values, "probabilities": [50] * len(values)}


def test_a_work_budget_replaces_what_it_cannot_afford_by_cornish_fisher():
    deals = _dominated(intervals.MONTE_CARLO_MAX_DEALS + 100)
    simulated = revenue_interval(**deals)
    cost = (intervals.MONTE_CARLO_MAX_DEALS + 101) * intervals.MONTE_CARLO_DRAWS
    short = intervals.WorkBudget(cost - 1)
    approximated = revenue_interval(**deals, budget=short)
    assert approximated["method"] == "cornish_fisher"
    assert approximated["parameters"]["instead_of"] == "monte_carlo"
    assert approximated["mean_cents"] == simulated["mean_cents"]
    assert short.numbers == cost - 1
    enough = intervals.WorkBudget(cost)
    assert revenue_interval(**deals, budget=enough) == simulated
    assert enough.numbers == 0


def test_the_exact_method_is_charged_per_grid_cell_and_deal():
    budget = intervals.WorkBudget(10**9)
    result = revenue_interval(
        realized_cents=0, values_cents=[100, 200, 300], probabilities=[50, 50, 50], budget=budget
    )
    assert result["method"] == "exact"
    assert budget.numbers == 10**9 - 3 * 601


def test_the_simulation_does_not_depend_on_how_many_rows_a_chunk_holds(monkeypatch):
    values = np.array([float(v) for v in range(1, 300)])
    probs = np.full(len(values), 0.3)
    whole = simulate_totals(values, probs, draws=1_000, seed=5)
    monkeypatch.setattr(intervals, "_MONTE_CARLO_CHUNK_CELLS", 7 * len(values))
    assert np.array_equal(simulate_totals(values, probs, draws=1_000, seed=5), whole)
