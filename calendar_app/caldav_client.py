"""The CalDAV wire (RFC 4791, sync RFC 6578), through the `caldav` library: discovery of a
person's calendars, conditional PUT and DELETE of one object, and the changes of a calendar
since a sync token. No database access here; `calendar_app.caldav_sync` owns the writes.

Every request has a timeout (`CALDAV_TIMEOUT_SECONDS`). Network failures raise
`niquests.RequestException` (an `OSError`) or `CalDavUnavailable` (a 5xx), both retried by
the sync task; a refused login raises `CalDavRefused`. Messages never contain the password.

Memory does not grow with the size of a calendar: the listing of a calendar (hrefs and ETags
of a sync-collection REPORT) is streamed to a temporary file and read back one `<response>`
at a time, and the bodies are fetched `MULTIGET_BATCH` at a time.

Private addresses (unless `CALDAV_ALLOW_PRIVATE_ADDRESSES`): the form refuses a server whose
name resolves to one, and every connection resolves the name again through
`PublicOnlyResolver` and connects only to the public addresses it returned. A name that
resolves to a public address when checked and to 127.0.0.1 a moment later (DNS rebinding),
a redirect to a private address, and a literal private IP are all refused before a byte is
sent.
"""

import contextlib
import ipaddress
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlsplit
from xml.sax.saxutils import escape as xml_escape

import caldav
import niquests
from caldav.lib import error as caldav_error
from caldav.lib.url import URL
from django.conf import settings
from django.utils.translation import gettext, gettext_lazy
from lxml import etree
from niquests.packages.urllib3.contrib.resolver.system import SystemResolver

# Objects fetched per calendar-multiget REPORT: what one sync holds in memory at a time.
MULTIGET_BATCH = 100
# Bytes of a listing read from the network at a time, on their way to a temporary file.
DOWNLOAD_CHUNK = 64 * 1024
CALENDAR_CONTENT_TYPE = "text/calendar; charset=utf-8"
PRIVATE_REFUSAL = gettext_lazy("That server is on a private network; ask your administrator.")
DAV = "{DAV:}"
SYNC_COLLECTION = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<D:sync-collection xmlns:D="DAV:"><D:sync-token>%s</D:sync-token>'
    b"<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"
)
PROPFIND_ETAGS = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>'
)


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


class Listing:
    """What changed in a calendar since a sync token, kept in a temporary file: iterate it
    for (url, ETag) of each changed object, ETag None for a deleted one, in the server's
    order. After the iteration, `sync_token` is the new token and `truncated` says the
    server listed only part (RFC 6578 §3.6: ask again with the new token). `full` says the
    listing is complete (no token, or one the server no longer knew): everything not listed
    is gone."""

    def __init__(self, calendar_url: str, file: IO[bytes], *, full: bool, token: str = ""):
        self.calendar_url = URL.objectify(calendar_url)
        self.file = file
        self.full = full
        self.sync_token = token
        self.truncated = False

    def __iter__(self) -> Iterator[tuple[str, str | None]]:
        own = self.calendar_url.canonical()
        with self.file:
            self.file.seek(0)
            tags = (f"{DAV}response", f"{DAV}sync-token")
            for _, element in etree.iterparse(self.file, events=("end",), tag=tags):
                if element.tag == f"{DAV}sync-token":
                    self.sync_token = self.sync_token or (element.text or "").strip()
                else:
                    found = self._entry(element, own)
                    if found is not None:
                        yield found
                # Keep no parsed element behind: memory stays one <response> deep.
                element.clear()
                while element.getprevious() is not None:
                    del element.getparent()[0]

    def _entry(self, response, own) -> tuple[str, str | None] | None:
        href = response.findtext(f"{DAV}href") or ""
        url = self.calendar_url.join(URL.objectify(href.strip()))
        status = response.findtext(f"{DAV}status") or ""
        if url.canonical() == own:
            self.truncated = self.truncated or " 507" in status
            return None
        if " 404" in status:
            return str(url), None
        for propstat in response.iterfind(f"{DAV}propstat"):
            if " 200" in (propstat.findtext(f"{DAV}status") or ""):
                etag = propstat.findtext(f"{DAV}prop/{DAV}getetag")
                if etag is not None:
                    return str(url), etag.strip()
        return None


class PublicOnlyResolver(SystemResolver):
    """The system resolver, keeping only public addresses: the connection is made to an
    address checked here, at connect time, whatever the name resolved to before. When a name
    has no public address, the lookup fails and `refused` names the host."""

    refused = ""

    def getaddrinfo(self, host, port, family, type, proto=0, flags=0, **kwargs):
        infos = super().getaddrinfo(host, port, family, type, proto, flags)
        public = [info for info in infos if ipaddress.ip_address(info[4][0]).is_global]
        if not public:
            self.refused = host.decode() if isinstance(host, bytes) else str(host)
            raise socket.gaierror(socket.EAI_NONAME, f"{self.refused} is a private address")
        return public


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
        return gettext("That server name does not resolve.")
    for info in infos:
        if not ipaddress.ip_address(info[4][0]).is_global:
            return str(PRIVATE_REFUSAL)
    return None


def _client(server_url: str, username: str, password: str) -> caldav.DAVClient:
    client = caldav.DAVClient(
        url=server_url,
        username=username,
        password=password,
        timeout=settings.CALDAV_TIMEOUT_SECONDS,
    )
    if not settings.CALDAV_ALLOW_PRIVATE_ADDRESSES:
        client.session.close()
        client.session = niquests.Session(resolver=PublicOnlyResolver())
    return client


# What the app was doing when a server refused or failed, for the messages of `_raise_for`.
REFUSED = gettext_lazy("The server refused the user name or app password.")
STORING, READING, DELETING, READING_CALENDAR = (
    gettext_lazy("storing a meeting"),
    gettext_lazy("reading a meeting"),
    gettext_lazy("deleting a meeting"),
    gettext_lazy("reading a calendar"),
)


def _raise_for(status: int, what: str) -> None:
    words = {"status": status, "what": what}
    if status in (401, 403):
        raise CalDavRefused(
            gettext("The server refused the user name or app password (%(what)s).") % words
        )
    if status == 412:
        raise PreconditionFailed(gettext("Changed on the server meanwhile (%(what)s).") % words)
    if status >= 500:
        raise CalDavUnavailable(gettext("The server failed (%(status)s) on %(what)s.") % words)
    if status >= 400:
        raise CalDavError(gettext("The server answered %(status)s on %(what)s.") % words)


class Connection:
    """One authenticated client for an account's calls during a sync."""

    def __init__(self, server_url: str, username: str, password: str):
        self.client = _client(server_url, username, password)

    @contextlib.contextmanager
    def _guarded(self) -> Iterator[None]:
        """A connection the resolver refused is the person's to fix, not a network error to
        retry: it raises `CalDavRefused`."""
        try:
            yield
        except niquests.RequestException as error:
            if getattr(self.client.session.resolver, "refused", ""):
                raise CalDavRefused(str(PRIVATE_REFUSAL)) from error
            raise

    def calendars(self) -> list[RemoteInfo]:
        """The person's event calendars, found from the server URL (the principal URL,
        `.well-known/caldav` per RFC 6764, or the server root)."""
        try:
            with self._guarded():
                principal = self.client.principal()
                found = principal.calendars()
                return [
                    RemoteInfo(url=str(cal.url), name=cal.get_display_name() or "") for cal in found
                ]
        except caldav_error.AuthorizationError as error:
            raise CalDavRefused(str(REFUSED)) from error
        except caldav_error.DAVError as error:
            raise CalDavError(gettext("No CalDAV calendars were found at that address.")) from error

    def put(self, url: str, body: bytes, *, etag: str | None) -> str:
        """Store an object: `If-Match: etag` when we know its ETag, else `If-None-Match: *`
        (create only). Returns the new ETag; raises `PreconditionFailed` on a 412."""
        headers = {"Content-Type": CALENDAR_CONTENT_TYPE}
        headers["If-Match" if etag else "If-None-Match"] = etag or "*"
        with self._guarded():
            response = self.client.put(url, body.decode(), headers)
        _raise_for(response.status, STORING)
        return response.headers.get("ETag") or self.get(url)[0]

    def get(self, url: str) -> tuple[str, str] | None:
        """(ETag, iCalendar text) of one object, or None when it is gone."""
        with self._guarded():
            response = self.client.request(url, "GET")
        if response.status == 404:
            return None
        _raise_for(response.status, READING)
        return response.headers.get("ETag", ""), response.raw

    def delete(self, url: str, *, etag: str) -> None:
        """Delete an object if it still has `etag` (412 otherwise); gone already is fine."""
        with self._guarded():
            response = self.client.delete(url, {"If-Match": etag})
        if response.status != 404:
            _raise_for(response.status, DELETING)

    def listing(self, url: str, sync_token: str) -> Listing:
        """The calendar's changes since `sync_token` (everything when it is empty or the
        server no longer knows it), as a sync-collection REPORT of ETags only; a server
        without RFC 6578 lists all its ETags (PROPFIND) every time."""
        body = SYNC_COLLECTION % xml_escape(sync_token).encode()
        status, file = self._download(url, "REPORT", body, depth="0")
        if status in (403, 409, 412) and sync_token:  # DAV:valid-sync-token: start afresh
            file.close()
            return self.listing(url, "")
        if status < 300:
            return Listing(url, file, full=not sync_token)
        file.close()
        if status >= 500 and status != 501:
            raise CalDavUnavailable(
                gettext("The server failed (%(status)s) on %(what)s.")
                % {"status": status, "what": READING_CALENDAR}
            )
        status, file = self._download(url, "PROPFIND", PROPFIND_ETAGS, depth="1")
        if status >= 300:
            file.close()
            _raise_for(status, READING_CALENDAR)
            raise CalDavError(
                gettext("The server answered %(status)s on %(what)s.")
                % {"status": status, "what": READING_CALENDAR}
            )
        return Listing(url, file, full=True)

    def _download(self, url: str, method: str, body: bytes, *, depth: str, again: bool = True):
        """(status, temporary file holding the answer), streamed: the answer is never whole
        in memory. Authenticates first through the library when the server asks to."""
        headers = {**self.client.headers, "Content-Type": "application/xml", "Depth": depth}
        with self._guarded():
            response = self.client.session.request(
                method,
                str(URL.objectify(url)),
                data=body,
                headers=headers,
                auth=self.client.auth,
                timeout=self.client.timeout,
                stream=True,
            )
            if response.status_code == 401 and self.client.auth is None and again:
                response.close()
                try:  # the library negotiates the scheme the server asks for
                    self.client.request(url, "PROPFIND", PROPFIND_ETAGS, {"Depth": "0"})
                except caldav_error.AuthorizationError as error:
                    raise CalDavRefused(str(REFUSED)) from error
                return self._download(url, method, body, depth=depth, again=False)
            if response.status_code in (401, 403) and method == "PROPFIND":
                response.close()
                _raise_for(response.status_code, READING_CALENDAR)
            file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by its Listing)
            try:
                for chunk in response.iter_content(chunk_size=DOWNLOAD_CHUNK):
                    file.write(chunk)
            except BaseException:
                file.close()
                raise
            finally:
                response.close()
        return response.status_code, file

    def objects(self, calendar_url: str, urls: list[str]) -> Iterator[tuple[str, str]]:
        """(url, iCalendar text) of each object, fetched `MULTIGET_BATCH` at a time."""
        calendar = self.client.calendar(url=calendar_url)
        for start in range(0, len(urls), MULTIGET_BATCH):
            batch = [URL.objectify(url) for url in urls[start : start + MULTIGET_BATCH]]
            try:
                with self._guarded():
                    found = calendar.multiget(batch)
            except caldav_error.AuthorizationError as error:
                raise CalDavRefused(str(REFUSED)) from error
            except caldav_error.DAVError as error:
                raise CalDavUnavailable(
                    gettext("The calendar could not be read: %(error)s") % {"error": error}
                ) from error
            for obj in found:
                if obj.data:
                    yield str(obj.url), obj.data
