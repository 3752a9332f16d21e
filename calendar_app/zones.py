"""Time-zone helpers: every calendar page is read and entered in the viewer's own zone."""

from collections.abc import Callable
from datetime import date, datetime, time
from functools import wraps
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.utils import timezone


def in_user_zone(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Run a view with the signed-in user's time zone active (form parsing and rendering)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        with timezone.override(request.user.zone):
            return view(request, *args, **kwargs)

    return wrapper


def local_datetime(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The aware datetime of a wall-clock time on a day in a zone (DST-safe: in a gap the
    clock has jumped, so the time is moved forward by the gap, as calendars do)."""
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=zone)
    round_trip = aware.astimezone(ZoneInfo("UTC")).astimezone(zone)
    if round_trip.replace(tzinfo=None) != naive:
        return round_trip
    return aware
