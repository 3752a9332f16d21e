"""What is sent to a person outside a request goes out in their language: invitations in
the recipient's (a guest without an account: the organizer's), reminders in their user's."""

import datetime

import pytest
from django.core import mail
from django.utils import dateformat, timezone, translation

from calendar_app import services
from calendar_app.models import Notification
from calendar_app.services import event_create, reminders_send_due
from coop.languages import Language
from crm.meeting_scheduling import contact_guest

pytestmark = pytest.mark.django_db

START = (timezone.now() + datetime.timedelta(days=3)).replace(
    hour=14, minute=0, second=0, microsecond=0
)


def _invite(organizer, guest, capture):
    with capture(execute=True):
        return event_create(
            organizer=organizer,
            title="Roof survey",
            start_time=START,
            end_time=START + datetime.timedelta(hours=1),
            guests=[contact_guest(guest)],
            invite=True,
        )


def _day_words(language, zone):
    with translation.override(language), timezone.override(zone):
        return dateformat.format(timezone.localtime(START), "l j F Y")


@pytest.mark.parametrize("language", ["de", "fr", "es"])
def test_an_invitation_to_a_guest_is_written_in_the_organizers_language(
    rep,
    contact,
    django_capture_on_commit_callbacks,
    language,
):
    rep.language = language
    rep.save()
    _invite(rep, contact, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert _day_words(language, rep.zone) in message.body
    assert _day_words("en-gb", rep.zone) not in message.body
    assert translation.get_language() == "en-gb"  # the sender left the language as it was


def test_an_invitation_from_someone_without_a_language_is_in_english(
    rep,
    contact,
    django_capture_on_commit_callbacks,
):
    _invite(rep, contact, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert _day_words("en-gb", rep.zone) in message.body


def test_a_reminder_is_written_in_its_recipients_language(
    rep,
    manager,
    contact,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    rep.language = Language.FRENCH
    rep.save()
    written_in = []
    original = services._reminder_text

    def recording(reminder):
        written_in.append(translation.get_language())
        return original(reminder)

    monkeypatch.setattr(services, "_reminder_text", recording)
    with translation.override("de"):  # whoever runs the command: not the recipient
        with django_capture_on_commit_callbacks(execute=True):
            event_create(
                organizer=rep,
                title="Contract review",
                start_time=timezone.now() + datetime.timedelta(hours=2),
                end_time=timezone.now() + datetime.timedelta(hours=3),
                guests=[contact_guest(contact)],
            )
        with django_capture_on_commit_callbacks(execute=True):
            sent = reminders_send_due(now=timezone.now() + datetime.timedelta(hours=3))
    assert sent >= 1
    assert set(written_in) == {"fr"}
    assert Notification.objects.filter(user=rep).exists()
