"""Charts drawn on the server as SVG (no script, nothing for the CSP to allow): the geometry
here, the markup in `finance/partials/bar_pairs.html`. Each chart sits beside a table with
the same figures, which is what screen readers and keyboard users read."""

import math
from decimal import Decimal

from coop.money import format_money, to_major_units

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 8, 14, 34  # room for the value axis and the month labels
TICKS = 4


def _nice_top(largest: int) -> int:
    """The smallest 1, 2, 2.5 or 5 x 10^k at or above `largest` (and above zero)."""
    if largest <= 0:
        return 1
    power = 10 ** math.floor(math.log10(largest))
    return next(int(step * power) for step in (1, 2, 2.5, 5, 10) if step * power >= largest)


def compact(cents: int, currency: str) -> str:
    """An axis label: major units with k or M (the caption names the currency)."""
    amount = to_major_units(cents, currency)
    for size, suffix in ((Decimal(10) ** 6, "M"), (Decimal(1000), "k")):
        if abs(amount) >= size:
            return f"{(amount / size).normalize():f}{suffix}"
    return f"{amount.normalize():f}"


def bar_pairs(rows: list[dict], first: str, second: str, label: str, currency: str) -> dict:
    """Two bars per row (`rows[i][first]`, `rows[i][second]`, in minor units of `currency`,
    labelled by `rows[i][label]`, a date), on one value axis from zero: x, y, width and
    height of each bar in a WIDTH x HEIGHT view box, the axis ticks and the row labels."""
    top = _nice_top(max([row[key] for row in rows for key in (first, second)] + [0]))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(rows), 1)
    bar = slot * 0.36

    def y_of(value: int) -> float:
        return TOP + plot_height * (1 - value / top)

    groups = []
    for index, row in enumerate(rows):
        left = LEFT + index * slot + slot * 0.14
        bars = []
        for offset, key in enumerate((first, second)):
            value = max(row[key], 0)
            bars.append(
                {
                    "kind": key,
                    "x": round(left + offset * bar, 1),
                    "y": round(y_of(value), 1),
                    "width": round(bar, 1),
                    "height": round(TOP + plot_height - y_of(value), 1),
                    "text": format_money(row[key], currency),
                }
            )
        groups.append(
            {"label": row[label], "x": round(LEFT + (index + 0.5) * slot, 1), "bars": bars}
        )
    ticks = [
        {
            "y": round(y_of(top * step // TICKS), 1),
            "text": compact(top * step // TICKS, currency),
        }
        for step in range(TICKS + 1)
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "baseline": TOP + plot_height,
        "label_y": HEIGHT - 8,
        "currency": currency,
        "groups": groups,
        "ticks": ticks,
    }
