"""Forecast periods: a day, an ISO week (Monday to Sunday), a calendar month or quarter."""

import datetime

from django.db import models


class PeriodType(models.TextChoices):
    DAILY = "daily", "Day"
    WEEKLY = "weekly", "ISO week"
    MONTHLY = "monthly", "Month"
    QUARTERLY = "quarterly", "Quarter"


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


def period_label(start: datetime.date, period_type: str) -> str:
    """Human label: 2026-03-04, 2026-W10, Mar 2026, 2026 Q1."""
    if period_type == PeriodType.DAILY:
        return start.isoformat()
    if period_type == PeriodType.WEEKLY:
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if period_type == PeriodType.MONTHLY:
        return start.strftime("%b %Y")
    return f"{start.year} Q{(start.month - 1) // 3 + 1}"


# How many past periods the dashboard compares (pipeline vs actual revenue, health metrics).
PAST_PERIODS = {
    PeriodType.DAILY: 30,
    PeriodType.WEEKLY: 12,
    PeriodType.MONTHLY: 6,
    PeriodType.QUARTERLY: 4,
}
