import datetime
import threading

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from calendar_app.models import Notification, Reminder, ReminderKind
from calendar_app.services import event_cancel, event_create, reminders_send_due
from calendar_app.tasks import send_due_reminders
from crm.meeting_scheduling import contact_guest

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(rep, contact):
    start = timezone.now() + datetime.timedelta(hours=2)
    return event_create(
        organizer=rep,
        title="Contract review",
        start_time=start,
        end_time=start + datetime.timedelta(hours=1),
        guests=[contact_guest(contact)],
    )


def _run_at(when, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return reminders_send_due(now=when)


def test_nothing_is_sent_before_a_reminder_is_due(meeting, django_capture_on_commit_callbacks):
    assert _run_at(timezone.now(), django_capture_on_commit_callbacks) == 0
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_the_before_reminder_is_sent_once_by_email_and_in_the_app(
    meeting, rep, django_capture_on_commit_callbacks
):
    due = meeting.start_time - datetime.timedelta(minutes=10)
    assert _run_at(due, django_capture_on_commit_callbacks) == 1
    assert _run_at(due, django_capture_on_commit_callbacks) == 0
    (message,) = mail.outbox
    assert message.to == [rep.email]
    assert message.subject == "Upcoming meeting: Contract review"
    (notification,) = Notification.objects.filter(user=rep)
    assert "Olga Ortiz" in notification.body
    assert notification.read_at is None
    assert Reminder.objects.get(kind=ReminderKind.BEFORE).sent_at == due


def test_the_follow_up_asks_to_log_the_outcome_with_the_contacts_name(
    meeting, django_capture_on_commit_callbacks
):
    _run_at(meeting.end_time + datetime.timedelta(minutes=1), django_capture_on_commit_callbacks)
    titles = sorted(Notification.objects.values_list("title", flat=True))
    assert titles == [
        "Log the outcome of your meeting with Olga Ortiz",
        "Upcoming meeting: Contract review",
    ]


def test_the_command_sends_due_reminders_and_is_idempotent(meeting, capsys):
    Reminder.objects.update(due_at=timezone.now() - datetime.timedelta(minutes=1))
    call_command("send_reminders")
    call_command("send_reminders")
    out = capsys.readouterr().out
    assert out.splitlines() == ["2 reminders sent.", "0 reminders sent."]
    assert Notification.objects.count() == 2


def test_the_task_sends_due_reminders(meeting):
    Reminder.objects.update(due_at=timezone.now() - datetime.timedelta(minutes=1))
    result = send_due_reminders.enqueue()
    assert result.return_value == 2
    assert Notification.objects.count() == 2


def test_creating_a_meeting_that_starts_soon_sends_its_reminder_through_the_task(
    rep, django_capture_on_commit_callbacks
):
    start = timezone.now() + datetime.timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        event_create(
            organizer=rep,
            title="Stand-up",
            start_time=start,
            end_time=start + datetime.timedelta(minutes=15),
        )
    assert Notification.objects.get(user=rep).title == "Upcoming meeting: Stand-up"


def test_reminders_of_cancelled_meetings_are_never_sent(meeting, rep):
    event_cancel(actor=rep, event=meeting)
    assert reminders_send_due(now=meeting.end_time + datetime.timedelta(hours=1)) == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED needs PostgreSQL")
def test_a_reminder_claimed_by_a_concurrent_run_is_skipped(meeting):
    Reminder.objects.update(due_at=timezone.now() - datetime.timedelta(minutes=1))
    claimed = Reminder.objects.get(kind=ReminderKind.BEFORE)
    locked, release = threading.Event(), threading.Event()

    def other_run():
        with transaction.atomic():
            Reminder.objects.select_for_update().get(pk=claimed.pk)
            locked.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=other_run)
    thread.start()
    locked.wait(10)
    try:
        assert reminders_send_due() == 1
    finally:
        release.set()
        thread.join()
    claimed.refresh_from_db()
    assert claimed.sent_at is None
    assert Notification.objects.count() == 1


def test_the_command_is_silent_with_quiet_when_nothing_is_due(meeting, capsys):
    call_command("send_reminders", "--quiet")
    assert capsys.readouterr().out == ""


def test_the_command_fails_with_a_clear_error_when_the_database_does(meeting, monkeypatch):
    def broken(**kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr(
        "calendar_app.management.commands.send_reminders.reminders_send_due", broken
    )
    with pytest.raises(CommandError, match="Could not send reminders: connection lost"):
        call_command("send_reminders")
