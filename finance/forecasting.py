"""The forecast calculation, free of the database: deals in, buckets and intervals out.

Used by `forecast_generate` (deals read from the CRM) and by the what-if analysis (the
deals of a saved forecast, changed by the what-if levers), so both compute alike.
"""

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from uuid import UUID

from django.utils.translation import gettext, gettext_noop

from coop.money import round_half_even
from finance.intervals import WorkBudget, revenue_interval
from finance.periods import next_period_start, period_start, periods_between
from finance.rates import convert_minor, scaled

INTERVAL_MODEL = gettext_noop(
    "Revenue = realized + sum of open deal values, each open deal won independently with "
    "its stage probability (Bernoulli)."
)


def interval_model_text(stored: str) -> str:
    """The model sentence a forecast stored (in English), in the active language when it is
    the known one; anything else as stored."""
    return gettext(INTERVAL_MODEL) if stored == INTERVAL_MODEL else stored


@dataclasses.dataclass(frozen=True)
class Line:
    """One deal as the forecast counts it; `value_cents` is in the report currency."""

    deal_id: UUID
    title: str
    stage_id: UUID | None
    stage_name: str
    realized: bool
    on_date: datetime.date
    deal_value_cents: int
    deal_currency: str
    rate: Decimal
    value_cents: int
    probability: int
    forecast_category: str

    @property
    def expected_cents(self) -> int:
        """Value x probability / 100, rounded half-even once."""
        return round_half_even(Decimal(self.value_cents * self.probability) / 100)


@dataclasses.dataclass(frozen=True)
class Bucket:
    start: datetime.date
    end: datetime.date
    expected_cents: int
    realized_cents: int
    deal_count: int
    interval: dict


@dataclasses.dataclass(frozen=True)
class Outcome:
    lines: list[tuple[Line, datetime.date]]  # each counted line with its bucket's start
    deal_count: int  # the counted lines (also when `lines` is empty: already saved)
    buckets: list[Bucket]
    total_expected_cents: int
    realized_cents: int
    interval: dict

    def confidence_interval_json(self) -> dict:
        total = self.interval
        return {
            "model": INTERVAL_MODEL,
            "method": total["method"],
            "parameters": total["parameters"],
            "total": total,
            "periods": [
                {"start": b.start.isoformat(), "end": b.end.isoformat(), **b.interval}
                for b in self.buckets
            ],
        }


def _interval(realized: int, open_lines: Sequence[Line], budget: WorkBudget | None = None) -> dict:
    return revenue_interval(
        realized_cents=realized,
        values_cents=[line.value_cents for line in open_lines],
        probabilities=[line.probability for line in open_lines],
        budget=budget,
    )


def evaluate(
    lines: Iterable[Line],
    *,
    period_type: str,
    start: datetime.date,
    end: datetime.date,
    budget: WorkBudget | None = None,
) -> Outcome:
    """Bucket the lines dated inside [start, end] and compute expected values and intervals.
    A `budget` (`finance.intervals.WorkBudget`) is spent on the total's interval first, then
    on the periods' in order."""
    periods = periods_between(start, end, period_type)
    by_bucket: dict[datetime.date, list[Line]] = defaultdict(list)
    for line in lines:
        if start <= line.on_date <= end:
            by_bucket[max(period_start(line.on_date, period_type), start)].append(line)
    counted = [(line, first) for first, _ in periods for line in by_bucket.get(first, [])]
    realized_total = sum(line.value_cents for line, _ in counted if line.realized)
    interval = _interval(realized_total, [line for line, _ in counted if not line.realized], budget)
    buckets = []
    for first, last in periods:
        members = by_bucket.get(first, [])
        realized = sum(line.value_cents for line in members if line.realized)
        buckets.append(
            Bucket(
                start=first,
                end=last,
                expected_cents=sum(line.expected_cents for line in members),
                realized_cents=realized,
                deal_count=len(members),
                interval=_interval(
                    realized, [line for line in members if not line.realized], budget
                ),
            )
        )
    return Outcome(
        lines=counted,
        deal_count=len(counted),
        buckets=buckets,
        total_expected_cents=sum(b.expected_cents for b in buckets),
        realized_cents=realized_total,
        interval=interval,
    )


@dataclasses.dataclass(frozen=True)
class WhatIf:
    """The what-if levers. They act on open deals only: realized revenue is already booked."""

    stage_probabilities: dict[str, int] = dataclasses.field(default_factory=dict)
    value_change_percent: Decimal = Decimal(0)
    slip_percent: int = 0
    shock_currency: str = ""
    shock_percent: Decimal = Decimal(0)

    def as_json(self) -> dict:
        return {
            "stage_probabilities": self.stage_probabilities,
            "value_change_percent": str(self.value_change_percent),
            "slip_percent": self.slip_percent,
            "shock_currency": self.shock_currency,
            "shock_percent": str(self.shock_percent),
        }

    @property
    def is_neutral(self) -> bool:
        return self == WhatIf()


def _changed_line(line: Line, what_if: WhatIf, report_currency: str) -> Line:
    probability = what_if.stage_probabilities.get(str(line.stage_id), line.probability)
    deal_value = round_half_even(
        Decimal(line.deal_value_cents) * (100 + what_if.value_change_percent) / 100
    )
    rate = line.rate
    if what_if.shock_currency and line.deal_currency == what_if.shock_currency:
        rate = scaled(rate, what_if.shock_percent)
    return dataclasses.replace(
        line,
        probability=probability,
        deal_value_cents=deal_value,
        rate=rate,
        value_cents=convert_minor(deal_value, line.deal_currency, report_currency, rate),
    )


def apply_what_if(
    lines: Sequence[Line],
    what_if: WhatIf,
    *,
    period_type: str,
    start: datetime.date,
    report_currency: str,
) -> list[Line]:
    """The lines as the what-if sees them.

    Probabilities of the overridden stages replaced, open values scaled (rounded half-even in
    the deal's currency), the shocked currency's rate moved, then in every period the given
    share of its open deals (rounded half-even; the ones expected latest go first) slipped
    to the first day of the next period. Deals slipping past the forecast's end leave it.
    """
    changed = [
        line if line.realized else _changed_line(line, what_if, report_currency) for line in lines
    ]
    if not what_if.slip_percent:
        return changed
    by_bucket: dict[datetime.date, list[int]] = defaultdict(list)
    for index, line in enumerate(changed):
        if not line.realized:
            by_bucket[max(period_start(line.on_date, period_type), start)].append(index)
    for first, indexes in by_bucket.items():
        count = round_half_even(Decimal(len(indexes) * what_if.slip_percent) / 100)
        latest_first = sorted(
            indexes, key=lambda i: (changed[i].on_date, str(changed[i].deal_id)), reverse=True
        )
        following = next_period_start(period_start(first, period_type), period_type)
        for index in latest_first[:count]:
            changed[index] = dataclasses.replace(changed[index], on_date=following)
    return changed
