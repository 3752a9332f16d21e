"""The wellness score (0-100) of a check-in: a documented, deterministic formula.

Three components, each 0-100 where higher is better:

- calm  = 100 - stress                                       (weight 2)
- sleep = 100 for 7 to 9 hours slept; 20 points less for every hour
          below 7 or above 9, never below 0                  (weight 1)
- energy = (energy - 1) * 25, so 1 -> 0 and 5 -> 100         (weight 1)

score = the weighted mean of the components that were given (stress is always given; a
missing optional answer drops out of the mean with its weight), rounded half to even.
Examples: stress 30 alone -> 70; stress 30, 8 h sleep, energy 4 -> (2*70 + 100 + 75) / 4
= 78.75 -> 79; stress 50, 5 h sleep -> (2*50 + 60) / 3 = 53.33 -> 53.
"""

from decimal import ROUND_HALF_EVEN, Decimal

CALM_WEIGHT = 2
SLEEP_WEIGHT = 1
ENERGY_WEIGHT = 1
SLEEP_BEST = (Decimal(7), Decimal(9))
SLEEP_POINTS_PER_HOUR = 20


def sleep_component(hours: Decimal) -> Decimal:
    low, high = SLEEP_BEST
    distance = max(low - hours, hours - high, Decimal(0))
    return max(Decimal(100) - SLEEP_POINTS_PER_HOUR * distance, Decimal(0))


def wellness_score(*, stress: int, sleep_hours: Decimal | None, energy: int | None) -> int:
    """The score of one check-in, per the formula above."""
    parts = [(Decimal(100 - stress), CALM_WEIGHT)]
    if sleep_hours is not None:
        parts.append((sleep_component(Decimal(sleep_hours)), SLEEP_WEIGHT))
    if energy is not None:
        parts.append((Decimal((energy - 1) * 25), ENERGY_WEIGHT))
    total = sum(value * weight for value, weight in parts)
    weights = sum(weight for _, weight in parts)
    return int((total / weights).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
