import datetime
import hashlib
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from calendar_app.models import (
    Attendee,
    CalendarPreference,
    Event,
    EventStatus,
    Reminder,
    ReminderKind,
    Rsvp,
)
from calendar_app.selectors import conflicts, events_between
from calendar_app.services import (
    ConflictError,
    event_cancel,
    event_create,
    event_move,
    event_update,
    feed_token_regenerate,
    preference_get_or_create,
    preference_update,
)
from crm.meeting_scheduling import contact_guest
from tests.calendar_app.factories import EventFactory

pytestmark = pytest.mark.django_db

TOMORROW_10 = (timezone.now() + datetime.timedelta(days=1)).replace(
    hour=10, minute=0, second=0, microsecond=0
)


def _create(organizer, *, start=TOMORROW_10, minutes=60, **kwargs):
    return event_create(
        organizer=organizer,
        title=kwargs.pop("title", "Kick-off"),
        start_time=start,
        end_time=start + datetime.timedelta(minutes=minutes),
        **kwargs,
    )


def test_event_create_adds_organizer_and_contact_attendees_and_two_reminders(rep, contact):
    event = _create(rep, guests=[contact_guest(contact)], location="Their office")
    assert event.status == EventStatus.CONFIRMED
    assert event.sequence == 0
    assert {(a.user_id, a.guest_name, a.guest_email, a.rsvp) for a in event.attendees.all()} == {
        (rep.pk, "", "", Rsvp.ACCEPTED),
        (None, contact.name, contact.email, Rsvp.NEEDS_ACTION),
    }
    reminders = {r.kind: r.due_at for r in event.reminders.all()}
    assert reminders == {
        ReminderKind.BEFORE: TOMORROW_10 - datetime.timedelta(minutes=15),
        ReminderKind.FOLLOW_UP: TOMORROW_10 + datetime.timedelta(hours=1),
    }


def test_reminder_lead_time_follows_the_users_preference(rep):
    preference_update(user=rep, reminder_minutes=45)
    event = _create(rep)
    before = event.reminders.get(kind=ReminderKind.BEFORE)
    assert before.due_at == TOMORROW_10 - datetime.timedelta(minutes=45)


def test_changing_the_preference_moves_pending_reminders(rep):
    event = _create(rep)
    preference_update(user=rep, reminder_minutes=60)
    assert event.reminders.get(kind=ReminderKind.BEFORE).due_at == TOMORROW_10 - datetime.timedelta(
        hours=1
    )


def test_a_reminder_lead_time_over_a_week_is_refused(rep):
    with pytest.raises(ValidationError):
        preference_update(user=rep, reminder_minutes=8 * 24 * 60)
    assert not CalendarPreference.objects.filter(user=rep, reminder_minutes__gt=15).exists()


@pytest.mark.parametrize(
    ("minutes", "message"),
    [(0, "must end after it starts"), (-30, "must end after it starts"), (25 * 60, "24 hours")],
)
def test_event_create_refuses_bad_times_and_writes_nothing(rep, minutes, message):
    with pytest.raises(ValidationError, match=message):
        _create(rep, minutes=minutes)
    assert not Event.objects.exists()
    assert not Reminder.objects.exists()


def test_event_create_refuses_an_empty_title(rep):
    with pytest.raises(ValidationError, match="title"):
        _create(rep, title="   ")


def test_the_database_refuses_an_event_ending_before_it_starts(rep):
    with pytest.raises(IntegrityError), transaction.atomic():
        EventFactory(organizer=rep, start_time=TOMORROW_10, end_time=TOMORROW_10)


def test_conflicts_are_refused_unless_allowed(rep):
    first = _create(rep)
    with pytest.raises(ConflictError) as error:
        _create(rep, start=TOMORROW_10 + datetime.timedelta(minutes=30), title="Overlap")
    assert error.value.conflicts == [first]
    assert Event.objects.count() == 1
    _create(rep, start=TOMORROW_10 + datetime.timedelta(minutes=30), allow_conflicts=True)
    assert Event.objects.count() == 2


def test_back_to_back_and_cancelled_events_are_not_conflicts(rep):
    first = _create(rep)
    assert (
        conflicts(user=rep, start=first.end_time, end=first.end_time + datetime.timedelta(hours=1))
        == []
    )
    event_cancel(actor=rep, event=first)
    assert conflicts(user=rep, start=first.start_time, end=first.end_time) == []


def test_another_users_events_are_not_conflicts(rep, manager):
    _create(manager)
    assert _create(rep).pk


def test_event_move_keeps_the_length_raises_the_sequence_and_rearms_reminders(rep):
    event = _create(rep, minutes=45)
    before = event.reminders.get(kind=ReminderKind.BEFORE)
    Reminder.objects.filter(pk=before.pk).update(sent_at=timezone.now())
    new_start = TOMORROW_10 + datetime.timedelta(days=2)
    event = event_move(actor=rep, event=event, start_time=new_start)
    assert (event.start_time, event.end_time) == (
        new_start,
        new_start + datetime.timedelta(minutes=45),
    )
    assert event.sequence == 1
    before.refresh_from_db()
    assert before.due_at == new_start - datetime.timedelta(minutes=15)
    assert before.sent_at is None


def test_only_the_organizer_moves_an_event(rep, manager):
    event = _create(rep)
    with pytest.raises(ValidationError, match="Only the organizer"):
        event_move(actor=manager, event=event, start_time=TOMORROW_10 + datetime.timedelta(days=1))
    event.refresh_from_db()
    assert event.start_time == TOMORROW_10


def test_event_move_refuses_a_conflict(rep):
    _create(rep, title="Busy")
    other = _create(rep, start=TOMORROW_10 + datetime.timedelta(hours=3))
    with pytest.raises(ConflictError):
        event_move(actor=rep, event=other, start_time=TOMORROW_10)
    other.refresh_from_db()
    assert other.start_time == TOMORROW_10 + datetime.timedelta(hours=3)


def test_event_update_without_changes_keeps_the_sequence(rep):
    event = _create(rep)
    event = event_update(
        actor=rep,
        event=event,
        title=event.title,
        start_time=event.start_time,
        end_time=event.end_time,
    )
    assert event.sequence == 0


def test_event_cancel_marks_it_drops_pending_reminders_and_refuses_a_second_time(rep):
    event = _create(rep)
    event = event_cancel(actor=rep, event=event)
    assert event.status == EventStatus.CANCELLED
    assert event.sequence == 1
    assert not event.reminders.filter(sent_at__isnull=True).exists()
    with pytest.raises(ValidationError, match="cancelled"):
        event_cancel(actor=rep, event=event)
    with pytest.raises(ValidationError, match="cancelled"):
        event_move(actor=rep, event=event, start_time=TOMORROW_10)


def test_invitation_needs_the_contacts_email(rep, contact):
    contact.email = ""
    contact.save()
    with pytest.raises(ValidationError, match="no email address"):
        _create(rep, guests=[contact_guest(contact)], invite=True)
    assert not Event.objects.exists()


def test_deleting_an_event_deletes_its_attendees_and_reminders_in_the_database(rep, contact):
    event = _create(rep, guests=[contact_guest(contact)])
    Event.objects.filter(pk=event.pk)._raw_delete(Event.objects.db)
    assert not Attendee.objects.exists()
    assert not Reminder.objects.exists()


def test_events_between_lists_overlapping_events_of_the_given_users(rep, manager):
    inside = _create(rep)
    _create(rep, start=TOMORROW_10 + datetime.timedelta(days=10))
    _create(manager)
    found = list(
        events_between(
            users=[rep],
            start=TOMORROW_10 + datetime.timedelta(minutes=30),
            end=TOMORROW_10 + datetime.timedelta(hours=2),
        )
    )
    assert found == [inside]


def test_regenerating_the_feed_token_changes_it(rep):
    first = feed_token_regenerate(user=rep)
    second = feed_token_regenerate(user=rep)
    assert first != second
    assert len(second) >= 40


def test_only_the_sha256_of_the_feed_token_is_stored(rep):
    token = feed_token_regenerate(user=rep)
    row = CalendarPreference.objects.filter(user=rep).values().get()
    assert row["feed_token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(row)


def test_a_new_preference_has_no_feed_address(rep):
    assert preference_get_or_create(user=rep).feed_token_hash is None


def test_events_are_stored_in_utc_whatever_zone_they_were_entered_in(rep):
    paris = ZoneInfo("Europe/Paris")
    start = datetime.datetime(2027, 3, 28, 10, 0, tzinfo=paris)
    event = _create(rep, start=start)
    event.refresh_from_db()
    assert event.start_time.utcoffset() == datetime.timedelta(0)
    assert event.start_time == datetime.datetime(2027, 3, 28, 8, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "Board\nBcc: everyone@example.com"}, "title must be one line"),
        ({"location": "Room 1\r\nX-Header: injected"}, "location must be one line"),
        ({"title": "Kick\toff"}, "title must be one line"),
    ],
)
def test_event_create_and_update_refuse_control_characters(rep, fields, message):
    with pytest.raises(ValidationError, match=message):
        _create(rep, **fields)
    assert not Event.objects.exists()
    event = _create(rep)
    with pytest.raises(ValidationError, match=message):
        event_update(
            actor=rep,
            event=event,
            title=fields.get("title", "Kick-off"),
            location=fields.get("location", ""),
            start_time=event.start_time,
            end_time=event.end_time,
        )
    event.refresh_from_db()
    assert (event.title, event.location, event.sequence) == ("Kick-off", "", 0)


def test_an_event_stored_with_a_line_break_before_the_rule_can_still_be_moved(rep):
    event = _create(rep)
    Event.objects.filter(pk=event.pk).update(title="Old\ntitle")
    moved = event_move(actor=rep, event=event, start_time=TOMORROW_10 + datetime.timedelta(days=1))
    assert moved.sequence == 1


@pytest.mark.parametrize(
    "start",
    [
        datetime.datetime(9999, 12, 31, 23, 30, tzinfo=datetime.UTC),
        datetime.datetime(1, 1, 1, 10, tzinfo=datetime.UTC),
        datetime.datetime(3000, 1, 1, tzinfo=datetime.UTC),
    ],
)
def test_events_outside_the_supported_years_are_refused(rep, start):
    event = _create(rep)
    with pytest.raises(ValidationError, match="Pick a date from the year 1900 to 2999"):
        event_move(actor=rep, event=event, start_time=start)
    with pytest.raises(ValidationError, match="Pick a date from the year 1900 to 2999"):
        event_create(organizer=rep, title="Far", start_time=start, end_time=start)
    event.refresh_from_db()
    assert event.sequence == 0
    assert Event.objects.count() == 1
