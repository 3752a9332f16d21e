"""The pull in bounded memory: a calendar's listing is streamed to disk and read back one
entry at a time, its objects fetched and written a batch at a time, and a complete listing
still finds what disappeared on the server."""

import datetime
import gc
import io
import tracemalloc

import pytest
from django.utils import timezone

from calendar_app import caldav_client, caldav_sync
from calendar_app.caldav_client import Listing
from calendar_app.caldav_sync import account_connect, account_sync
from calendar_app.models import BusyTime

pytestmark = pytest.mark.django_db(transaction=True)

CALENDAR = "http://cal.example.coop/u1/work/"
MULTISTATUS = b"""<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:">
  <D:response><D:href>/u1/work/a.ics</D:href>
    <D:propstat><D:prop><D:getetag>"e-a"</D:getetag></D:prop>
    <D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
  <D:response><D:href>/u1/work/gone.ics</D:href>
    <D:status>HTTP/1.1 404 Not Found</D:status></D:response>
  <D:response><D:href>http://cal.example.coop/u1/work/b%20c.ics</D:href>
    <D:propstat><D:prop><D:getetag>"e-b"</D:getetag></D:prop>
    <D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
  <D:response><D:href>/u1/work/</D:href>
    <D:status>HTTP/1.1 507 Insufficient Storage</D:status></D:response>
  <D:sync-token>http://example.coop/sync/42</D:sync-token>
</D:multistatus>
"""


def test_a_listing_gives_changed_and_deleted_objects_then_the_new_token():
    listing = Listing(CALENDAR, io.BytesIO(MULTISTATUS), full=False)

    assert list(listing) == [
        ("http://cal.example.coop/u1/work/a.ics", '"e-a"'),
        ("http://cal.example.coop/u1/work/gone.ics", None),
        ("http://cal.example.coop/u1/work/b%20c.ics", '"e-b"'),
    ]
    assert listing.sync_token == "http://example.coop/sync/42"
    assert listing.truncated  # the 507 on the collection itself: ask again


def _upload(caldav_user, count: int) -> None:
    """The calendar becomes `count` one-hour events in the coming days (one request)."""
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + datetime.timedelta(days=1)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"]
    for index in range(count):
        begin = start + datetime.timedelta(hours=2 * index)
        lines += [
            "BEGIN:VEVENT",
            f"UID:busy-{index}@example.coop",
            "DTSTAMP:20260101T000000Z",
            f"DTSTART:{begin:%Y%m%dT%H%M%SZ}",
            f"DTEND:{begin + datetime.timedelta(hours=1):%Y%m%dT%H%M%SZ}",
            f"SUMMARY:Appointment {index}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    calendar = caldav_user.client().principal().calendars()[0]
    caldav_user.client().put(
        str(calendar.url), "\r\n".join(lines) + "\r\n", {"Content-Type": "text/calendar"}
    )


def _connect(user, caldav_user):
    return account_connect(
        user=user,
        server_url=caldav_user.url,
        username=caldav_user.username,
        password=caldav_user.password,
    )


def test_a_first_sync_in_small_batches_stores_every_event(rep, caldav_user, monkeypatch):
    monkeypatch.setattr(caldav_sync, "MULTIGET_BATCH", 3)
    _upload(caldav_user, 10)
    account = _connect(rep, caldav_user)

    account_sync(account_id=str(account.pk))

    summaries = set(BusyTime.objects.filter(user=rep).values_list("summary", flat=True))
    assert summaries == {f"Appointment {index}" for index in range(10)}


def test_a_complete_listing_drops_what_the_server_no_longer_has(rep, caldav_user, monkeypatch):
    monkeypatch.setattr(caldav_sync, "MULTIGET_BATCH", 3)
    _upload(caldav_user, 7)
    account = _connect(rep, caldav_user)
    account_sync(account_id=str(account.pk))
    calendar = caldav_user.client().principal().calendars()[0]
    for index in (1, 5):
        calendar.event_by_uid(f"busy-{index}@example.coop").delete()
    # A token the server does not know: it lists everything, and what is missing is gone.
    account.calendars.update(sync_token="http://radicale.org/ns/sync/unknown")

    account_sync(account_id=str(account.pk))

    summaries = sorted(BusyTime.objects.filter(user=rep).values_list("summary", flat=True))
    assert summaries == [f"Appointment {index}" for index in (0, 2, 3, 4, 6)]
    assert account.calendars.get().sync_token != "http://radicale.org/ns/sync/unknown"


def _first_sync_peak(user, caldav_user, monkeypatch) -> int:
    """Peak Python memory of a first sync. The HTTP library leaves reference cycles that the
    garbage collector frees at its own pace; collecting after each batch makes the peak what
    the sync holds, not what the collector has not reached yet."""
    pull_batch = caldav_sync._pull_batch

    def pull_batch_then_collect(*args, **kwargs):
        done = pull_batch(*args, **kwargs)
        gc.collect()
        return done

    monkeypatch.setattr(caldav_sync, "_pull_batch", pull_batch_then_collect)
    account = _connect(user, caldav_user)
    BusyTime.objects.filter(user=user).delete()
    account.calendars.update(sync_token="")
    tracemalloc.start()
    account_sync(account_id=str(account.pk))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    monkeypatch.setattr(caldav_sync, "_pull_batch", pull_batch)
    return peak


def test_the_memory_of_a_first_sync_does_not_grow_with_the_calendar(
    rep, staff_user, caldav_user, monkeypatch
):
    monkeypatch.setattr(caldav_sync, "MULTIGET_BATCH", 15)
    monkeypatch.setattr(caldav_client, "DOWNLOAD_CHUNK", 2048)  # both listings are larger
    _upload(caldav_user, 150)
    small = _first_sync_peak(rep, caldav_user, monkeypatch)
    _upload(caldav_user, 450)  # three times the events, same calendar

    large = _first_sync_peak(staff_user, caldav_user, monkeypatch)

    assert BusyTime.objects.filter(user=staff_user).count() == 450
    # Holding the listing (2 KiB per object in the caldav library) would add 600 KiB.
    assert large < small * 1.25
