"""The CalDAV wire (RFC 4791, sync RFC 6578), through the `caldav` library: discovery of a
person's calendars, conditional PUT and DELETE of one object, and the changes of a calendar
since a sync token. No database access here; `calendar_app.caldav_sync` owns the writes.

Every request has a timeout (`CALDAV_TIMEOUT_SECONDS`). Network failures raise
`niquests.RequestException` (an `OSError`) or `CalDavUnavailable` (a 5xx), both retried by
the sync task; a refused login raises `CalDavRefused`. Messages never contain the password.
"""

import ipaddress
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import caldav
from caldav.lib import error as caldav_error
from django.conf import settings

# Objects fetched per calendar-multiget REPORT: what one sync holds in memory at a time.
MULTIGET_BATCH = 100
CALENDAR_CONTENT_TYPE = "text/calendar; charset=utf-8"


class CalDavError(Exception):
    """The server answered, but not as hoped; the message is fit for the person."""


class CalDavRefused(CalDavError):
    """The server refused the credentials or the address is not a CalDAV server."""


class CalDavUnavailable(CalDavError):
    """The server failed (5xx): try again later."""


class PreconditionFailed(CalDavError):
    """412: the object changed on the server since the ETag we sent."""


@dataclass(frozen=True)
class RemoteInfo:
    url: str
    name: str


@dataclass
class Changes:
    """What changed in a calendar since a sync token: the new token, the changed objects
    (url → ETag, their data fetched in batches by `objects`), the deleted URLs, and whether
    the listing is complete (no real token: everything not listed is gone)."""

    sync_token: str
    etags: dict[str, str]
    deleted: set[str] = field(default_factory=set)
    full_listing: bool = False


def public_address_refusal(url: str) -> str | None:
    """Why the app will not call that server, or None. Its host must resolve to public
    addresses only, so a person cannot make the server probe the private network (unless
    `CALDAV_ALLOW_PRIVATE_ADDRESSES`, for a calendar server inside it)."""
    if settings.CALDAV_ALLOW_PRIVATE_ADDRESSES:
        return None
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return "That server name does not resolve."
    for info in infos:
        if not ipaddress.ip_address(info[4][0]).is_global:
            return "That server is on a private network; ask your administrator."
    return None


def _client(server_url: str, username: str, password: str) -> caldav.DAVClient:
    return caldav.DAVClient(
        url=server_url,
        username=username,
        password=password,
        timeout=settings.CALDAV_TIMEOUT_SECONDS,
    )


def _raise_for(status: int, what: str) -> None:
    if status in (401, 403):
        raise CalDavRefused(f"The server refused the user name or app password ({what}).")
    if status == 412:
        raise PreconditionFailed(f"Changed on the server meanwhile ({what}).")
    if status >= 500:
        raise CalDavUnavailable(f"The server failed ({status}) on {what}.")
    if status >= 400:
        raise CalDavError(f"The server answered {status} on {what}.")


class Connection:
    """One authenticated client for an account's calls during a sync."""

    def __init__(self, server_url: str, username: str, password: str):
        self.client = _client(server_url, username, password)

    def calendars(self) -> list[RemoteInfo]:
        """The person's event calendars, found from the server URL (the principal URL,
        `.well-known/caldav` per RFC 6764, or the server root)."""
        try:
            principal = self.client.principal()
            found = principal.calendars()
        except caldav_error.AuthorizationError as error:
            raise CalDavRefused("The server refused the user name or app password.") from error
        except caldav_error.DAVError as error:
            raise CalDavError("No CalDAV calendars were found at that address.") from error
        return [RemoteInfo(url=str(cal.url), name=cal.get_display_name() or "") for cal in found]

    def put(self, url: str, body: bytes, *, etag: str | None) -> str:
        """Store an object: `If-Match: etag` when we know its ETag, else `If-None-Match: *`
        (create only). Returns the new ETag; raises `PreconditionFailed` on a 412."""
        headers = {"Content-Type": CALENDAR_CONTENT_TYPE}
        headers["If-Match" if etag else "If-None-Match"] = etag or "*"
        response = self.client.put(url, body.decode(), headers)
        _raise_for(response.status, "storing a meeting")
        return response.headers.get("ETag") or self.get(url)[0]

    def get(self, url: str) -> tuple[str, str] | None:
        """(ETag, iCalendar text) of one object, or None when it is gone."""
        response = self.client.request(url, "GET")
        if response.status == 404:
            return None
        _raise_for(response.status, "reading a meeting")
        return response.headers.get("ETag", ""), response.raw

    def delete(self, url: str, *, etag: str) -> None:
        """Delete an object if it still has `etag` (412 otherwise); gone already is fine."""
        response = self.client.delete(url, {"If-Match": etag})
        if response.status != 404:
            _raise_for(response.status, "deleting a meeting")

    def changes(self, url: str, sync_token: str) -> Changes:
        calendar = self.client.calendar(url=url)
        try:
            result = calendar.get_objects_by_sync_token(sync_token or None, load_objects=False)
        except caldav_error.AuthorizationError as error:
            raise CalDavRefused("The server refused the user name or app password.") from error
        except caldav_error.DAVError as error:
            raise CalDavUnavailable(f"The calendar could not be read: {error}") from error
        token = str(result.sync_token or "")
        return Changes(
            sync_token=token,
            etags={
                str(obj.url): obj.props.get("{DAV:}getetag", "")
                for obj in result
                if str(obj.url) not in result.deleted_urls
            },
            deleted={str(url) for url in result.deleted_urls},
            # The library's emulation, on a server without RFC 6578, lists everything.
            full_listing=not sync_token or token.startswith("fake-"),
        )

    def objects(self, calendar_url: str, urls: list[str]) -> Iterator[tuple[str, str]]:
        """(url, iCalendar text) of each object, fetched `MULTIGET_BATCH` at a time."""
        calendar = self.client.calendar(url=calendar_url)
        for start in range(0, len(urls), MULTIGET_BATCH):
            batch = [
                caldav.lib.url.URL.objectify(url) for url in urls[start : start + MULTIGET_BATCH]
            ]
            for obj in calendar.multiget(batch):
                if obj.data:
                    yield str(obj.url), obj.data
