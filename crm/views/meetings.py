"""The Schedule Meeting dialog and the timeline's meeting actions (edit, cancel). They parse
input and call `crm.meeting_scheduling.meeting_*`, which keep the event and its timeline entry
together."""

import datetime
from functools import partial
from uuid import UUID

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from calendar_app.forms import EventForm, default_start
from calendar_app.responses import ERROR_DIALOG, attempt, cancelled, changed, dialog
from calendar_app.services import event_change_refusal
from coop.dates import EARLIEST_DAY, LATEST_DAY
from coop.htmx import varies_on_htmx
from crm.meeting_scheduling import meeting_cancel, meeting_schedule, meeting_update
from crm.models import Contact, Deal, Interaction
from crm.views.contacts import visible_contact

MEETING_FORM = "crm/partials/meeting_form.html"
DEFAULT_LENGTH = datetime.timedelta(minutes=30)


class MeetingForm(EventForm):
    invite = forms.BooleanField(
        label=_("Email an invitation to the contact"),
        required=False,
        help_text=_("With an .ics file for their calendar; changes and cancellation follow."),
    )


def _prefilled_start(request: HttpRequest) -> datetime.datetime:
    """The start a drop on the calendar asks for (`?date=` and `?time=`), else a default. A
    day outside the supported years (`coop.dates`) is no date."""
    try:
        day = datetime.date.fromisoformat(request.GET["date"]) if "date" in request.GET else None
        at = datetime.time.fromisoformat(request.GET["time"]) if "time" in request.GET else None
    except ValueError as error:
        raise Http404("Not a date or time.") from error
    if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
        raise Http404("Not a supported date.")
    return default_start(day, timezone.now(), at)


def _deal_for(request: HttpRequest, contact: Contact) -> Deal | None:
    deal_id = request.GET.get("deal") or request.POST.get("deal")
    if not deal_id:
        return None
    try:
        UUID(deal_id)
    except ValueError as error:
        raise Http404("No such deal.") from error
    deals = Deal.objects.visible_to(request.user).open().filter(contact=contact)
    return get_object_or_404(deals, pk=deal_id)


def _visible_meeting(request: HttpRequest, pk: UUID) -> Interaction:
    meetings = Interaction.objects.visible_to(request.user).select_related(
        "calendar_event", "contact"
    )
    return get_object_or_404(meetings, pk=pk, calendar_event__isnull=False)


def _schedule_anyway(request: HttpRequest) -> bool:
    return request.POST.get("schedule_anyway") == "1"


@require_http_methods(["GET", "POST"])
@varies_on_htmx
def meeting_new(request: HttpRequest, pk: UUID) -> HttpResponse:
    """The Schedule Meeting dialog for a contact (`?date=` and `?deal=` prefill it, as a drop
    on the calendar does); conflicts are listed and need an explicit "schedule anyway"."""
    contact = visible_contact(request, pk)
    deal = _deal_for(request, contact)
    action = reverse("crm:meeting_new", args=[contact.pk])
    conflicts: list = []
    if request.method == "POST":
        form = MeetingForm(request.POST, zone_name=request.user.time_zone)
        if form.is_valid():
            interaction, conflicts = attempt(
                form,
                partial(
                    meeting_schedule,
                    organizer=request.user,
                    contact=contact,
                    allow_conflicts=_schedule_anyway(request),
                    **form.cleaned_data,
                ),
            )
            if interaction is not None:
                when = date_format(timezone.localtime(interaction.timestamp), "D j M, H:i")
                return changed(
                    request,
                    event="meetingScheduled",
                    message=gettext("Meeting “%(title)s” scheduled for %(when)s.")
                    % {"title": interaction.summary, "when": when},
                    redirect_to=reverse("crm:contact_detail", args=[contact.pk]),
                )
    else:
        start = _prefilled_start(request)
        title = (
            gettext("%(deal)s: meeting with %(name)s") % {"deal": deal.title, "name": contact.name}
            if deal
            else gettext("Meeting with %(name)s") % {"name": contact.name}
        )
        form = MeetingForm(
            initial={"title": title[:200], "start_time": start, "end_time": start + DEFAULT_LENGTH},
            zone_name=request.user.time_zone,
        )
    context = dict(
        form=form,
        heading=gettext("Schedule a meeting with %(name)s") % {"name": contact.name},
        action=action,
        contact=contact,
        deal=deal,
        conflicts=conflicts,
        new=True,
    )
    return dialog(request, MEETING_FORM, context, invalid=form.is_bound)


@require_http_methods(["GET", "POST"])
@varies_on_htmx
def meeting_edit(request: HttpRequest, pk: UUID) -> HttpResponse:
    """Edit or move a meeting from the timeline; the event and the entry change together."""
    interaction = _visible_meeting(request, pk)
    event = interaction.calendar_event
    refusal = event_change_refusal(request.user, event)
    if refusal:
        context = {"heading": gettext("This meeting cannot be edited"), "errors": [refusal]}
        return dialog(request, ERROR_DIALOG, context, invalid=True)
    conflicts: list = []
    if request.method == "POST":
        form = EventForm(request.POST, zone_name=request.user.time_zone)
        if form.is_valid():
            updated, conflicts = attempt(
                form,
                partial(
                    meeting_update,
                    actor=request.user,
                    interaction=interaction,
                    allow_conflicts=_schedule_anyway(request),
                    **form.cleaned_data,
                ),
            )
            if updated is not None:
                return changed(
                    request,
                    event="meetingChanged",
                    message=gettext("Meeting “%(title)s” saved.")
                    % {"title": form.cleaned_data["title"]},
                    redirect_to=reverse("crm:contact_detail", args=[interaction.contact_id]),
                )
    else:
        form = EventForm(
            initial={
                "title": event.title,
                "start_time": timezone.localtime(event.start_time),
                "end_time": timezone.localtime(event.end_time),
                "location": event.location,
                "description": event.description,
            },
            zone_name=request.user.time_zone,
        )
    context = dict(
        form=form,
        heading=gettext("Edit the meeting"),
        action=reverse("crm:meeting_edit", args=[interaction.pk]),
        contact=interaction.contact,
        conflicts=conflicts,
        new=False,
    )
    return dialog(request, MEETING_FORM, context, invalid=form.is_bound)


@require_POST
@varies_on_htmx
def meeting_cancel_view(request: HttpRequest, pk: UUID) -> HttpResponse:
    """Cancel a meeting from the timeline (invited contacts get a cancellation)."""
    interaction = _visible_meeting(request, pk)
    return cancelled(
        request,
        partial(meeting_cancel, actor=request.user, interaction=interaction),
        title=interaction.summary,
        redirect_to=reverse("crm:contact_detail", args=[interaction.contact_id]),
    )
