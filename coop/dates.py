"""The dates the application accepts from a request: years EARLIEST_DAY.year to
LATEST_DAY.year.

Python's dates stop at years 1 and 9999, and the calendar and meeting code does arithmetic
around a date from the request: a month or week either side, a whole week of grid, a time
zone offset, an event's length. Near either end that overflows (a 500) or lands in year 1.
The window keeps every such step far from both ends and refuses no real date: navigation
clamps to it (`clamp_day`), forms and services refuse a date outside it with a message
(`validate_supported_date`).
"""

import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

EARLIEST_DAY = datetime.date(1900, 1, 1)
LATEST_DAY = datetime.date(2999, 12, 31)


def clamp_day(day: datetime.date) -> datetime.date:
    """The nearest day of the window."""
    return min(max(day, EARLIEST_DAY), LATEST_DAY)


def validate_supported_date(value: datetime.date | datetime.datetime) -> None:
    """A form field (DateField or DateTimeField) and service check: the date, or an aware
    datetime's date in its own zone, lies in the window."""
    day = value.date() if isinstance(value, datetime.datetime) else value
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValidationError(
            _("Pick a date from the year %(first)d to %(last)d."),
            code="date_out_of_range",
            params={"first": EARLIEST_DAY.year, "last": LATEST_DAY.year},
        )
