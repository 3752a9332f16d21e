"""The calendar in Spanish, French and German: the meeting page, the reminders (in the
person's own language, whatever language the run happens in) and the invitation email."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from calendar_app.emails import send_invitations
from calendar_app.models import Notification
from calendar_app.services import event_create, reminders_send_due
from crm.meeting_scheduling import contact_guest
from tests.catalogues import compile_catalogues, page_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def catalogues():
    compile_catalogues(("calendar_app",))


@pytest.fixture
def meeting(rep, contact, django_capture_on_commit_callbacks):
    start = timezone.now() + datetime.timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        return event_create(
            organizer=rep,
            title="Contract review",
            start_time=start,
            end_time=start + datetime.timedelta(hours=1),
            guests=[contact_guest(contact)],
        )


def test_the_meeting_page_is_in_french(client, rep, meeting):
    page = page_in(client, rep, reverse("calendar_app:event_detail", args=[meeting.pk]), "fr")
    for words in ["Participants", "Déplacer cette réunion", "Annuler la réunion", "Nouveau début"]:
        assert words in page
    for words in ["Attendees", "Move this meeting", "Cancel meeting", "New start"]:
        assert words not in page


def test_a_reminder_is_written_in_its_persons_language(
    rep, meeting, django_capture_on_commit_callbacks
):
    rep.language = "de"
    rep.save(update_fields=["language"])
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        reminders_send_due(now=meeting.start_time - datetime.timedelta(minutes=10))
    notification = Notification.objects.get(user=rep)
    assert notification.title == "Bevorstehender Termin: Contract review"
    assert mail.outbox[-1].subject == "Bevorstehender Termin: Contract review"


def test_the_invitation_email_is_in_the_organizers_language(contact, rep):
    """A guest has no account and so no language of their own: the invitation is written in
    the language of the organizer who signs it, whatever the language of the request."""
    rep.language = "es"
    rep.save(update_fields=["language"])
    start = timezone.now() + datetime.timedelta(days=1)
    with translation.override("de"):
        event = event_create(
            organizer=rep,
            title="Demo",
            start_time=start,
            end_time=start + datetime.timedelta(hours=1),
            guests=[contact_guest(contact)],
            invite=True,
        )
        assert send_invitations(event_id=event.pk) == 1
    message = mail.outbox[-1]
    assert message.subject == "Invitación: Demo"
    assert "te invita a una reunión" in message.body
    assert "Abre el archivo adjunto invite.ics" in message.body
