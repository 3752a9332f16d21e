"""The statement watcher (coop/writes.py) stays on a connection for good, however the
connection was opened."""

import pytest
from django.db import connection, transaction

from coop.models import Team
from coop.writes import (
    WriteWatcher,
    _connection_created,
    _watch,
    _watchers,
    write_watcher_register,
)


def _timer(execute, sql, params, many, context):
    return execute(sql, params, many, context)


def test_a_connection_opened_inside_a_request_keeps_the_watch_and_drops_the_request_wrapper():
    """As when a request's first query opens the connection, inside the slow-query timer of
    coop/observability.py: the timer's block ends with a `pop()` of the last wrapper."""
    wrappers = connection.execute_wrappers
    connection.execute_wrappers = []
    try:
        for _request in range(3):
            with connection.execute_wrapper(_timer):
                _connection_created(None, connection)
        assert connection.execute_wrappers == [_watch]
    finally:
        connection.execute_wrappers = wrappers


@pytest.mark.django_db
def test_a_transaction_schedules_each_watcher_once_and_a_rolled_back_savepoint_none():
    calls = []
    write_watcher_register(
        WriteWatcher("test-once", lambda sql: "coop_teams" in sql, lambda: calls.append(1))
    )
    try:
        with transaction.atomic():
            with transaction.atomic():
                Team.objects.create(name="Rolled back")
                transaction.set_rollback(True)
            Team.objects.create(name="One")
            Team.objects.create(name="Two")
            Team.objects.filter(name="Two").update(name="Three")
        # Inside the test's own transaction, the outer block is a savepoint: commit it.
        callbacks = [func for _, func, _ in connection.run_on_commit]
        assert len([func for func in callbacks if func is _watchers["test-once"].changed]) == 1
    finally:
        _watchers.pop("test-once")
