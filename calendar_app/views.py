"""Calendar pages: month and week views, an event's page (the keyboard path for moving and
cancelling), the drag-and-drop move, notifications, preferences and the public ICS feed.

Dates and times are shown and parsed in the viewer's zone (`coop.middleware` activates it).
"""

import datetime
from functools import partial
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from calendar_app import ics
from calendar_app.forms import MoveForm, PreferenceForm
from calendar_app.grid import (
    MONTH_DAY_ENTRIES,
    build_days,
    local_datetime,
    month_range,
    shift,
    week_range,
    week_rows,
)
from calendar_app.models import CalendarPreference, Event
from calendar_app.responses import attempt, cancelled, changed, dialog
from calendar_app.selectors import (
    events_between,
    events_visible_to,
    first_per_day,
    notifications_for,
)
from calendar_app.services import (
    event_cancel,
    event_change_refusal,
    event_move,
    feed_token_regenerate,
    notifications_mark_read,
    preference_get_or_create,
    preference_update,
)
from coop.dates import clamp_day
from coop.teams import visible_users
from crm.models import Deal
from crm.selectors import contacts_matching, interactions_between

SIDE_LIST_SIZE = 12
NOTIFICATIONS_PER_PAGE = 20
FEED_PAST = datetime.timedelta(days=180)
FEED_FUTURE = datetime.timedelta(days=400)
MOVE_DIALOG = "calendar_app/partials/move_dialog.html"


def _anchor(request: HttpRequest) -> datetime.date:
    """`?date=`, clamped to the supported years (`coop.dates`); today when it is no date."""
    try:
        return clamp_day(datetime.date.fromisoformat(request.GET.get("date", "")))
    except ValueError:
        return timezone.localdate()


def _people(request: HttpRequest) -> tuple[list, list, str]:
    """Whose calendar to show: `?who=<user id>` or `?who=team` among the people the viewer
    may see (`coop.teams.visible_users`); anyone else is a 404."""
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
def index(request: HttpRequest) -> HttpResponse:
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
    events = events_between(users=users, start=start, end=end)
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
        return render(request, "calendar_app/index.html#grid", context)
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
    return render(request, "calendar_app/index.html", context)


def _visible_event(request: HttpRequest, pk: UUID) -> Event:
    events = events_visible_to(request.user).select_related("organizer")
    return get_object_or_404(events, pk=pk)


def _event_page(request: HttpRequest, event: Event, form: MoveForm, status: int = 200):
    attendees = event.attendees.select_related("contact", "user")
    context = {
        "event": event,
        "attendees": attendees,
        "form": form,
        "can_change": event_change_refusal(request.user, event) is None,
    }
    return render(request, "calendar_app/event_detail.html", context, status=status)


@require_GET
def event_detail(request: HttpRequest, pk: UUID) -> HttpResponse:
    event = _visible_event(request, pk)
    form = MoveForm(
        initial={
            "start_time": timezone.localtime(event.start_time),
            "end_time": timezone.localtime(event.end_time),
        }
    )
    return _event_page(request, event, form)


def _new_times(event: Event, data: dict) -> tuple[datetime.datetime, datetime.datetime | None]:
    """From a drop on a day: that day at the event's own time of day (wall clock, so a move
    across a daylight-saving change keeps 10:00 at 10:00); else the given start (and end)."""
    if data.get("start_time"):
        return data["start_time"], data.get("end_time")
    zone = timezone.get_current_timezone()
    time_of_day = event.start_time.astimezone(zone).time()
    return local_datetime(data["date"], time_of_day, zone), None


@require_POST
def event_move_view(request: HttpRequest, pk: UUID) -> HttpResponse:
    """Move an event (a drop on the calendar, or the form on its page). A conflict or an error
    answers with the move dialog, where "Move anyway" confirms."""
    event = _visible_event(request, pk)
    form = MoveForm(request.POST)
    conflicts: list[Event] = []
    proposed = None
    if form.is_valid():
        start_time, end_time = _new_times(event, form.cleaned_data)
        proposed = (start_time, end_time or start_time + (event.end_time - event.start_time))
        moved, conflicts = attempt(
            form,
            partial(
                event_move,
                actor=request.user,
                event=event,
                start_time=start_time,
                end_time=end_time,
                allow_conflicts=request.POST.get("move_anyway") == "1",
            ),
        )
        if moved is not None:
            event = moved
            when = date_format(timezone.localtime(event.start_time), "D j M, H:i")
            return changed(
                request,
                event="meetingChanged",
                message=f"“{event.title}” moved to {when}.",
                redirect_to=reverse("calendar_app:event_detail", args=[event.pk]),
            )
    context = {
        "event": event,
        "form": form,
        "conflicts": conflicts,
        "proposed": proposed,
        "heading": f"Move “{event.title}”",
    }
    return dialog(request, MOVE_DIALOG, context, invalid=True)


@require_POST
def event_cancel_view(request: HttpRequest, pk: UUID) -> HttpResponse:
    event = _visible_event(request, pk)
    return cancelled(
        request,
        partial(event_cancel, actor=request.user, event=event),
        title=event.title,
        redirect_to=reverse("calendar_app:event_detail", args=[event.pk]),
    )


@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(notifications_for(request.user), NOTIFICATIONS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "calendar_app/notifications.html", {"page_obj": page})


@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    """Mark all of the user's notifications read (or only `id` when given)."""
    ids = request.POST.getlist("id") or None
    if ids is not None:
        try:
            ids = [UUID(value) for value in ids]
        except ValueError as error:
            raise Http404("No such notification.") from error
    count = notifications_mark_read(user=request.user, notification_ids=ids)
    messages.success(request, f"{count} notification(s) marked read.")
    return redirect("calendar_app:notifications")


@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    preference = preference_get_or_create(user=request.user)
    form = PreferenceForm(
        request.POST or None, initial={"reminder_minutes": preference.reminder_minutes}
    )
    if form.is_valid():
        try:
            preference_update(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Reminder setting saved.")
            return redirect("calendar_app:preferences")
    feed_url = request.build_absolute_uri(
        reverse("calendar_app:feed", args=[preference.feed_token])
    )
    context = {"form": form, "feed_url": feed_url}
    return render(
        request, "calendar_app/preferences.html", context, status=400 if form.errors else 200
    )


@require_POST
def feed_regenerate(request: HttpRequest) -> HttpResponse:
    feed_token_regenerate(user=request.user)
    messages.success(request, "Your calendar feed has a new address; the old one no longer works.")
    return redirect("calendar_app:preferences")


@login_not_required
@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """A user's events as an iCalendar feed, for calendar programs to subscribe to. Public:
    the unguessable token is the credential; regenerating it makes this URL a 404."""
    preference = get_object_or_404(
        CalendarPreference.objects.select_related("user"), feed_token=token, user__is_active=True
    )
    now = timezone.now()
    events = events_between(
        users=[preference.user], start=now - FEED_PAST, end=now + FEED_FUTURE, with_attendees=True
    )
    body = ics.feed(f"Co-op CRM: {preference.user}", events)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="coop-crm.ics"'
    response["Cache-Control"] = "private, no-cache"
    return response
