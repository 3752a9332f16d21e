"""The statement watcher (coop/writes.py) stays on a connection for good, however the
connection was opened."""

from django.db import connection

from coop.writes import _connection_created, _watch


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
