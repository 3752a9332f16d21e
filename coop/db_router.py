"""Read-replica routing for dashboards and reports.

Only code that explicitly opts in reads from the replica: a view decorated with
`@reads_from_replica` (dashboards, reports, exports) sends its reads to the `replica`
database alias when one is configured (`DATABASE_REPLICA_URL`), and to `default` otherwise.
Everything else, and every write, uses `default`, so a person always reads their own writes
on ordinary pages. Migrations run on `default` only (the replica follows by replication).
"""

from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps

from django.conf import settings

REPLICA_ALIAS = "replica"
_reading_from_replica: ContextVar[bool] = ContextVar("reading_from_replica", default=False)


def replica_alias() -> str:
    """The alias report reads should use right now: `replica` when configured, else `default`."""
    return REPLICA_ALIAS if REPLICA_ALIAS in settings.DATABASES else "default"


def reads_from_replica(view: Callable) -> Callable:
    """Route the ORM reads made while this view runs to the replica (when configured)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        token = _reading_from_replica.set(True)
        try:
            return view(*args, **kwargs)
        finally:
            _reading_from_replica.reset(token)

    wrapped.reads_from_replica = True  # the page cache never stores what a replica answered
    return wrapped


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str | None:
        if _reading_from_replica.get():
            return replica_alias()
        return "default"

    def db_for_write(self, model, **hints) -> str:
        return "default"

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool:
        return db == "default"
