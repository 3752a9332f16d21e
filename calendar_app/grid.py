"""Calendar date maths: the days a month or week view covers and what sits on each day, in the
viewer's zone. Pure functions over already loaded rows (no queries)."""

import datetime
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.utils.translation import gettext

from calendar_app.models import Event

DAY_HOURS = range(24)
DEFAULT_FIRST_HOUR, DEFAULT_LAST_HOUR = 7, 19
# A day of the month view lists this many entries; a "+N more" link to its week shows the rest.
MONTH_DAY_ENTRIES = 4


def local_datetime(day: datetime.date, at: datetime.time, zone: ZoneInfo) -> datetime.datetime:
    """The aware datetime of a wall-clock time on a day in a zone. In a daylight-saving gap
    (a time that does not exist that day) it is the moment just after the jump."""
    naive = datetime.datetime.combine(day, at)
    aware = naive.replace(tzinfo=zone)
    normalized = aware.astimezone(datetime.UTC).astimezone(zone)
    return normalized if normalized.replace(tzinfo=None) != naive else aware


def month_range(anchor: datetime.date) -> tuple[datetime.date, datetime.date]:
    """First and last day shown by the month view: whole weeks, Monday to Sunday."""
    first_of_month = anchor.replace(day=1)
    next_month = (first_of_month + datetime.timedelta(days=32)).replace(day=1)
    first = first_of_month - datetime.timedelta(days=first_of_month.weekday())
    last_of_month = next_month - datetime.timedelta(days=1)
    last = last_of_month + datetime.timedelta(days=6 - last_of_month.weekday())
    return first, last


def week_range(anchor: datetime.date) -> tuple[datetime.date, datetime.date]:
    first = anchor - datetime.timedelta(days=anchor.weekday())
    return first, first + datetime.timedelta(days=6)


def shift(anchor: datetime.date, view: str, steps: int) -> datetime.date:
    """The anchor of the previous (-1) or next (+1) month or week."""
    if view == "week":
        return anchor + datetime.timedelta(weeks=steps)
    month_index = anchor.year * 12 + anchor.month - 1 + steps
    return datetime.date(month_index // 12, month_index % 12 + 1, 1)


@dataclass
class Entry:
    """Something shown on a day: an event (draggable when the viewer organizes it; a busy
    block without title or link when its details are hidden from the viewer) or an
    interaction logged that day."""

    kind: str
    start: datetime.datetime
    end: datetime.datetime | None
    title: str
    obj: object
    movable: bool = False
    busy_only: bool = False

    @property
    def cancelled(self) -> bool:
        return isinstance(self.obj, Event) and self.obj.is_cancelled


@dataclass
class Day:
    date: datetime.date
    in_range: bool
    is_today: bool
    entries: list[Entry] = field(default_factory=list)
    more: int = 0


def build_days(
    *,
    first: datetime.date,
    last: datetime.date,
    zone: ZoneInfo,
    today: datetime.date,
    events,
    interactions,
    viewer,
    month: int | None = None,
    per_day: int | None = None,
    busy_times=(),
) -> list[Day]:
    """Days from `first` to `last` with their entries in start order, in `zone`; busy times
    pulled from people's own calendars are grey blocks, titled for their owner only. With
    `per_day`, a day keeps its first `per_day` entries and counts the others in `more`; the
    rows then come from `selectors.first_per_day`, which gives each its `day_total`."""
    days: dict[datetime.date, Day] = {}
    current = first
    while current <= last:
        days[current] = Day(
            date=current,
            in_range=month is None or current.month == month,
            is_today=current == today,
        )
        current += datetime.timedelta(days=1)
    for event in events:
        start = event.start_time.astimezone(zone)
        if start.date() in days:
            movable = event.organizer_id == viewer.pk and not event.is_cancelled
            busy_only = not getattr(event, "details_visible", True)
            days[start.date()].entries.append(
                Entry(
                    "event",
                    start,
                    event.end_time.astimezone(zone),
                    gettext("Busy") if busy_only else event.title,
                    event,
                    movable and not busy_only,
                    busy_only,
                )
            )
    for busy in busy_times:
        start = busy.start_time.astimezone(zone)
        if start.date() in days:
            title = busy.title if busy.user_id == viewer.pk else gettext("Busy")
            days[start.date()].entries.append(
                Entry("busy", start, busy.end_time.astimezone(zone), title, busy, busy_only=True)
            )
    for interaction in interactions:
        start = interaction.timestamp.astimezone(zone)
        if start.date() in days:
            days[start.date()].entries.append(
                Entry("interaction", start, None, interaction.summary, interaction)
            )
    for day in days.values():
        day.entries.sort(key=lambda entry: entry.start)
        if per_day is not None:
            # The rows of one kind on one day all carry that kind's total for the day.
            total = sum({entry.kind: entry.obj.day_total for entry in day.entries}.values())
            day.entries = day.entries[:per_day]
            day.more = total - len(day.entries)
    return list(days.values())


def week_rows(days: list[Day]) -> list[tuple[int, list[tuple[Day, list[Entry]]]]]:
    """Rows of the week view, one per hour: working hours, widened to any hour holding an
    entry; each row holds every day with the entries starting in that hour."""
    used = {entry.start.hour for day in days for entry in day.entries}
    low = min([DEFAULT_FIRST_HOUR, *used])
    high = max([DEFAULT_LAST_HOUR, *used])
    return [
        (hour, [(day, [e for e in day.entries if e.start.hour == hour]) for day in days])
        for hour in DAY_HOURS
        if low <= hour <= high
    ]
