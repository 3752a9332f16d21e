"""CRM + Calendar: meetings with contacts, scheduled from the contact page or the calendar.

The integration of the two modules lives here, in the upper one (`crm` builds on
`calendar_app`, never the reverse). A meeting is a calendar event (the organizer and the
contact's guest entry as attendees, reminders, the optional emailed invitation) plus the
`calendar_event` entry on the contact's timeline, linked by `crm_interactions.calendar_event_id`.

Transactions: `meeting_schedule`, `meeting_update` and `meeting_cancel` are each one outermost,
durable transaction; the calendar services they call run inside it. Locks: the event row
(`FOR NO KEY UPDATE`, taken by the calendar service) is the only row locked; emails and
reminder tasks leave after the commit (`transaction.on_commit`).
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from calendar_app.services import Guest, event_cancel, event_create, event_update
from coop.models import User
from crm.activity import contact_activity_touch, deal_activity_refresh
from crm.activity_totals import activity_key, activity_keys, activity_totals_refresh
from crm.models import Contact, Deal, Interaction, InteractionType
from crm.services import require_visible


def _require_meeting(actor: User, interaction: Interaction) -> Interaction:
    interaction = (
        Interaction.objects.visible_to(actor)
        .select_related("calendar_event", "contact")
        .filter(pk=interaction.pk, calendar_event__isnull=False)
        .first()
    )
    if interaction is None:
        raise ValidationError(gettext("This meeting does not exist or is not visible to you."))
    return interaction


def contact_guest(contact: Contact) -> Guest:
    """How the calendar knows a contact: name, email address and the link to their page."""
    return Guest(
        name=contact.name,
        email=contact.email,
        url=reverse("crm:contact_detail", args=[contact.pk]),
    )


@transaction.atomic(durable=True)
def meeting_schedule(
    *,
    organizer: User,
    contact: Contact,
    title: str,
    start_time: datetime,
    end_time: datetime,
    description: str = "",
    location: str = "",
    invite: bool = False,
    allow_conflicts: bool = False,
) -> Interaction:
    """Schedule a meeting with a visible contact: the calendar event (in the contact's team, with
    the organizer and the contact as its guest, reminders, the optional emailed invitation) and
    the `calendar_event` timeline entry linked to it are written in one outermost transaction,
    so either all exist or none does.

    Raises `calendar_app.services.ConflictError` when the organizer is busy, unless
    `allow_conflicts`; emails and reminder tasks leave only after the commit.
    """
    require_visible(Contact.objects, organizer, contact, "contact")
    event = event_create(
        organizer=organizer,
        team=contact.team,
        title=title,
        start_time=start_time,
        end_time=end_time,
        description=description,
        location=location,
        guests=[contact_guest(contact)],
        invite=invite,
        allow_conflicts=allow_conflicts,
    )
    interaction = Interaction(
        contact=contact,
        author=organizer,
        interaction_type=InteractionType.CALENDAR_EVENT,
        calendar_event=event,
        summary=event.title,
        details=event.description,
        timestamp=event.start_time,
    )
    interaction.full_clean(exclude=["contact", "author", "calendar_event"])
    interaction.save()
    contact_activity_touch(contact.pk, interaction.timestamp)
    activity_totals_refresh(activity_key(contact.team_id, organizer.pk, interaction.timestamp))
    return interaction


@transaction.atomic(durable=True)
def meeting_update(
    *,
    actor: User,
    interaction: Interaction,
    title: str,
    start_time: datetime,
    end_time: datetime,
    description: str = "",
    location: str = "",
    allow_conflicts: bool = False,
) -> Interaction:
    """Edit or move a meeting from the timeline: the event changes (invited contacts get an
    update) and its timeline entry follows it (summary, details, time), in one transaction."""
    interaction = _require_meeting(actor, interaction)
    event_update(
        actor=actor,
        event=interaction.calendar_event,
        title=title,
        start_time=start_time,
        end_time=end_time,
        description=description,
        location=location,
        allow_conflicts=allow_conflicts,
    )
    interaction.refresh_from_db()
    return interaction


@transaction.atomic(durable=True)
def meeting_cancel(*, actor: User, interaction: Interaction) -> Interaction:
    """Cancel a meeting from the timeline: the event is cancelled (invited contacts get a
    cancellation) and the timeline entry stays, marked cancelled through its event."""
    interaction = _require_meeting(actor, interaction)
    event_cancel(actor=actor, event=interaction.calendar_event)
    interaction.refresh_from_db()
    return interaction


def meeting_interactions_sync(*, event) -> int:
    """Keep the timeline entries of an event equal to it (title, description, start time).
    Runs inside the caller's transaction whenever an event is saved, whichever module moved it;
    the contacts' deals' last activity and the activity report's totals follow the new time."""
    entries = Interaction.objects.filter(calendar_event_id=event.pk)
    moved = set(entries.exclude(timestamp=event.start_time).values_list("contact_id", flat=True))
    counted = activity_keys(interactions=entries)
    updated = entries.update(
        summary=event.title[:255],
        details=event.description,
        timestamp=event.start_time,
        updated_at=timezone.now(),
    )
    if moved:
        deal_activity_refresh(Deal.objects.filter(contact_id__in=moved))
    if counted:  # the meeting may have moved to another day
        activity_totals_refresh(counted | activity_keys(interactions=entries))
    return updated
