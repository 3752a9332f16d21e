"""The calendar page: month and week views of a person's (or their team's) meetings and CRM
timeline entries, with a side list of contacts and deals to drag onto a day to schedule a
meeting. It joins both modules, so it lives in `crm`, the upper one (`calendar_app` keeps the
event pages, notifications, preferences and the feed).

Dates and times are shown and parsed in the viewer's zone (`coop.middleware` activates it).
"""

import datetime
from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from calendar_app.grid import (
    MONTH_DAY_ENTRIES,
    Day,
    Entry,
    build_days,
    local_datetime,
    month_range,
    shift,
    week_range,
    week_rows,
)
from calendar_app.selectors import busy_times_between, events_between, first_per_day
from coop.dates import clamp_day
from coop.htmx import varies_on_htmx
from coop.page_cache import cached_page
from coop.paths import path_for_pk
from coop.visibility import visible_users
from crm.models import Deal, InteractionType
from crm.selectors import contacts_matching, interactions_between

SIDE_LIST_SIZE = 12


@dataclass(frozen=True)
class Slot:
    """One cell of the week view: a day's hour, with the strings its drop target needs."""

    date: str
    start: str
    is_today: bool
    entries: list[Entry]


def _label_entries(days: list[Day], people: list) -> None:
    """Give each entry the strings its template shows, computed here once rather than by
    filters, `{% url %}` and lookups per entry (a busy week holds hundreds): `iso` and `hm`
    (its start as `date:'c'` and `time:'H:i'` give them), `href` and `move_url`, `person`
    (whose calendar it is on; the people shown are already loaded, so no query per entry)
    and, for interactions, `type_label` and `contact_name`."""
    names = {person.pk: str(person) for person in people}
    # `get_interaction_type_display()` translates every choice on each call.
    type_labels = {value: str(label) for value, label in InteractionType.choices}
    event_path = path_for_pk("calendar_app:event_detail")
    move_path = path_for_pk("calendar_app:event_move")
    contact_path = path_for_pk("crm:contact_detail")
    for day in days:
        for entry in day.entries:
            entry.iso = entry.start.isoformat()
            entry.hm = f"{entry.start.hour:02d}:{entry.start.minute:02d}"
            obj = entry.obj
            if entry.kind == "busy":
                entry.person = names.get(obj.user_id) or str(obj.user)
            elif entry.kind == "event":
                entry.person = names.get(obj.organizer_id) or str(obj.organizer)
                entry.href = event_path(obj.pk)
                entry.move_url = move_path(obj.pk) if entry.movable else ""
            else:
                entry.type_label = type_labels.get(obj.interaction_type, obj.interaction_type)
                entry.contact_name = obj.contact.name
                entry.href = contact_path(obj.contact_id)


def _week_table(days: list[Day]) -> list[tuple[str, list[Slot]]]:
    """`grid.week_rows` with each row's hour as `HH:00` and each cell as a `Slot`."""
    dates = {day.date: day.date.isoformat() for day in days}
    return [
        (
            f"{hour:02d}:00",
            [
                Slot(dates[day.date], f"{dates[day.date]}T{hour:02d}:00", day.is_today, entries)
                for day, entries in cells
            ],
        )
        for hour, cells in week_rows(days)
    ]


def _anchor(request: HttpRequest) -> datetime.date:
    """`?date=`, clamped to the supported years (`coop.dates`); today when it is no date."""
    try:
        return clamp_day(datetime.date.fromisoformat(request.GET.get("date", "")))
    except ValueError:
        return timezone.localdate()


def _people(request: HttpRequest) -> tuple[list, list, str]:
    """Whose calendar to show: `?who=<user id>` or `?who=team` among the people the viewer
    may see (`coop.visibility.visible_users`); anyone else is a 404."""
    people = list(visible_users(request.user).order_by("display_name", "username"))
    who = request.GET.get("who", "")
    if who == "team" and len(people) > 1:
        return people, people, "team"
    if who and who != str(request.user.pk):
        chosen = [person for person in people if str(person.pk) == who]
        if not chosen:
            raise Http404("No such calendar.")
        return chosen, people, who
    return [request.user], people, ""


@require_GET
@cached_page
@varies_on_htmx
def calendar_page(request: HttpRequest) -> HttpResponse:
    """The month (default) or week view; under htmx only the `grid` partial, which reloads
    itself after a meeting is scheduled or moved. A day of the month shows its first
    `MONTH_DAY_ENTRIES` entries and links the rest to its week, which shows everything."""
    view = "week" if request.GET.get("view") == "week" else "month"
    anchor = _anchor(request)
    users, people, who = _people(request)
    zone = timezone.get_current_timezone()
    first, last = week_range(anchor) if view == "week" else month_range(anchor)
    start = local_datetime(first, datetime.time(), zone)
    end = local_datetime(last + datetime.timedelta(days=1), datetime.time(), zone)
    # Only the columns the grid shows: a busy week holds hundreds of rows, and the people
    # whose calendars they are on are already loaded (`_label_entries`).
    events = (
        events_between(users=users, start=start, end=end, viewer=request.user)
        .select_related(None)
        .only("id", "organizer_id", "title", "start_time", "end_time", "status")
    )
    interactions = interactions_between(
        viewer=request.user, authors=users, start=start, end=end
    ).only("id", "contact_id", "interaction_type", "summary", "timestamp", "contact__name")
    per_day = MONTH_DAY_ENTRIES if view == "month" else None
    if per_day is not None:
        events = first_per_day(events, field="start_time", zone=zone, limit=per_day)
        interactions = first_per_day(interactions, field="timestamp", zone=zone, limit=per_day)
    days = build_days(
        first=first,
        last=last,
        zone=zone,
        today=timezone.localdate(),
        events=events,
        interactions=interactions,
        viewer=request.user,
        month=anchor.month if view == "month" else None,
        per_day=per_day,
        busy_times=busy_times_between(users=users, start=start, end=end) if view == "week" else (),
    )
    _label_entries(days, users)
    context = {
        "view": view,
        "anchor": anchor,
        "first": first,
        "last": last,
        "previous": shift(anchor, view, -1),
        "next": shift(anchor, view, 1),
        "weeks": [days[i : i + 7] for i in range(0, len(days), 7)],
        "week_rows": _week_table(days) if view == "week" else [],
        "days": days,
        "has_entries": any(day.entries for day in days),
        "who": who,
        "people": people,
        "showing_team": who == "team",
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "crm/calendar.html#grid", context)
    own_deals = (
        Deal.objects.visible_to(request.user)
        .open()
        .filter(owner=request.user, contact__isnull=False)
        .select_related("contact")
        .order_by("expected_close_date", "title")
    )
    context |= {
        "side_contacts": contacts_matching(user=request.user)[:SIDE_LIST_SIZE],
        "side_deals": own_deals[:SIDE_LIST_SIZE],
    }
    return render(request, "crm/calendar.html", context)
