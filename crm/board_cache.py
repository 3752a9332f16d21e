"""The pipeline board's rendered columns, cached and shared by every viewer of the pipeline.

A board's columns (counts, totals, the first cards of each stage, their "Move to" menus) are
the same for everyone who may see the pipeline: deals are scoped by their pipeline's team, and
a card has no action only some viewers get. The markup is stored in `CACHES["aggregates"]`
(Redis, shared by every process; nothing is cached without it) under the generation of
`BOARD_NAMESPACE` (coop/cache.py), keyed by the pipeline, the filter and order, the cursor, the
language and the time zone. Each card's CSRF field is a `<!--csrf-->` hole filled per viewer on
the way out (crm/timeline.py).

Invalidation does not rely on every writer remembering it: a wrapper on every database
connection watches the statements themselves, and any INSERT, UPDATE or DELETE of a table a
card, count or total shows (deals, their tags, contacts, organizations, tags, stages,
pipelines, users) replaces the generation when its transaction commits, whichever service,
bulk update, import, merge, erasure or admin wrote it. COPY is not a statement seen here: the
demo data loader, its only user, calls `boards_changed` itself. A user's login (`last_login`)
does not change a card: updates of the users table count only when they set a name column.
"""

import re
from collections.abc import Callable

from django.db import transaction
from django.db.backends.signals import connection_created
from django.utils import timezone, translation
from django.utils.safestring import SafeString

from coop.cache import aggregates_changed, cached_aggregate
from crm.timeline import CSRF_HOLE, _with_csrf

BOARD_NAMESPACE = "crm-board"

_BOARD_TABLES = (
    "crm_deals",
    "crm_deal_tags",
    "crm_contacts",
    "crm_organizations",
    "crm_tags",
    "crm_pipeline_stages",
    "crm_pipelines",
)
_WRITE = re.compile(
    r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?('
    + "|".join(_BOARD_TABLES)
    + r')"?[\s(]',
    re.IGNORECASE,
)
_USERS_WRITE = re.compile(
    r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|DELETE\s+FROM)\s+"?users"?[\s(]', re.IGNORECASE
)
_USERS_RENAME = re.compile(
    r'^\s*UPDATE\s+"?users"?\s+SET\b.*?"?(display_name|first_name|last_name|username)"?\s*=',
    re.IGNORECASE | re.DOTALL,
)


def boards_changed() -> None:
    """Every cached board is stale once the current transaction commits."""
    aggregates_changed(BOARD_NAMESPACE)


def changes_boards(sql: str) -> bool:
    """Whether the statement can change a card, a count or a total on a board."""
    return bool(_WRITE.match(sql) or _USERS_WRITE.match(sql) or _USERS_RENAME.match(sql))


def _watch(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if isinstance(sql, str) and changes_boards(sql):
        transaction.on_commit(boards_changed, using=context["connection"].alias)
    return result


def _connection_created(sender, connection, **kwargs) -> None:
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch)


def connect() -> None:
    connection_created.connect(_connection_created, dispatch_uid="crm_board_cache_watch")
    # Connections opened before (in tests, at start-up) are watched too.
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        _connection_created(None, connection)


def cached_board_part(request, key: tuple, render: Callable[[], str]) -> SafeString:
    """`render()`'s markup (rendered with `csrf_hole=True`) for `key`, shared by every viewer
    of the pipeline, with the viewer's CSRF field in its holes."""
    key = (*key, translation.get_language(), timezone.get_current_timezone_name())
    html = cached_aggregate(BOARD_NAMESPACE, key, render)
    return _with_csrf(request, html)


__all__ = ["BOARD_NAMESPACE", "CSRF_HOLE", "boards_changed", "cached_board_part", "connect"]
