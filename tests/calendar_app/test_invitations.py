import datetime

import icalendar
import pytest
from django.core import mail
from django.utils import timezone

from calendar_app.models import Event, Notification
from calendar_app.services import event_cancel, event_create, event_move, event_update
from calendar_app.tasks import send_invitations, send_notification_email
from crm.meeting_scheduling import contact_guest

pytestmark = pytest.mark.django_db

START = (timezone.now() + datetime.timedelta(days=3)).replace(
    hour=14, minute=0, second=0, microsecond=0
)


def _ics(message) -> icalendar.Event:
    (name, content, mimetype) = message.attachments[0]
    assert mimetype.startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(content)
    (event,) = calendar.walk("VEVENT")
    return calendar, event, name


@pytest.fixture
def invited(rep, contact, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return event_create(
            organizer=rep,
            title="Roof survey",
            start_time=START,
            end_time=START + datetime.timedelta(hours=1),
            location="12 Quay Street",
            guests=[contact_guest(contact)],
            invite=True,
        )


def test_an_invitation_is_emailed_to_the_contact_with_a_request_ics(invited, contact, rep):
    (message,) = mail.outbox
    assert message.to == [contact.email]
    assert message.reply_to == [rep.email]
    assert "Roof survey" in message.subject
    calendar, event, name = _ics(message)
    assert name == "invite.ics"
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == f"{invited.pk}@coop-crm"
    assert event.decoded("DTSTART") == START
    assert str(event["LOCATION"]) == "12 Quay Street"
    assert int(event["SEQUENCE"]) == 0
    attendees = [str(a) for a in event.get("ATTENDEE")]
    assert f"mailto:{contact.email}" in attendees


def test_without_invite_nothing_is_emailed(rep, contact, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event_create(
            organizer=rep,
            title="Quiet",
            start_time=START,
            end_time=START + datetime.timedelta(hours=1),
            guests=[contact_guest(contact)],
        )
    assert mail.outbox == []


def test_moving_sends_an_update_with_a_higher_sequence(
    invited, rep, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        event_move(actor=rep, event=invited, start_time=START + datetime.timedelta(days=1))
    update = mail.outbox[-1]
    assert update.subject.startswith("Updated invitation")
    calendar, event, _ = _ics(update)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == START + datetime.timedelta(days=1)


def test_editing_the_title_sends_an_update(invited, rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event_update(
            actor=rep,
            event=invited,
            title="Roof survey (bring ladder)",
            start_time=invited.start_time,
            end_time=invited.end_time,
            location=invited.location,
        )
    _calendar, event, _ = _ics(mail.outbox[-1])
    assert str(event["SUMMARY"]) == "Roof survey (bring ladder)"
    assert int(event["SEQUENCE"]) == 1


def test_cancelling_sends_a_cancel_with_a_higher_sequence(
    invited, rep, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        event_cancel(actor=rep, event=invited)
    cancel = mail.outbox[-1]
    assert cancel.subject.startswith("Cancelled")
    calendar, event, name = _ics(cancel)
    assert name == "cancel.ics"
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1
    assert str(event["UID"]) == f"{invited.pk}@coop-crm"


def test_the_invitation_text_shows_the_organizers_local_time(invited, rep):
    local = timezone.localtime(invited.start_time, rep.zone)
    assert local.strftime("%H:%M") in mail.outbox[0].body


def test_a_title_stored_with_a_line_break_before_the_rule_still_gets_its_emails(
    invited, contact, rep
):
    Event.objects.filter(pk=invited.pk).update(title="Roof\r\nBcc: everyone@example.com")
    mail.outbox.clear()
    assert send_invitations.enqueue(str(invited.pk), update=True).return_value == 1
    notification = Notification.objects.create(
        user=rep, event=invited, title="Upcoming meeting: Roof\nsurvey", body="Soon."
    )
    assert send_notification_email.enqueue(str(notification.pk)).return_value == 1
    subjects = [message.subject for message in mail.outbox]
    assert subjects == [
        "Updated invitation: Roof Bcc: everyone@example.com",
        "Upcoming meeting: Roof survey",
    ]
    assert [message.to for message in mail.outbox] == [[contact.email], [rep.email]]
