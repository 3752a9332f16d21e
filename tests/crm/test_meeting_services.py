import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from calendar_app.models import Attendee, Event, EventStatus, Reminder
from calendar_app.services import ConflictError, event_move
from crm import services
from crm.meeting_scheduling import meeting_cancel, meeting_schedule, meeting_update
from crm.models import Interaction, InteractionType

pytestmark = pytest.mark.django_db

START = (timezone.now() + datetime.timedelta(days=2)).replace(
    hour=9, minute=30, second=0, microsecond=0
)
END = START + datetime.timedelta(hours=1)


def _schedule(organizer, contact, **kwargs):
    return meeting_schedule(
        organizer=organizer,
        contact=contact,
        title=kwargs.pop("title", "Site visit"),
        start_time=kwargs.pop("start_time", START),
        end_time=kwargs.pop("end_time", END),
        **kwargs,
    )


def test_meeting_schedule_creates_the_event_and_the_linked_interaction(rep, contact):
    interaction = _schedule(rep, contact, description="Bring samples")
    event = interaction.calendar_event
    assert interaction.interaction_type == InteractionType.CALENDAR_EVENT
    assert interaction.contact == contact
    assert interaction.author == rep
    assert interaction.timestamp == START
    assert interaction.summary == "Site visit"
    assert interaction.details == "Bring samples"
    assert event.organizer == rep
    assert event.attendees.filter(guest_name=contact.name, guest_email=contact.email).exists()


def test_a_failure_in_the_second_write_leaves_no_event_attendee_or_reminder(
    rep, contact, monkeypatch, django_capture_on_commit_callbacks
):
    def broken_save(self, *args, **kwargs):
        raise RuntimeError("disk full while writing the interaction")

    monkeypatch.setattr(services.Interaction, "save", broken_save)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError, match="disk full"),
    ):
        _schedule(rep, contact, invite=True)
    assert not Event.objects.exists()
    assert not Attendee.objects.exists()
    assert not Reminder.objects.exists()
    assert not Interaction.objects.exists()
    assert callbacks == []
    assert mail.outbox == []


def test_a_contact_the_organizer_cannot_see_is_refused(rep, foreign_contact):
    with pytest.raises(ValidationError, match="not visible"):
        _schedule(rep, foreign_contact)
    assert not Event.objects.exists()


def test_a_conflict_is_refused_unless_scheduled_anyway(rep, contact):
    _schedule(rep, contact)
    with pytest.raises(ConflictError):
        _schedule(rep, contact, title="Second")
    assert Interaction.objects.count() == 1
    _schedule(rep, contact, title="Second", allow_conflicts=True)
    assert Interaction.objects.count() == 2


def test_meeting_update_moves_the_event_and_the_timeline_entry_together(rep, contact):
    interaction = _schedule(rep, contact)
    later = START + datetime.timedelta(days=1)
    interaction = meeting_update(
        actor=rep,
        interaction=interaction,
        title="Site visit, second round",
        start_time=later,
        end_time=later + datetime.timedelta(minutes=30),
        location="Depot",
    )
    assert interaction.timestamp == later
    assert interaction.summary == "Site visit, second round"
    assert interaction.calendar_event.start_time == later
    assert interaction.calendar_event.location == "Depot"


def test_moving_the_event_in_the_calendar_moves_the_timeline_entry(rep, contact):
    interaction = _schedule(rep, contact)
    later = START + datetime.timedelta(days=3)
    event_move(actor=rep, event=interaction.calendar_event, start_time=later)
    interaction.refresh_from_db()
    assert interaction.timestamp == later


def test_meeting_cancel_cancels_the_event_and_keeps_the_entry(rep, contact):
    interaction = _schedule(rep, contact)
    interaction = meeting_cancel(actor=rep, interaction=interaction)
    assert interaction.calendar_event.status == EventStatus.CANCELLED
    assert Interaction.objects.filter(pk=interaction.pk).exists()


def test_someone_outside_the_team_cannot_cancel_the_meeting(rep, contact, outsider):
    interaction = _schedule(rep, contact)
    with pytest.raises(ValidationError, match="not visible"):
        meeting_cancel(actor=outsider, interaction=interaction)
    interaction.calendar_event.refresh_from_db()
    assert interaction.calendar_event.status == EventStatus.CONFIRMED


def test_deleting_the_event_in_the_database_sets_the_interaction_link_to_null(rep, contact):
    interaction = _schedule(rep, contact)
    # A raw SQL DELETE: Django's own on_delete emulation plays no part.
    Event.objects.filter(pk=interaction.calendar_event_id)._raw_delete(connection.alias)
    interaction.refresh_from_db()
    assert interaction.calendar_event_id is None


def test_the_interaction_type_check_accepts_calendar_event_and_refuses_unknown(rep, contact):
    interaction = _schedule(rep, contact)
    with pytest.raises(IntegrityError), transaction.atomic():
        Interaction.objects.filter(pk=interaction.pk).update(interaction_type="telepathy")


def test_a_calendar_event_entry_cannot_be_logged_by_hand(rep, contact):
    with pytest.raises(ValidationError, match="Schedule a meeting"):
        services.interaction_log(
            actor=rep,
            contact=contact,
            interaction_type=InteractionType.CALENDAR_EVENT,
            summary="Fake meeting",
        )
    assert not Interaction.objects.exists()
