from decimal import Decimal

import pytest

from health.scoring import sleep_component, wellness_score


@pytest.mark.parametrize(
    ("stress", "sleep", "energy", "expected"),
    [
        (30, None, None, 70),  # calm only
        (30, Decimal("8"), 4, 79),  # (2*70 + 100 + 75) / 4 = 78.75
        (50, Decimal("5"), None, 53),  # (2*50 + 60) / 3 = 53.33
        (0, Decimal("7"), 5, 100),
        (100, Decimal("0"), 1, 0),
        (50, None, 3, 50),  # (2*50 + 50) / 3 = 50
        (45, Decimal("10.5"), None, 60),  # (2*55 + 70) / 3 = 60
    ],
)
def test_wellness_score_follows_the_documented_formula(stress, sleep, energy, expected):
    assert wellness_score(stress=stress, sleep_hours=sleep, energy=energy) == expected


def test_half_points_round_to_even():
    # (2*75 + 100 + 0) / 4 = 62.5 -> 62
    assert wellness_score(stress=25, sleep_hours=Decimal("8"), energy=1) == 62
    # (2*77 + 100 + 0) / 4 = 63.5 -> 64
    assert wellness_score(stress=23, sleep_hours=Decimal("8"), energy=1) == 64


def test_sleep_component_is_best_between_seven_and_nine_hours_and_never_negative():
    assert sleep_component(Decimal("7")) == 100
    assert sleep_component(Decimal("9")) == 100
    assert sleep_component(Decimal("6")) == 80
    assert sleep_component(Decimal("11.5")) == 50
    assert sleep_component(Decimal("1")) == 0
