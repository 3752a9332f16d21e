"""The calendar page: month and week views of a person's (or their team's) meetings and CRM
timeline entries, with a side list of contacts and deals to drag onto a day to schedule a
meeting. It joins both modules, so it lives in `crm`, the upper one (`calendar_app` keeps the
event pages, notifications, preferences and the feed).

Dates and times are shown and parsed in the viewer's zone (`coop.middleware` activates it).
"""

import datetime

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from calendar_app.grid import (
    MONTH_DAY_ENTRIES,
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
from coop.visibility import visible_users
from crm.models import Deal
from crm.selectors import contacts_matching, interactions_between

SIDE_LIST_SIZE = 12


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
    events = events_between(users=users, start=start, end=end, viewer=request.user)
    interactions = interactions_between(viewer=request.user, authors=users, start=start, end=end)
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
    context = {
        "view": view,
        "anchor": anchor,
        "first": first,
        "last": last,
        "previous": shift(anchor, view, -1),
        "next": shift(anchor, view, 1),
        "weeks": [days[i : i + 7] for i in range(0, len(days), 7)],
        "week_rows": week_rows(days) if view == "week" else [],
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
