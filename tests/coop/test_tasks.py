"""Retries of background tasks (coop/tasks.py) on the immediate and the database backends."""

import logging
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.tasks import TaskResultStatus, task
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from coop.tasks import with_retries

pytestmark = pytest.mark.django_db

calls: list[int] = []
failures_left = {"count": 0}


@task()
@with_retries(max_attempts=3, backoff=timedelta(seconds=10))
def flaky(value: int) -> int:
    calls.append(value)
    if failures_left["count"] > 0:
        failures_left["count"] -= 1
        raise OperationalError("the database went away")
    return value * 2


@task()
@with_retries(max_attempts=3)
def broken(value: int) -> None:
    calls.append(value)
    raise ValueError("a bug, not a transient failure")


@pytest.fixture(autouse=True)
def _reset():
    calls.clear()
    failures_left["count"] = 0


def test_a_transient_failure_is_retried_until_the_task_succeeds():
    failures_left["count"] = 2
    flaky.enqueue(21)
    assert calls == [21, 21, 21]
    assert failures_left["count"] == 0


def test_retries_stop_after_the_last_attempt_and_the_failure_is_logged(caplog):
    failures_left["count"] = 10
    with caplog.at_level(logging.WARNING, logger="coop.tasks"):
        flaky.enqueue(1)
    assert calls == [1, 1, 1]
    assert failures_left["count"] == 7
    ours = [record for record in caplog.records if record.name == "coop.tasks"]
    assert [record.levelname for record in ours] == ["WARNING", "WARNING", "ERROR"]
    assert "failed for good after 3 attempts" in ours[-1].getMessage()


def test_a_programming_error_is_not_retried_and_is_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="coop.tasks"):
        result = broken.enqueue(5)
    assert calls == [5]
    assert result.status == TaskResultStatus.FAILED
    assert "ValueError" in result.errors[0].exception_class_path
    (record,) = [record for record in caplog.records if record.name == "coop.tasks"]
    assert record.levelname == "ERROR"
    assert "broken failed for good" in record.getMessage()
    assert "a bug, not a transient failure" in record.exc_text


@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_on_the_database_queue_a_retry_is_deferred_with_exponential_back_off():
    failures_left["count"] = 1
    flaky.func(7, attempt=2)  # the worker runs attempt 2, which fails
    retry = DBTaskResult.objects.get()
    assert retry.status == TaskResultStatus.READY
    assert retry.args_kwargs == {"args": [7], "kwargs": {"attempt": 3}}
    delay = retry.run_after - timezone.now()
    assert timedelta(seconds=15) < delay <= timedelta(seconds=20)
