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
from django.utils.translation import gettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from calendar_app import caldav_sync, ics
from calendar_app.caldav_client import CalDavError
from calendar_app.forms import CalDavCalendarsForm, CalDavConnectForm, MoveForm, PreferenceForm
from calendar_app.grid import (
    local_datetime,
)
from calendar_app.models import CalDavAccount, CalendarPreference, Event, feed_token_digest
from calendar_app.responses import attempt, cancelled, changed, dialog
from calendar_app.selectors import (
    events_of,
    events_visible_to,
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
from coop.htmx import varies_on_htmx

NOTIFICATIONS_PER_PAGE = 20
FEED_PAST = datetime.timedelta(days=180)
FEED_FUTURE = datetime.timedelta(days=400)
MOVE_DIALOG = "calendar_app/partials/move_dialog.html"
# A new feed token, between its making and the one page that shows it.
NEW_FEED_SESSION_KEY = "calendar_app.new_feed_token"


def _visible_event(request: HttpRequest, pk: UUID) -> Event:
    events = events_visible_to(request.user).select_related("organizer")
    return get_object_or_404(events, pk=pk)


def _event_page(request: HttpRequest, event: Event, form: MoveForm, status: int = 200):
    attendees = event.attendees.select_related("user")
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
@varies_on_htmx
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
                message=gettext("“%(title)s” moved to %(when)s.")
                % {"title": event.title, "when": when},
                redirect_to=reverse("calendar_app:event_detail", args=[event.pk]),
            )
    context = {
        "event": event,
        "form": form,
        "conflicts": conflicts,
        "proposed": proposed,
        "heading": gettext("Move “%(title)s”") % {"title": event.title},
    }
    return dialog(request, MOVE_DIALOG, context, invalid=True)


@require_POST
@varies_on_htmx
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
            messages.success(request, gettext("Reminder setting saved."))
            return redirect("calendar_app:preferences")
    # Only a hash of the token is stored: its address is shown once, right after it is made.
    new_token = request.session.pop(NEW_FEED_SESSION_KEY, None)
    context = {
        "form": form,
        "has_feed": preference.feed_token_hash is not None,
        "new_feed_url": new_token
        and request.build_absolute_uri(reverse("calendar_app:feed", args=[new_token])),
    }
    return render(
        request, "calendar_app/preferences.html", context, status=400 if form.errors else 200
    )


@require_POST
def feed_regenerate(request: HttpRequest) -> HttpResponse:
    request.session[NEW_FEED_SESSION_KEY] = feed_token_regenerate(user=request.user)
    messages.success(
        request, gettext("Your calendar feed has a new address; any older one no longer works.")
    )
    return redirect("calendar_app:preferences")


@login_not_required
@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """A user's events, organised or attended, as an iCalendar feed for calendar programs to
    subscribe to. Public: the unguessable token is the credential, looked up by its hash;
    regenerating it makes this URL a 404."""
    preference = get_object_or_404(
        CalendarPreference.objects.select_related("user"),
        feed_token_hash=feed_token_digest(token),
        user__is_active=True,
    )
    now = timezone.now()
    events = events_of(user=preference.user, start=now - FEED_PAST, end=now + FEED_FUTURE)
    body = ics.feed(gettext("Co-op CRM: %(person)s") % {"person": preference.user}, events)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="coop-crm.ics"'
    response["Cache-Control"] = "private, no-cache"
    return response


def _caldav_page(request: HttpRequest, *, connect_form=None, calendars_form=None, status=200):
    account = CalDavAccount.objects.filter(user=request.user).first()
    if account is not None and calendars_form is None:
        calendars = account.calendars.all()
        calendars_form = CalDavCalendarsForm(
            calendars=calendars,
            initial={
                "receiving": next((c.pk for c in calendars if c.receives_meetings), None),
                "busy": [c.pk for c in calendars if c.counts_as_busy],
            },
        )
    context = {
        "account": account,
        "connect_form": connect_form or CalDavConnectForm(),
        "calendars_form": calendars_form,
    }
    return render(request, "calendar_app/caldav.html", context, status=status)


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def caldav_settings(request: HttpRequest) -> HttpResponse:
    """Connect (or reconnect) a CalDAV account; its status, calendars and actions."""
    if request.method == "GET":
        return _caldav_page(request)
    form = CalDavConnectForm(request.POST)
    if form.is_valid():
        try:
            caldav_sync.account_connect(user=request.user, **form.cleaned_data)
        except (CalDavError, *caldav_sync.RETRIED_ERRORS) as error:
            form.add_error(None, caldav_sync.failure_reason(error))
        else:
            messages.success(
                request, gettext("Calendar connected. Your meetings are on their way.")
            )
            return redirect("calendar_app:caldav")
    return _caldav_page(request, connect_form=form, status=400)


@require_POST
def caldav_calendars(request: HttpRequest) -> HttpResponse:
    account = get_object_or_404(CalDavAccount, user=request.user)
    form = CalDavCalendarsForm(request.POST, calendars=account.calendars.all())
    if form.is_valid():
        try:
            caldav_sync.account_calendars_choose(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, gettext("Calendar choices saved."))
            return redirect("calendar_app:caldav")
    return _caldav_page(request, calendars_form=form, status=400)


@require_POST
def caldav_test(request: HttpRequest) -> HttpResponse:
    get_object_or_404(CalDavAccount, user=request.user)
    try:
        caldav_sync.account_test(user=request.user)
    except CalDavError as error:
        messages.error(request, gettext("The connection failed: %(error)s") % {"error": error})
    else:
        messages.success(request, gettext("The connection works."))
    return redirect("calendar_app:caldav")


@require_POST
def caldav_disconnect(request: HttpRequest) -> HttpResponse:
    caldav_sync.account_disconnect(user=request.user)
    messages.success(request, gettext("Calendar disconnected; its password is deleted."))
    return redirect("calendar_app:caldav")
