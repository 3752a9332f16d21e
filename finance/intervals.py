"""The confidence interval of forecast revenue.

Model: revenue S = R + sum(v_i * B_i), where R is realized revenue (won deals, certain), v_i
the value of open deal i in the report currency and B_i ~ Bernoulli(p_i) independent (each
open deal is won with its stage probability, independently of the others). So
mean(S) = R + sum(p_i v_i) and var(S) = sum(p_i (1 - p_i) v_i^2).

We report the quantiles P10, P50, P90 and the 95 % interval [P2.5, P97.5], where the
q-quantile is the smallest amount s with P(S <= s) >= q. One of three methods is used:

- ``exact``: convolution of the Bernoulli outcomes on a value grid (unit u cents, every
  value rounded to a multiple of u). u is the values' greatest common divisor when the grid
  stays under EXACT_MAX_GRID cells (the result is then exact to the cent), else a multiple
  of it. Used up to EXACT_MAX_DEALS uncertain deals. Parameters: the
  grid unit and the bound n*u/2 on the discretisation error.
- ``normal``: mean + z_q * sd, clamped to [R, R + sum v_i], used for a bucket of more deals
  when the Berry-Esseen bound 0.56 * sum(rho_i) / sd^3 on the distance between the true
  and the normal distribution function is at most NORMAL_MAX_ERROR (rho_i = E|X_i - mu_i|^3
  = v_i^3 p_i (1 - p_i) (p_i^2 + (1 - p_i)^2)): the reported normal quantile at level q then
  lies between the true quantiles at q - bound and q + bound.
- ``monte_carlo``: otherwise, MONTE_CARLO_DRAWS draws from a numpy generator seeded with
  MONTE_CARLO_SEED; the quantiles are those of the simulated totals (error ~ 1/sqrt(draws)).

Amounts are rounded half-even to whole cents. The interval covers the randomness of which
deals are won only: not wrong stage probabilities, nor deals whose outcomes are correlated.
"""

import math
from collections.abc import Sequence
from decimal import Decimal
from statistics import NormalDist

import numpy as np

from coop.money import round_half_even

QUANTILES = {"p10": 0.10, "p50": 0.50, "p90": 0.90, "low95": 0.025, "high95": 0.975}
EXACT_MAX_DEALS = 400
EXACT_MAX_GRID = 1 << 17
NORMAL_MAX_ERROR = 0.01
MONTE_CARLO_DRAWS = 20_000
MONTE_CARLO_SEED = 20_260_101
_MONTE_CARLO_CHUNK = 500
_BERRY_ESSEEN_CONSTANT = 0.56


def _cents(value: float) -> int:
    return round_half_even(Decimal(repr(float(value))))


def _degenerate(amount: int) -> dict:
    return {name: amount for name in QUANTILES}


def revenue_interval(
    *, realized_cents: int, values_cents: Sequence[int], probabilities: Sequence[int]
) -> dict:
    """Quantiles of realized + the open deals' outcomes, with the method and its parameters.

    `probabilities` are whole percentages 0-100. Deals at 0 % never count and deals at
    100 % always count; only the others are uncertain.
    """
    certain = realized_cents + sum(
        v for v, p in zip(values_cents, probabilities, strict=True) if p >= 100
    )
    uncertain = [
        (v, p / 100) for v, p in zip(values_cents, probabilities, strict=True) if 0 < p < 100 and v
    ]
    values = np.array([v for v, _ in uncertain], dtype=np.float64)
    probs = np.array([p for _, p in uncertain], dtype=np.float64)
    mean = certain + float(values @ probs) if uncertain else float(certain)
    variance = float((probs * (1 - probs) * values**2).sum()) if uncertain else 0.0
    summary = {
        "mean_cents": _cents(mean),
        "sd_cents": _cents(math.sqrt(variance)),
        "uncertain_deals": len(uncertain),
    }
    if not uncertain:
        return {**summary, **_degenerate(certain), "method": "exact", "parameters": {}}
    if len(uncertain) <= EXACT_MAX_DEALS:
        quantiles, parameters = _exact(values, probs)
        method = "exact"
    else:
        bound = _berry_esseen_bound(values, probs, variance)
        if bound <= NORMAL_MAX_ERROR:
            quantiles = _normal(values, mean - certain, variance)
            parameters = {"berry_esseen_bound": round(bound, 6)}
            method = "normal"
        else:
            quantiles = _monte_carlo(values, probs)
            parameters = {
                "draws": MONTE_CARLO_DRAWS,
                "seed": MONTE_CARLO_SEED,
                "berry_esseen_bound": round(bound, 6),
            }
            method = "monte_carlo"
    shifted = {name: certain + amount for name, amount in quantiles.items()}
    return {**summary, **shifted, "method": method, "parameters": parameters}


def _exact(values: np.ndarray, probs: np.ndarray) -> tuple[dict, dict]:
    # The grid unit is the values' greatest common divisor (round amounts stay exact), made a
    # multiple of it when the grid would be too long.
    divisor = math.gcd(*(int(v) for v in values))
    cells = int(values.sum()) // divisor
    unit = divisor * max(1, math.ceil(cells / (EXACT_MAX_GRID - 1)))
    weights = np.rint(values / unit).astype(np.int64)
    distribution = np.zeros(int(weights.sum()) + 1)
    distribution[0] = 1.0
    reach = 0
    for weight, p in zip(weights, probs, strict=True):
        if weight == 0:
            continue
        shifted = distribution[: reach + 1] * p
        distribution[: reach + 1] *= 1 - p
        distribution[weight : weight + reach + 1] += shifted
        reach += int(weight)
    cumulative = np.cumsum(distribution)
    quantiles = {}
    for name, q in QUANTILES.items():
        # Tolerance for float summation: a cumulative of 0.8999999999 meets q = 0.9.
        index = int(np.searchsorted(cumulative, q - 1e-12, side="left"))
        quantiles[name] = index * unit
    exact = bool(np.all(weights * unit == values))
    error_bound = 0 if exact else len(values) * unit // 2
    return quantiles, {"grid_unit_cents": unit, "max_discretisation_error_cents": error_bound}


def _berry_esseen_bound(values: np.ndarray, probs: np.ndarray, variance: float) -> float:
    rho = values**3 * probs * (1 - probs) * (probs**2 + (1 - probs) ** 2)
    return _BERRY_ESSEEN_CONSTANT * float(rho.sum()) / variance**1.5


def _normal(values: np.ndarray, mean: float, variance: float) -> dict:
    sd = math.sqrt(variance)
    upper = float(values.sum())
    standard = NormalDist()
    return {
        name: _cents(min(max(mean + standard.inv_cdf(q) * sd, 0.0), upper))
        for name, q in QUANTILES.items()
    }


def simulate_totals(values: np.ndarray, probs: np.ndarray, *, draws: int, seed: int) -> np.ndarray:
    """`draws` simulated sums of the values, each won independently with its probability."""
    rng = np.random.default_rng(seed)
    totals = np.empty(draws)
    for begin in range(0, draws, _MONTE_CARLO_CHUNK):
        size = min(_MONTE_CARLO_CHUNK, draws - begin)
        totals[begin : begin + size] = (rng.random((size, len(values))) < probs) @ values
    return totals


def _monte_carlo(values: np.ndarray, probs: np.ndarray) -> dict:
    totals = simulate_totals(values, probs, draws=MONTE_CARLO_DRAWS, seed=MONTE_CARLO_SEED)
    return {
        name: _cents(np.quantile(totals, q, method="inverted_cdf")) for name, q in QUANTILES.items()
    }
