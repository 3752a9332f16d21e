"""The confidence interval of forecast revenue.

Model: revenue S = R + sum(v_i * B_i), where R is realized revenue (won deals, certain), v_i
the value of open deal i in the report currency and B_i ~ Bernoulli(p_i) independent (each
open deal is won with its stage probability, independently of the others). So
mean(S) = R + sum(p_i v_i) and var(S) = sum(p_i (1 - p_i) v_i^2).

We report the quantiles P10, P50, P90 and the 95 % interval [P2.5, P97.5], where the
q-quantile is the smallest amount s with P(S <= s) >= q. The method is chosen from the
deals' `Moments` (exact integer sums, which the database can compute as well as Python), so
the values themselves are needed only by the two methods that use them:

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
- ``cornish_fisher``: for more than MONTE_CARLO_MAX_DEALS deals whose Berry-Esseen bound is
  above NORMAL_MAX_ERROR but at most CORNISH_FISHER_MAX_BOUND (no dominant deal), the normal
  quantile corrected for the sum's skewness and kurtosis (the Cornish-Fisher expansion to
  order 1/n), clamped likewise. The Berry-Esseen bound of such large buckets is a loose worst
  case (about 2 % for the 9,000-deal months of `seed_demo --scale large`, where the plain
  normal quantiles were measured within 0.1 point of a 200,000-draw simulation); the tests
  hold this method to 0.6 point of an independent simulation on skewed portfolios. Here a
  simulation would cost draws x deals random numbers, seconds per bucket.
- ``monte_carlo``: otherwise, MONTE_CARLO_DRAWS draws from a numpy generator seeded with
  MONTE_CARLO_SEED; the quantiles are those of the simulated totals (error ~ 1/sqrt(draws)).

Amounts are rounded half-even to whole cents. The interval covers the randomness of which
deals are won only: not wrong stage probabilities, nor deals whose outcomes are correlated.

A computation that must stay quick (the what-if, recomputed as a person types) passes a
`WorkBudget`: the numbers the exact and Monte Carlo methods may compute in all its intervals
(grid cells x deals, draws x deals). An interval that would take more than what is left gets
the Cornish-Fisher quantiles instead, computed from the moments alone, and names the method
it replaced (parameter ``instead_of``).
"""

import dataclasses
import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from statistics import NormalDist

import numpy as np

from coop.money import round_half_even

QUANTILES = {"p10": 0.10, "p50": 0.50, "p90": 0.90, "low95": 0.025, "high95": 0.975}
EXACT_MAX_DEALS = 400
EXACT_MAX_GRID = 1 << 17
NORMAL_MAX_ERROR = 0.01
MONTE_CARLO_MAX_DEALS = 1_000
CORNISH_FISHER_MAX_BOUND = 0.05
MONTE_CARLO_DRAWS = 20_000
MONTE_CARLO_SEED = 20_260_101
_MONTE_CARLO_CHUNK = 500
# At most this many random numbers are held at once by a simulation (8 MB of float64).
_MONTE_CARLO_CHUNK_CELLS = 1 << 20
_BERRY_ESSEEN_CONSTANT = 0.56


@dataclasses.dataclass(frozen=True)
class Moments:
    """Exact integer sums over a set of deals; P_i is deal i's probability in whole percent.

    `certain_cents` is what counts for sure (realized revenue and open deals at 100 %);
    the other sums run over the uncertain deals (0 < P_i < 100, v_i != 0):
    values = sum v_i, first = sum v_i P_i, second = sum v_i^2 P_i (100 - P_i),
    third = sum v_i^3 P_i (100 - P_i) (100 - 2 P_i),
    fourth = sum v_i^4 P_i (100 - P_i) (100^2 - 6 P_i (100 - P_i)),
    absolute_third = sum v_i^3 P_i (100 - P_i) (P_i^2 + (100 - P_i)^2).
    Divided by 100, 100^2, 100^3, 100^4 and 100^4 they are the mean, the cumulants 2 to 4
    and the sum of E|X_i - mu_i|^3 of the uncertain part (v_i >= 0).
    """

    certain_cents: int = 0
    uncertain_deals: int = 0
    values: int = 0
    first: int = 0
    second: int = 0
    third: int = 0
    fourth: int = 0
    absolute_third: int = 0

    @classmethod
    def of(
        cls, *, realized_cents: int, values_cents: Sequence[int], probabilities: Sequence[int]
    ) -> "Moments":
        certain = realized_cents
        sums = [0] * 7
        for v, p in zip(values_cents, probabilities, strict=True):
            if p >= 100:
                certain += v
            elif p > 0 and v:
                q = 100 - p
                spread = p * q
                sums[0] += 1
                sums[1] += v
                sums[2] += v * p
                sums[3] += v * v * spread
                sums[4] += v**3 * spread * (q - p)
                sums[5] += v**4 * spread * (10_000 - 6 * spread)
                sums[6] += v**3 * spread * (p * p + q * q)
        return cls(certain, *sums)

    def __add__(self, other: "Moments") -> "Moments":
        pairs = zip(dataclasses.astuple(self), dataclasses.astuple(other), strict=True)
        return Moments(*(a + b for a, b in pairs))

    @property
    def variance(self) -> float:
        return self.second / 1e4

    def berry_esseen_bound(self) -> float:
        return _BERRY_ESSEEN_CONSTANT * (self.absolute_third / 1e8) / self.variance**1.5


@dataclasses.dataclass
class WorkBudget:
    """Numbers that the exact and Monte Carlo methods may still compute, shared by the
    intervals of one computation."""

    numbers: int

    def take(self, cost: int) -> bool:
        """Spend `cost` when that much is left (True), else spend nothing (False)."""
        if cost > self.numbers:
            return False
        self.numbers -= cost
        return True


def method_cost(method: str, moments: Moments) -> int:
    """An upper bound of the numbers `method` computes for these moments: the exact method
    one update per grid cell per deal, the Monte Carlo one random number per draw per deal;
    the moment-based methods a handful."""
    if method == "exact":
        return moments.uncertain_deals * min(moments.values + 1, EXACT_MAX_GRID)
    if method == "monte_carlo":
        return moments.uncertain_deals * MONTE_CARLO_DRAWS
    return 0


def _cents(value: float) -> int:
    return round_half_even(Decimal(repr(float(value))))


def _degenerate(amount: int) -> dict:
    return {name: amount for name in QUANTILES}


UncertainDeals = Callable[[], tuple[Sequence[int], Sequence[int]]]


def revenue_interval(
    *,
    realized_cents: int,
    values_cents: Sequence[int],
    probabilities: Sequence[int],
    budget: WorkBudget | None = None,
) -> dict:
    """Quantiles of realized + the open deals' outcomes, with the method and its parameters.

    `probabilities` are whole percentages 0-100. Deals at 0 % never count and deals at
    100 % always count; only the others are uncertain. With a `budget`, see the module.
    """
    moments = Moments.of(
        realized_cents=realized_cents, values_cents=values_cents, probabilities=probabilities
    )
    return interval_from_moments(moments, lambda: (values_cents, probabilities), budget=budget)


def choose_method(moments: Moments) -> tuple[str, float | None]:
    """The interval method for these moments and the Berry-Esseen bound it was chosen by
    (None when it was not needed)."""
    if moments.uncertain_deals <= EXACT_MAX_DEALS:
        return "exact", None
    bound = moments.berry_esseen_bound()
    if bound <= NORMAL_MAX_ERROR:
        return "normal", bound
    if bound <= CORNISH_FISHER_MAX_BOUND and moments.uncertain_deals > MONTE_CARLO_MAX_DEALS:
        return "cornish_fisher", bound
    return "monte_carlo", bound


def needs_deals(moments: Moments) -> bool:
    """Does the interval of these moments need the deals' values (exact or Monte Carlo)?"""
    return moments.uncertain_deals > 0 and choose_method(moments)[0] in {"exact", "monte_carlo"}


def interval_from_moments(
    moments: Moments, deals: UncertainDeals, *, budget: WorkBudget | None = None
) -> dict:
    """`revenue_interval` from the deals' moments. `deals()` returns (values, probabilities)
    of the deals in a fixed order (it may include certain ones, which are skipped); it is
    called only when `needs_deals(moments)` (and, with a `budget`, the method fits in it)."""
    certain = moments.certain_cents
    summary = {
        "mean_cents": round_half_even((Decimal(certain) * 100 + moments.first) / 100),
        "sd_cents": _cents(math.sqrt(moments.variance)),
        "uncertain_deals": moments.uncertain_deals,
    }
    if not moments.uncertain_deals:
        return {**summary, **_degenerate(certain), "method": "exact", "parameters": {}}
    method, bound = choose_method(moments)
    replaced = None
    if budget is not None and not budget.take(method_cost(method, moments)):
        replaced, method = method, "cornish_fisher"
        bound = moments.berry_esseen_bound()
    if method == "normal":
        quantiles = _normal(moments, corrected=False)
        parameters = {"berry_esseen_bound": round(bound, 6)}
    elif method == "cornish_fisher":
        quantiles = _normal(moments, corrected=True)
        parameters = {
            "berry_esseen_bound": round(bound, 6),
            "skewness": round(moments.third / 1e6 / moments.variance**1.5, 6),
        }
        if replaced:
            parameters["instead_of"] = replaced
    elif method == "exact":
        quantiles, parameters = _exact(*_uncertain(*deals()))
    else:
        quantiles = _monte_carlo(*_uncertain(*deals()))
        parameters = {
            "draws": MONTE_CARLO_DRAWS,
            "seed": MONTE_CARLO_SEED,
            "berry_esseen_bound": round(bound, 6),
        }
    shifted = {name: certain + amount for name, amount in quantiles.items()}
    return {**summary, **shifted, "method": method, "parameters": parameters}


def _uncertain(
    values_cents: Sequence[int], probabilities: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    pairs = [
        (v, p / 100) for v, p in zip(values_cents, probabilities, strict=True) if 0 < p < 100 and v
    ]
    return (
        np.array([v for v, _ in pairs], dtype=np.float64),
        np.array([p for _, p in pairs], dtype=np.float64),
    )


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


def _normal(moments: Moments, *, corrected: bool) -> dict:
    """Normal quantiles of the uncertain part, optionally Cornish-Fisher corrected, clamped
    to [0, sum v_i]."""
    sd = math.sqrt(moments.variance)
    mean = moments.first / 100
    skewness = moments.third / 1e6 / sd**3
    excess_kurtosis = moments.fourth / 1e8 / sd**4
    standard = NormalDist()
    quantiles = {}
    for name, q in QUANTILES.items():
        z = standard.inv_cdf(q)
        if corrected:
            z += (
                (z * z - 1) * skewness / 6
                + (z**3 - 3 * z) * excess_kurtosis / 24
                - (2 * z**3 - 5 * z) * skewness**2 / 36
            )
        quantiles[name] = _cents(min(max(mean + z * sd, 0.0), float(moments.values)))
    return quantiles


def simulate_totals(values: np.ndarray, probs: np.ndarray, *, draws: int, seed: int) -> np.ndarray:
    """`draws` simulated sums of the values, each won independently with its probability.
    Drawn a few rows at a time (at most `_MONTE_CARLO_CHUNK_CELLS` numbers held at once);
    the generator's stream, so the totals, do not depend on how many rows a chunk has."""
    rng = np.random.default_rng(seed)
    totals = np.empty(draws)
    rows = max(1, min(_MONTE_CARLO_CHUNK, _MONTE_CARLO_CHUNK_CELLS // max(1, len(values))))
    for begin in range(0, draws, rows):
        size = min(rows, draws - begin)
        totals[begin : begin + size] = (rng.random((size, len(values))) < probs) @ values
    return totals


def _monte_carlo(values: np.ndarray, probs: np.ndarray) -> dict:
    totals = simulate_totals(values, probs, draws=MONTE_CARLO_DRAWS, seed=MONTE_CARLO_SEED)
    return {
        name: _cents(np.quantile(totals, q, method="inverted_cdf")) for name, q in QUANTILES.items()
    }
