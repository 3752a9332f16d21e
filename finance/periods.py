"""Forecast periods: a day, an ISO week (Monday to Sunday), a calendar month or quarter.

Forecasts and the revenue booked by hand cover the years EARLIEST_DAY.year to
LATEST_DAY.year, in at most MAX_PERIODS periods. Every real plan fits, the period arithmetic
(the period after the last one) stays far from Python's year 9999, and a request is checked
arithmetically (`period_count`) before any period is built: a daily forecast from year 1 to
9999 would otherwise build 3.6 million periods (seconds of CPU, hundreds of MB) to refuse.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import dateformat
from django.utils.translation import gettext, pgettext, pgettext_lazy

EARLIEST_DAY = datetime.date(2000, 1, 1)
LATEST_DAY = datetime.date(2100, 12, 31)
MAX_PERIODS = 400


class PeriodType(models.TextChoices):
    DAILY = "daily", pgettext_lazy("period type", "Day")
    WEEKLY = "weekly", pgettext_lazy("period type", "ISO week")
    MONTHLY = "monthly", pgettext_lazy("period type", "Month")
    QUARTERLY = "quarterly", pgettext_lazy("period type", "Quarter")


def period_start(day: datetime.date, period_type: str) -> datetime.date:
    """The first day of the period of `period_type` that contains `day`."""
    if period_type == PeriodType.DAILY:
        return day
    if period_type == PeriodType.WEEKLY:
        return day - datetime.timedelta(days=day.weekday())
    if period_type == PeriodType.MONTHLY:
        return day.replace(day=1)
    if period_type == PeriodType.QUARTERLY:
        return datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    raise ValueError(f"Unknown period type {period_type!r}")


def next_period_start(start: datetime.date, period_type: str) -> datetime.date:
    """The first day of the period after the one starting on `start`."""
    if period_type == PeriodType.DAILY:
        return start + datetime.timedelta(days=1)
    if period_type == PeriodType.WEEKLY:
        return start + datetime.timedelta(days=7)
    months = 1 if period_type == PeriodType.MONTHLY else 3
    month_index = start.year * 12 + start.month - 1 + months
    return datetime.date(month_index // 12, month_index % 12 + 1, 1)


def period_end(start: datetime.date, period_type: str) -> datetime.date:
    return next_period_start(start, period_type) - datetime.timedelta(days=1)


def periods_between(
    start: datetime.date, end: datetime.date, period_type: str
) -> list[tuple[datetime.date, datetime.date]]:
    """The (first day, last day) of every period overlapping [start, end], clipped to it."""
    periods = []
    current = period_start(start, period_type)
    while current <= end:
        following = next_period_start(current, period_type)
        periods.append((max(current, start), min(following - datetime.timedelta(days=1), end)))
        current = following
    return periods


def period_count(start: datetime.date, end: datetime.date, period_type: str) -> int:
    """How many periods `periods_between` gives for [start, end], by arithmetic alone (no
    period is built, nothing overflows): 0 when `end` is before `start`."""
    if end < start:
        return 0
    if period_type == PeriodType.DAILY:
        return (end - start).days + 1
    first, last = period_start(start, period_type), period_start(end, period_type)
    if period_type == PeriodType.WEEKLY:
        return (last - first).days // 7 + 1
    months = (last.year - first.year) * 12 + last.month - first.month
    return months // (1 if period_type == PeriodType.MONTHLY else 3) + 1


def validate_finance_day(day: datetime.date) -> None:
    """A form field validator and service check: the day lies in the supported years."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValidationError(
            gettext(
                "Forecasts and revenue cover the years %(first)d to %(last)d: pick a date in them."
            ),
            code="date_out_of_range",
            params={"first": EARLIEST_DAY.year, "last": LATEST_DAY.year},
        )


def validate_period_count(start: datetime.date, end: datetime.date, period_type: str) -> None:
    """`ValidationError` when [start, end] holds more than MAX_PERIODS periods, counted
    before any is built."""
    count = period_count(start, end, period_type)
    if count > MAX_PERIODS:
        raise ValidationError(
            gettext(
                "That range has more than %(max)d periods (%(count)s %(unit)s): choose a longer "
                "period type or a shorter range."
            ),
            code="too_many_periods",
            params={"max": MAX_PERIODS, "count": f"{count:,}", "unit": _unit_plural(period_type)},
        )


def _unit_plural(period_type: str) -> str:
    """ "days", "ISO weeks", "months", "quarters", in the active language."""
    units = {
        PeriodType.DAILY: pgettext("periods, plural", "days"),
        PeriodType.WEEKLY: pgettext("periods, plural", "ISO weeks"),
        PeriodType.MONTHLY: pgettext("periods, plural", "months"),
        PeriodType.QUARTERLY: pgettext("periods, plural", "quarters"),
    }
    return units[period_type]


def period_label(start: datetime.date, period_type: str) -> str:
    """Human label: 2026-03-04, 2026-W10, Mar 2026, 2026 Q1 (the month's name and the
    quarter's in the active language)."""
    if period_type == PeriodType.DAILY:
        return start.isoformat()
    if period_type == PeriodType.WEEKLY:
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if period_type == PeriodType.MONTHLY:
        return dateformat.format(start, "M Y")
    return pgettext("a calendar quarter: 2026 Q1", "%(year)s Q%(quarter)s") % {
        "year": start.year,
        "quarter": (start.month - 1) // 3 + 1,
    }


# How many past periods the dashboard compares (pipeline vs actual revenue, health metrics).
PAST_PERIODS = {
    PeriodType.DAILY: 30,
    PeriodType.WEEKLY: 12,
    PeriodType.MONTHLY: 6,
    PeriodType.QUARTERLY: 4,
}
