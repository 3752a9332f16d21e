"""Tasks (next steps): who may create and assign them, ticking done, and their reminders."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from calendar_app.models import Notification
from calendar_app.services import reminders_send_due
from coop.models import Role
from crm.models import Task, TaskPriority
from crm.next_steps import task_complete, task_create, task_reminders_send_due, task_reopen
from tests.coop.factories import MembershipFactory
from tests.crm.factories import OrganizationFactory, TaskFactory

pytestmark = pytest.mark.django_db

TOMORROW = timezone.localdate() + datetime.timedelta(days=1)


def test_a_rep_adds_a_task_to_a_deal_for_themselves(rep, deal):
    task = task_create(actor=rep, record=deal, title=" Send the offer ", due_date=TOMORROW)
    assert (task.title, task.deal, task.assignee, task.created_by) == (
        "Send the offer",
        deal,
        rep,
        rep,
    )
    assert task.team_id == deal.pipeline.team_id
    assert task.completed_at is None
    assert not Notification.objects.exists()  # nobody else to tell


def test_a_task_with_a_time_is_due_in_the_assignees_time_zone(rep, contact):
    rep.time_zone = "America/New_York"
    rep.save()
    task = task_create(
        actor=rep,
        record=contact,
        title="Call back",
        due_date=datetime.date(2026, 7, 1),
        due_time=datetime.time(9, 30),
    )
    assert task.due_at == datetime.datetime(2026, 7, 1, 13, 30, tzinfo=datetime.UTC)
    # Reminded the default 15 minutes before.
    assert task.remind_at == datetime.datetime(2026, 7, 1, 13, 15, tzinfo=datetime.UTC)


def test_a_task_can_sit_on_an_organization(rep, team):
    organization = OrganizationFactory(team=team)
    task = task_create(actor=rep, record=organization, title="Visit", due_date=TOMORROW)
    assert task.organization == organization and task.contact is None and task.deal is None


def test_a_manager_assigns_a_task_and_the_assignee_is_notified(
    manager, rep, deal, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        task = task_create(
            actor=manager,
            record=deal,
            title="Ask for the signature",
            due_date=TOMORROW,
            assignee=rep,
            priority=TaskPriority.HIGH,
        )
    assert task.assignee == rep
    (notification,) = Notification.objects.filter(user=rep)
    assert "Ask for the signature" in notification.title
    assert notification.link == f"/deals/{deal.pk}/"
    assert len(mail.outbox) == 1


def test_a_rep_may_not_assign_a_task_to_a_colleague(rep, manager, deal):
    with pytest.raises(ValidationError, match="Only a manager"):
        task_create(actor=rep, record=deal, title="Yours", due_date=TOMORROW, assignee=manager)
    assert not Task.objects.exists()


def test_a_task_goes_only_to_a_member_of_the_records_team(manager, outsider, deal):
    with pytest.raises(ValidationError, match="member of the record's team"):
        task_create(
            actor=manager, record=deal, title="Theirs", due_date=TOMORROW, assignee=outsider
        )
    assert not Task.objects.exists()


def test_nobody_adds_a_task_to_a_record_they_do_not_see(outsider, deal):
    with pytest.raises(ValidationError, match="not visible"):
        task_create(actor=outsider, record=deal, title="Sneak", due_date=TOMORROW)
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    ("title", "due_date", "message"),
    [
        ("   ", TOMORROW, "Say what is to be done"),
        ("two\nlines", TOMORROW, "one line"),
        ("x" * 201, TOMORROW, "200 characters"),
        ("Fine", datetime.date(1, 1, 1), "Pick a date"),
    ],
)
def test_bad_task_input_is_refused_with_a_reason(rep, deal, title, due_date, message):
    with pytest.raises(ValidationError, match=message):
        task_create(actor=rep, record=deal, title=title, due_date=due_date)
    assert not Task.objects.exists()


def test_ticking_a_task_done_records_who_and_when_and_undo_clears_it(rep, manager, deal):
    task = TaskFactory(deal=deal, assignee=rep)
    done = task_complete(actor=manager, task=task)
    assert done.completed_by == manager and done.completed_at is not None
    again = task_complete(actor=rep, task=task)
    assert again.completed_by == manager  # the first tick counts
    reopened = task_reopen(actor=rep, task=task)
    assert reopened.completed_at is None and reopened.completed_by is None


def test_another_teams_member_cannot_tick_a_task(outsider, deal):
    task = TaskFactory(deal=deal)
    with pytest.raises(ValidationError, match="not visible"):
        task_complete(actor=outsider, task=task)
    task.refresh_from_db()
    assert task.completed_at is None


def test_a_due_task_is_reminded_once_through_the_reminder_run(
    rep, deal, django_capture_on_commit_callbacks
):
    task = task_create(actor=rep, record=deal, title="Send the offer", due_date=TOMORROW)
    before = task.remind_at - datetime.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send_due(now=before) == 0
        assert reminders_send_due(now=task.remind_at) == 1
        assert reminders_send_due(now=task.remind_at + datetime.timedelta(hours=1)) == 0
    (notification,) = Notification.objects.filter(user=rep)
    assert notification.title == "Task due: Send the offer"
    assert notification.link == f"/deals/{deal.pk}/"
    assert [message.subject for message in mail.outbox] == ["Task due: Send the offer"]


def test_the_send_reminders_command_sends_task_reminders_too(rep, deal):
    TaskFactory(deal=deal, assignee=rep, remind_at=timezone.now() - datetime.timedelta(hours=1))
    call_command("send_reminders")
    assert Notification.objects.filter(user=rep, title__startswith="Task due").count() == 1
    call_command("send_reminders")
    assert Notification.objects.filter(user=rep).count() == 1


def test_a_done_task_is_not_reminded(rep, deal):
    past = timezone.now() - datetime.timedelta(hours=1)
    TaskFactory(deal=deal, assignee=rep, remind_at=past, completed_at=past, completed_by=rep)
    assert task_reminders_send_due() == 0
    assert not Notification.objects.exists()


def test_a_manager_of_the_team_may_assign_to_a_member_of_another_role(manager, team, deal):
    finance = MembershipFactory(team=team, role=Role.FINANCE).user
    task = task_create(
        actor=manager, record=deal, title="Invoice", due_date=TOMORROW, assignee=finance
    )
    assert task.assignee == finance


def test_a_task_written_down_after_its_reminder_time_is_not_reminded(rep, deal):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    task = task_create(actor=rep, record=deal, title="Late already", due_date=yesterday)
    assert task.reminder_sent_at is not None
    assert task_reminders_send_due() == 0
    assert not Notification.objects.exists()


def test_tasks_and_notes_are_shown_in_the_admin_with_search_and_filters(
    admin_list, rep, deal, team
):
    done = timezone.now()
    late = TaskFactory(deal=deal, assignee=rep, title="Ring the buyer")
    TaskFactory(deal=deal, assignee=rep, title="Sent", completed_at=done, completed_by=rep)
    admin_list(
        Task,
        [
            ({"q": "ring"}, [late]),
            ({"completed_at__isempty": "1"}, [late]),
            ({"priority__exact": "2", "q": "ring"}, [late]),
            ({"team__id__exact": str(team.pk), "q": "ring"}, [late]),
            ({"due_date__gte": "2000-01-01", "q": "ring"}, [late]),
        ],
    )
