"""A real task queue: a request enqueues tasks in PostgreSQL and `manage.py db_worker`
processes run each of them exactly once, even two workers at the same time."""

import datetime
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from calendar_app.models import Notification, Reminder
from tests.crm.factories import ContactFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the worker test needs PostgreSQL (set DATABASE_URL to run it)",
)

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _worker_environment() -> dict[str, str]:
    """The workers use the test database the test itself is writing to."""
    database = connection.settings_dict
    url = (
        f"postgres://{database['USER'] or 'postgres'}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": url,
        "TASKS_BACKEND": "database",
        "EMAIL_URL": "consolemail://",
    }


def _run_workers(count: int) -> list[subprocess.CompletedProcess]:
    command = [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay"]
    workers = [
        subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=_worker_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(count)
    ]
    return [(worker.wait(timeout=120), worker.stdout.read()) for worker in workers]


@pytest.mark.django_db(transaction=True)
def test_tasks_enqueued_by_a_request_run_exactly_once_on_real_workers(client, team, rep, settings):
    settings.TASKS = DATABASE_QUEUE
    contact = ContactFactory(team=team, owner=rep, email="olga@client.example")
    client.force_login(rep)
    starts = timezone.localtime(timezone.now() + datetime.timedelta(minutes=10), rep.zone)
    response = client.post(
        reverse("crm:meeting_new", args=[contact.pk]),
        {
            "title": "Roof survey",
            "start_time": starts.strftime("%Y-%m-%dT%H:%M"),
            "end_time": (starts + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "location": "On site",
            "description": "",
            "invite": "on",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200, response.content
    queued = sorted(DBTaskResult.objects.values_list("task_path", flat=True))
    assert queued == [
        "calendar_app.tasks.push_event",  # to the people's connected calendars: none here
        "calendar_app.tasks.send_due_reminders",
        "calendar_app.tasks.send_invitations",
    ]
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {TaskResultStatus.READY}

    for exit_code, output in _run_workers(2):
        assert exit_code == 0, output

    results = list(DBTaskResult.objects.order_by("task_path"))
    assert [result.task_path for result in results] == [
        "calendar_app.tasks.push_event",
        "calendar_app.tasks.send_due_reminders",
        "calendar_app.tasks.send_invitations",
        "calendar_app.tasks.send_notification_email",
    ]
    for result in results:
        assert result.status == TaskResultStatus.SUCCESSFUL, result.traceback
        assert len(result.worker_ids) == 1, "claimed by exactly one worker"
    assert [result.return_value for result in results] == [0, 1, 1, 1]
    assert Notification.objects.filter(user=rep).count() == 1
    assert Reminder.objects.filter(sent_at__isnull=False).count() == 1

    for exit_code, output in _run_workers(1):
        assert exit_code == 0, output
    assert DBTaskResult.objects.count() == 4, "nothing new to run, nothing run twice"
    assert Notification.objects.filter(user=rep).count() == 1
