"""Editing a task after it was written down: who may change what, reassignment by a manager
(who notifies the new assignee), and a reminder re-armed once when the due time moves."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from calendar_app.models import Notification
from crm.models import Task, TaskPriority
from crm.next_steps import task_create, task_reminders_send_due, task_update
from tests.coop.factories import MembershipFactory

pytestmark = pytest.mark.django_db

TOMORROW = timezone.localdate() + datetime.timedelta(days=1)
NEXT_WEEK = timezone.localdate() + datetime.timedelta(days=7)


def _task(actor, deal, **kwargs):
    return task_create(
        actor=actor, record=deal, title="Send the offer", due_date=TOMORROW, **kwargs
    )


def test_the_assignee_changes_title_due_date_time_and_priority(rep, deal):
    task = _task(rep, deal)
    updated = task_update(
        actor=rep,
        task=task,
        title=" Send the new offer ",
        due_date=NEXT_WEEK,
        due_time=datetime.time(15, 30),
        priority=TaskPriority.HIGH,
    )
    task.refresh_from_db()
    assert (task.title, task.due_date, task.priority) == (
        "Send the new offer",
        NEXT_WEEK,
        TaskPriority.HIGH,
    )
    assert timezone.localtime(task.due_at, rep.zone).time() == datetime.time(15, 30)
    assert updated.remind_at < task.due_at
    assert task.assignee == rep


def test_a_colleague_who_neither_owns_nor_wrote_the_task_may_not_edit_it(rep, team, deal):
    colleague = MembershipFactory(team=team).user
    task = _task(rep, deal)
    with pytest.raises(ValidationError, match="Only the assignee"):
        task_update(actor=colleague, task=task, title="Mine now", due_date=TOMORROW)
    task.refresh_from_db()
    assert task.title == "Send the offer"


def test_an_outsider_cannot_edit_a_task(outsider, rep, deal):
    task = _task(rep, deal)
    with pytest.raises(ValidationError, match="not visible"):
        task_update(actor=outsider, task=task, title="Sneak", due_date=TOMORROW)


def test_bad_input_changes_nothing(rep, deal):
    task = _task(rep, deal)
    with pytest.raises(ValidationError, match="Say what is to be done"):
        task_update(actor=rep, task=task, title="  ", due_date=NEXT_WEEK)
    with pytest.raises(ValidationError, match="Choose low, normal or high"):
        task_update(actor=rep, task=task, title="Ok", due_date=NEXT_WEEK, priority=7)
    task.refresh_from_db()
    assert (task.title, task.due_date) == ("Send the offer", TOMORROW)


def test_a_manager_reassigns_and_the_new_assignee_is_notified(
    rep, manager, deal, django_capture_on_commit_callbacks
):
    task = _task(manager, deal)
    with django_capture_on_commit_callbacks(execute=True):
        task_update(actor=manager, task=task, title=task.title, due_date=TOMORROW, assignee=rep)
    task.refresh_from_db()
    assert task.assignee == rep
    (notification,) = Notification.objects.filter(user=rep)
    assert "Send the offer" in notification.title


def test_a_rep_may_not_reassign_their_task(rep, manager, deal):
    task = _task(rep, deal)
    with pytest.raises(ValidationError, match="Only a manager"):
        task_update(actor=rep, task=task, title=task.title, due_date=TOMORROW, assignee=manager)
    task.refresh_from_db()
    assert task.assignee == rep
    assert not Notification.objects.exists()


def test_a_task_goes_only_to_a_member_of_the_team(manager, outsider, deal):
    task = _task(manager, deal)
    with pytest.raises(ValidationError, match="member of the record's team"):
        task_update(
            actor=manager, task=task, title=task.title, due_date=TOMORROW, assignee=outsider
        )


def test_a_moved_due_date_reminds_once_more_and_a_title_edit_does_not(rep, deal):
    task = _task(rep, deal)
    assert task_reminders_send_due(now=task.remind_at) == 1
    task_update(actor=rep, task=task, title="Renamed", due_date=TOMORROW)
    task.refresh_from_db()
    assert task.reminder_sent_at is not None  # same due time: not reminded twice
    assert task_reminders_send_due(now=task.remind_at + datetime.timedelta(hours=1)) == 0

    task_update(actor=rep, task=task, title="Renamed", due_date=NEXT_WEEK)
    task.refresh_from_db()
    assert task.reminder_sent_at is None
    assert task_reminders_send_due(now=task.remind_at - datetime.timedelta(minutes=1)) == 0
    assert task_reminders_send_due(now=task.remind_at) == 1
    assert task_reminders_send_due(now=task.remind_at) == 0
    assert Notification.objects.filter(user=rep).count() == 2


def test_a_due_time_moved_into_the_past_is_not_reminded(rep, deal):
    task = _task(rep, deal)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    task_update(actor=rep, task=task, title=task.title, due_date=yesterday)
    assert task_reminders_send_due() == 0
    assert Task.objects.get(pk=task.pk).reminder_sent_at is not None


def test_the_edit_form_opens_in_place_and_saves_through_htmx(client, rep, deal):
    task = _task(rep, deal)
    client.force_login(rep)
    form = client.get(f"/tasks/{task.pk}/edit/", headers={"HX-Request": "true"})
    assert form.status_code == 200
    assert f'id="task-{task.pk}"' in form.content.decode()
    assert 'value="Send the offer"' in form.content.decode()
    saved = client.post(
        f"/tasks/{task.pk}/edit/",
        {"title": "Send the final offer", "due_date": NEXT_WEEK.isoformat(), "priority": "3"},
        headers={"HX-Request": "true"},
    )
    assert saved.status_code == 200
    assert "Send the final offer" in saved.content.decode()
    assert "tasksChanged" in saved.headers["HX-Trigger"]
    task.refresh_from_db()
    assert (task.title, task.due_date, task.priority) == ("Send the final offer", NEXT_WEEK, 3)


def test_a_manager_reassigns_from_the_page(client, rep, manager, deal):
    task = _task(manager, deal)
    client.force_login(manager)
    response = client.post(
        f"/tasks/{task.pk}/edit/",
        {
            "title": task.title,
            "due_date": TOMORROW.isoformat(),
            "priority": "2",
            "assignee": str(rep.pk),
        },
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee == rep
    assert Notification.objects.filter(user=rep).count() == 1


def test_a_refused_edit_shows_the_reason_and_writes_nothing(client, rep, team, deal):
    colleague = MembershipFactory(team=team).user
    task = _task(rep, deal)
    client.force_login(colleague)
    response = client.post(
        f"/tasks/{task.pk}/edit/",
        {"title": "Mine", "due_date": TOMORROW.isoformat(), "priority": "2"},
    )
    assert response.status_code == 400
    assert "Only the assignee" in response.content.decode()
    task.refresh_from_db()
    assert task.title == "Send the offer"


def test_an_outsider_gets_a_404(client, outsider, rep, deal):
    task = _task(rep, deal)
    client.force_login(outsider)
    assert client.get(f"/tasks/{task.pk}/edit/").status_code == 404
