"""The pipeline board's rendered columns, cached and shared by every viewer of the pipeline.

A board's columns (counts, totals, the first cards of each stage, their "Move to" menus) are
the same for everyone who may see the pipeline: deals are scoped by their pipeline's team, and
a card has no action only some viewers get. The markup is stored in `CACHES["aggregates"]`
(Redis, shared by every process; nothing is cached without it) under the generation of
`BOARD_NAMESPACE` (coop/cache.py), keyed by the pipeline, the filter and order, the cursor, the
language and the time zone. Each card's CSRF field is a `<!--csrf-->` hole filled per viewer on
the way out (crm/timeline.py).

Invalidation does not rely on every writer remembering it: the statement watcher of
coop/writes.py sees any INSERT, UPDATE or DELETE of a table a card, count or total shows
(deals, their tags, contacts, organizations, tags, stages, pipelines, users), and the
generation is replaced when its transaction commits, whichever service, bulk update, import,
merge, erasure or admin wrote it (a COPY through `coop.bulk.copy_insert` too). A user's login
(`last_login`) does not change a card: updates of the users table count only when they set a
name column.
"""

import re
from collections.abc import Callable

from django.utils import timezone, translation
from django.utils.safestring import SafeString

from coop.cache import aggregates_changed, cached_aggregate
from coop.csrf_holes import with_csrf
from coop.writes import WriteWatcher, write_watcher_register

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


def connect() -> None:
    write_watcher_register(WriteWatcher("crm-board", changes_boards, boards_changed))


def cached_board_part(request, key: tuple, render: Callable[[], str]) -> SafeString:
    """`render()`'s markup (rendered with `csrf_hole=True`) for `key`, shared by every viewer
    of the pipeline, with the viewer's CSRF field in its holes."""
    key = (*key, translation.get_language(), timezone.get_current_timezone_name())
    html = cached_aggregate(BOARD_NAMESPACE, key, render)
    return with_csrf(request, html)
