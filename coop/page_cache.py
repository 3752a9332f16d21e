"""Rendered pages cached per browser session, exact up to the last committed write.

`@cached_page` on a GET view stores the HTML of its successful answer in
`CACHES["aggregates"]` (Redis, shared by every process; with no `REDIS_URL` nothing is cached,
for the reason coop/cache.py gives) and answers the next identical request with it, without
running the view. "Identical" means the same key: the session and the CSRF cookie (a page
holds a CSRF token: it is only ever served back to the browser it was made for), the user and
their colour scheme, the host and the full path with its query string, the htmx request
headers (`request.htmx`: a fragment is never served for a page, nor one target's fragment for
another's), the active language and time zone, and the current minute (UTC), so that relative
times ("2 hours ago", "overdue", "today", the calendar's now line) are at most a minute old.

Every page is stored with the *data generation* read before it was rendered, and served only
while that generation is current. The generation is replaced when a transaction commits after
any INSERT, UPDATE or DELETE of one of the project's tables (the statement watcher of
coop/writes.py; a COPY through `coop.bulk.copy_insert` too), except the tables no page shows
that GET requests write: the sessions, django-axes' login records, the audit log (an export or
a view of the wellness insights is audited), the background task queue, and an update of the
users table that sets only `last_login` (a login). So a page is never older than the last
committed write, whoever made it; and a rolled-back write replaces nothing. The price of
exactness: one generation for all the data, so any write anywhere makes every cached page
stale.

Per request, and not in the key: the CSP nonce (the page is stored with the nonce it was
rendered with, replaced by this request's on the way out, which also puts it in the CSP
header) and the CSRF cookie's refresh (`get_token`, as a render does). Not cached at all:
a request other than GET or HEAD, an anonymous one, one with flash messages waiting (they
are shown once), a view that reads from a read replica (`@reads_from_replica` with
`DATABASE_REPLICA_URL` set: the replica may not have the last commit yet), a response
other than a 200 HTML page, one that sets a cookie, rotates the CSRF secret, changes the
session key or queues a message.
"""

import dataclasses
import functools
import hashlib
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.utils import timezone, translation

from coop.cache import AGGREGATE_CACHE
from coop.db_router import replica_alias
from coop.writes import WriteWatcher, write_watcher_register, written_table

PAGE_TIMEOUT = 600  # seconds; a bound on memory, not on staleness
GENERATION_KEY = "pages:generation"

# Tables whose writes change no cached page (see the module's docstring).
UNWATCHED_TABLES = frozenset(
    {
        "django_session",
        "axes_accessattempt",
        "axes_accessattemptexpiration",
        "axes_accessfailurelog",
        "axes_accesslog",
        "coop_audit_events",
        "django_tasks_database_dbtaskresult",
    }
)


# A login's update of the user's row (`update_last_login`), and nothing else.
_LOGIN = re.compile(
    r'^\s*UPDATE\s+"?users"?\s+SET\s+"?last_login"?\s*=\s*(?:%s|\?)\s+WHERE\b', re.IGNORECASE
)


def changes_pages(sql: str) -> bool:
    """Whether the statement writes data a cached page may show."""
    table = written_table(sql)
    return table is not None and table not in UNWATCHED_TABLES and not _LOGIN.match(sql)


def _new_generation() -> str:
    return uuid.uuid4().hex


def generation_replace() -> None:
    """Every cached page is stale from now on."""
    caches[AGGREGATE_CACHE].set(GENERATION_KEY, _new_generation(), timeout=None)


def pages_changed() -> None:
    """Every cached page is stale once the current transaction commits (at once outside a
    transaction): for writes the statement watcher cannot see."""
    transaction.on_commit(generation_replace)


def connect() -> None:
    write_watcher_register(WriteWatcher("pages", changes_pages, generation_replace))


@dataclasses.dataclass(frozen=True)
class _Stored:
    generation: str
    nonce: str | None  # the CSP nonce the page was rendered with, if it used one
    headers: tuple[tuple[str, str], ...]
    content: bytes


def _caching() -> bool:
    return not isinstance(caches[AGGREGATE_CACHE], DummyCache)


def _csrf_cookie(request: HttpRequest) -> str:
    return request.COOKIES.get(settings.CSRF_COOKIE_NAME, "")


def _cacheable_request(request: HttpRequest) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and _caching()
        and request.user.is_authenticated
        and bool(request.session.session_key)
        and bool(_csrf_cookie(request))
        and len(get_messages(request)) == 0
    )


def current_minute() -> str:
    """The minute (UTC) a page is rendered in: part of every key."""
    return timezone.now().strftime("%Y-%m-%dT%H:%M")


def page_key(request: HttpRequest) -> str:
    """The cache key of the page `request` asks for (see the module's docstring)."""
    htmx = getattr(request, "htmx", None)
    parts = (
        request.session.session_key,
        _csrf_cookie(request),
        request.user.pk,
        request.user.color_scheme,
        request.scheme,
        request.get_host(),
        request.get_full_path(),
        (
            bool(htmx),
            htmx.boosted,
            htmx.history_restore_request,
            htmx.target,
            htmx.trigger,
            htmx.trigger_name,
            htmx.current_url,
            htmx.prompt,
        )
        if htmx
        else None,
        translation.get_language(),
        timezone.get_current_timezone_name(),
        current_minute(),
    )
    return "pages:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _storable(request: HttpRequest, response: HttpResponse, session_key: str) -> bool:
    storage = get_messages(request)
    return (
        response.status_code == 200
        and not response.streaming
        and getattr(response, "is_rendered", True)
        and response.get("Content-Type", "").startswith("text/html")
        and not response.cookies
        and request.META.get("CSRF_COOKIE") == _csrf_cookie(request)
        and request.session.session_key == session_key
        and not getattr(storage, "added_new", False)
    )


def _replay(request: HttpRequest, stored: _Stored) -> HttpResponse:
    content = stored.content
    if stored.nonce is not None:
        content = content.replace(stored.nonce.encode(), str(get_nonce(request)).encode())
    response = HttpResponse(content)
    for header, value in stored.headers:
        response[header] = value
    get_token(request)  # the CSRF cookie is sent again, as a render would
    return response


def cached_page[V: Callable[..., HttpResponse]](view: V) -> V:
    """The view's page from the cache when this session asked for it before, in the same
    minute, language and time zone, and no write was committed since; otherwise rendered and
    stored (see the module's docstring for what is not)."""

    replica_reads = getattr(view, "reads_from_replica", False)

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _cacheable_request(request) or (replica_reads and replica_alias() != "default"):
            return view(request, *args, **kwargs)
        cache = caches[AGGREGATE_CACHE]
        key = page_key(request)
        found = cache.get_many([GENERATION_KEY, key])
        generation = found.get(GENERATION_KEY) or cache.get_or_set(
            GENERATION_KEY, _new_generation, timeout=None
        )
        stored = found.get(key)
        if stored is not None and stored.generation == generation:
            return _replay(request, stored)
        session_key = request.session.session_key
        response = view(request, *args, **kwargs)
        if _storable(request, response, session_key):
            nonce = get_nonce(request)
            stored = _Stored(
                generation=generation,
                nonce=str(nonce) if nonce else None,
                headers=tuple(response.items()),
                content=response.content,
            )
            cache.set(key, stored, PAGE_TIMEOUT)
        return response

    return wrapper
