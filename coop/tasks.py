"""Background work on Django's Tasks framework, with retries for transient failures.

The queue is configured by `TASKS_BACKEND` (config/settings.py): `database` (the default in
production) stores tasks in PostgreSQL through django-tasks-db, and `manage.py db_worker`
processes run them; `immediate` (development and tests) runs each task in the caller.
Tasks are always enqueued from `transaction.on_commit`, so a rolled-back request enqueues
nothing.

Django's Tasks framework has no retry policy of its own, so `with_retries` adds one: when
the task raises one of the transient errors, it is enqueued again (with `attempt + 1`)
after an exponential back-off, up to `max_attempts`; the last failure is raised so the
result records it. Task bodies must therefore be idempotent, which every task here is.
Any failure that ends a task for good (the last attempt, or an error that is not transient,
with its traceback) is logged as an error: the task backends themselves only record it.
"""

import functools
import logging
import smtplib
from collections.abc import Callable
from datetime import timedelta

from django.db import InterfaceError, OperationalError
from django.tasks import Task
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger("coop.tasks")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    smtplib.SMTPException,
    ConnectionError,
    TimeoutError,
)


def with_retries(
    *,
    max_attempts: int = 5,
    backoff: timedelta = timedelta(seconds=30),
    retry_on: tuple[type[BaseException], ...] = TRANSIENT_ERRORS,
) -> Callable[[Callable], Callable]:
    """Decorate a task function (below `@task()`) so transient failures are retried.

    Attempt n waits `backoff * 2 ** (n - 1)` before it runs (on a backend that can defer;
    the immediate backend retries at once).
    """

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def run(*args, attempt: int = 1, **kwargs):
            try:
                return func(*args, **kwargs)
            except retry_on as error:
                if attempt >= max_attempts:
                    logger.error("task %s failed for good after %d attempts", run.__name__, attempt)
                    raise
                delay = backoff * 2 ** (attempt - 1)
                logger.warning(
                    "task %s attempt %d failed (%s); retrying in %s",
                    func.__name__,
                    attempt,
                    error.__class__.__name__,
                    delay,
                )
                task: Task = import_string(f"{func.__module__}.{func.__name__}")
                if task.get_backend().supports_defer:
                    task = task.using(run_after=timezone.now() + delay)
                task.enqueue(*args, attempt=attempt + 1, **kwargs)
                return None
            except Exception:
                logger.exception("task %s failed for good: its error is not retried", func.__name__)
                raise

        return run

    return decorate
