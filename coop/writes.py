"""Writes seen as statements: caches invalidated without relying on every writer to say so.

A wrapper on every database connection (installed on `connection_created`, and on the
connections already open when `connect()` runs) sees each statement as it is executed. Each
registered `WriteWatcher` names the written tables it cares about (`changes(sql)`) and what to
do once they changed (`changed()`): each matching INSERT, UPDATE or DELETE schedules
`changed` for its transaction's commit (at once in autocommit), so whichever service, bulk
update, import, merge, erasure or admin page wrote the rows, a cache built on them is
replaced, and a rolled-back write replaces nothing.

COPY is not sent through the wrappers: `coop.bulk.copy_insert` reports each COPY into a table
with `copy_seen`, which the watchers see as an INSERT into that table.
"""

import dataclasses
import re
from collections.abc import Callable

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

# The statements that write rows, and the table they write (quotes removed).
WRITE = re.compile(
    r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE
)


@dataclasses.dataclass(frozen=True)
class WriteWatcher:
    """`changed()` runs after the commit of each statement for which `changes(sql)` holds
    (cheap and idempotent: a transaction may run it once per such statement)."""

    name: str
    changes: Callable[[str], bool]
    changed: Callable[[], None]


_watchers: dict[str, WriteWatcher] = {}


def write_watcher_register(watcher: WriteWatcher) -> None:
    """Watch every connection's writes with `watcher` (replacing one of the same name)."""
    _watchers[watcher.name] = watcher


def written_table(sql: str) -> str | None:
    """The table an INSERT, UPDATE or DELETE statement writes; None for any other statement."""
    match = WRITE.match(sql)
    return match.group(1).lower() if match else None


def _seen(sql: str, connection: BaseDatabaseWrapper) -> None:
    for watcher in _watchers.values():
        if watcher.changes(sql):
            transaction.on_commit(watcher.changed, using=connection.alias)


def _watch(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if isinstance(sql, str) and WRITE.match(sql):
        _seen(sql, context["connection"])
    return result


def copy_seen(table: str, *, using: str = "default") -> None:
    """A COPY into `table` on the connection `using` (not seen by the wrappers): the
    watchers see it as an INSERT into that table."""
    _seen(f'INSERT INTO "{table}"', connections[using])


def _connection_created(sender, connection, **kwargs) -> None:
    if _watch not in connection.execute_wrappers:
        # First, not last: a connection opened inside `connection.execute_wrapper(...)` (the
        # request's slow-query timer, coop/observability.py) would otherwise lose the watch
        # to that block's closing `pop()` and keep the block's wrapper, one more a request.
        connection.execute_wrappers.insert(0, _watch)


def connect() -> None:
    connection_created.connect(_connection_created, dispatch_uid="coop_writes_watch")
    # Connections opened before (in tests, at start-up) are watched too.
    for connection in connections.all(initialized_only=True):
        _connection_created(None, connection)
