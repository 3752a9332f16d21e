"""The pages of a contact's timeline (the first, `#timeline`, and the later ones of the infinite
scroll, `#timeline_page`), each rendered once per version and served from a cache in each
process to every viewer who would get the same HTML.

The HTML depends on the contact's interactions, notes and tasks, their meetings and their
authors', assignees' and completers' names (`Contact.timeline_version` changes with each of
them, in the writing transaction: see crm/receivers.py), on the viewer's time zone and language
(in the key), and on the time: a pinned meeting moves into the entries when it ends, so a page
is served only until its first upcoming meeting ends. The organizer of a meeting not cancelled
sees its Edit and Cancel actions with a CSRF token: a page rendered for one of them is never
stored, and a stored page is never served to one of them; likewise for the author of a note on
the page (its Edit and Delete). The pinned open tasks are the same for everyone: their tick is
posted by htmx with the page's own CSRF header, and the stored markup holds a `<!--csrf-->`
hole where the viewer's CSRF field goes on the way out, for the form's plain POST without
JavaScript.

The version is read with the contact, before the timeline: a page stored under it may be newer
than it, never older. The cache is per process (`CACHES["fragments"]`), so a deploy starts
empty and markup of the previous release is never served.
"""

import dataclasses
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from django.core.cache import caches
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString

from coop.csrf_holes import with_csrf
from crm.models import Contact
from crm.selectors import TimelinePage, contact_timeline, timeline_entry, upcoming_meetings_end

FRAGMENT_CACHE = "fragments"
FRAGMENT_TIMEOUT = 600  # seconds; a bound on memory, not on staleness


@dataclasses.dataclass(frozen=True)
class _Stored:
    html: str
    organizer_ids: frozenset  # who would see actions (and a CSRF token) on this page
    until: datetime | None  # when the first pinned meeting ends


def _organizer_ids(page: TimelinePage) -> frozenset:
    """Organizers of the page's meetings not cancelled and authors of its notes: the viewers
    shown their own actions (with a CSRF token)."""
    organizers = {
        entry.calendar_event.organizer_id
        for entry in [*page.upcoming, *page.entries]
        if getattr(entry, "calendar_event", None) is not None
        and not entry.calendar_event.is_cancelled
    }
    authors = {
        entry.author_id for entry in page.entries if getattr(entry, "entry_kind", "") == "note"
    }
    return frozenset(organizers | authors - {None})


def _key(contact: Contact, part: str) -> str:
    return (
        f"crm-timeline:{contact.pk}:{contact.timeline_version}:{part}:"
        f"{timezone.get_current_timezone_name()}:{translation.get_language()}"
    )


type _Built = tuple[str, TimelinePage, datetime | None]


def _cached(
    request: HttpRequest, key: str, build: Callable[[], _Built | None]
) -> SafeString | None:
    """The stored page of `key` if `request.user` may be served it and it is still current;
    otherwise `build()`'s (html, page, until), stored unless the viewer sees their own actions
    on it. None when `build` finds nothing to render."""
    cache = caches[FRAGMENT_CACHE]
    stored = cache.get(key)
    if (
        stored is not None
        and request.user.pk not in stored.organizer_ids
        and (stored.until is None or timezone.now() < stored.until)
    ):
        return with_csrf(request, stored.html)
    built = build()
    if built is None:
        return None
    html, page, until = built
    organizer_ids = _organizer_ids(page)
    if request.user.pk not in organizer_ids:
        cache.set(key, _Stored(html, organizer_ids, until), FRAGMENT_TIMEOUT)
    return with_csrf(request, html)


def timeline_first_page(request: HttpRequest, contact: Contact) -> SafeString:
    """The `#timeline` fragment of `contact` (already checked visible) for `request.user`."""

    def build() -> _Built:
        page = contact_timeline(contact=contact)
        html = render_to_string(
            "crm/contact_detail.html#timeline", {"contact": contact, "page": page}, request
        )
        return html, page, min((e.calendar_event.end_time for e in page.upcoming), default=None)

    return _cached(request, _key(contact, "first"), build)


def timeline_later_page(request: HttpRequest, contact: Contact, after_id: UUID) -> str | None:
    """The `#timeline_page` fragment of the entries after `after_id` (the infinite scroll),
    cached like the first page: until the contact's timeline changes or its first upcoming
    meeting ends (it then joins the entries, maybe on this page). None when `after_id` is no
    entry of the contact's timeline."""

    def build() -> _Built | None:
        after = timeline_entry(
            after_id=after_id, interactions=contact.interactions, link={"contact": contact}
        )
        if after is None:
            return None
        page = contact_timeline(contact=contact, after=after)
        html = render_to_string(
            "crm/contact_detail.html#timeline_page", {"contact": contact, "page": page}, request
        )
        return html, page, upcoming_meetings_end(contact=contact)

    return _cached(request, _key(contact, f"after:{after_id}"), build)
