"""What is sent to a person goes out in their language, whoever causes it: invitations in
the recipient's (a guest without an account: the organizer's), reminders and notifications
in their user's."""

import datetime

import pytest
from django.core import mail
from django.utils import dateformat, timezone, translation

from calendar_app import services
from calendar_app.models import Notification
from calendar_app.services import event_create, reminders_send_due
from coop.i18n import written_for
from coop.languages import Language
from coop.models import User
from crm import next_steps
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
    before = translation.get_language()
    _invite(rep, contact, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert _day_words(language, rep.zone) in message.body
    assert _day_words("en-gb", rep.zone) not in message.body
    assert translation.get_language() == before  # the sender left the language as it was


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


def test_written_for_runs_a_function_in_its_recipients_language_only(rep):
    rep.language = Language.SPANISH

    @written_for(lambda user, note: user)
    def compose(user, note):
        return translation.get_language(), note

    with translation.override("de"):
        assert compose(rep, "x") == ("es", "x")
        assert translation.get_language() == "de"
        assert compose(User(language=""), "y") == ("en-gb", "y")


def test_a_task_given_by_a_german_manager_is_announced_in_the_french_assignees_language(
    manager, rep, contact, monkeypatch
):
    rep.language = Language.FRENCH
    rep.save()
    manager.language = Language.GERMAN
    manager.save()
    written_in = []

    def recording(**fields):
        written_in.append((fields["user"], translation.get_language()))
        return Notification(**fields)

    monkeypatch.setattr(next_steps, "Notification", recording)
    with translation.override("de"):  # the manager's request
        next_steps.task_create(
            actor=manager,
            record=contact,
            title="Call back",
            due_date=timezone.localdate() + datetime.timedelta(days=1),
            assignee=rep,
        )
        next_steps.task_reminders_send_due(now=timezone.now() + datetime.timedelta(days=2))
    assert written_in == [(rep, "fr"), (rep, "fr")]
