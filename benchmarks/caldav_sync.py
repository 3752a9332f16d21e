"""`make bench-caldav`: one CalDAV account's sync against a real Radicale, at 1,000 events
and at 4,000 (memory must not grow with the count), then an incremental sync of 10 changes.

DATABASE_URL=postgres://... python -m benchmarks.caldav_sync [--events 1000]

Needs Radicale (requirements-dev.txt). Writes a throw-away user, deleted at the end; prints
a table to paste into `benchmarks/RESULTS.md`.
"""

import argparse
import datetime
import os
import secrets
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid

from cryptography.fernet import Fernet

from benchmarks.setup import django_setup
from tests.radicale_server import _free_port, _wait_until_ready


def _calendar_body(count: int, start: datetime.datetime) -> str:
    """A whole calendar in one document (Radicale stores each VEVENT as its own object)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN"]
    for index in range(count):
        begin = start + datetime.timedelta(hours=3 * index)
        lines += [
            "BEGIN:VEVENT",
            f"UID:bench-{index}@example.coop",
            "DTSTAMP:20260101T000000Z",
            f"DTSTART:{begin:%Y%m%dT%H%M%SZ}",
            f"DTEND:{begin + datetime.timedelta(hours=1):%Y%m%dT%H%M%SZ}",
            f"SUMMARY:Private appointment {index}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def _timed(function) -> tuple[float, float]:
    """(seconds, peak MiB of Python allocations) of one call."""
    tracemalloc.start()
    began = time.perf_counter()
    function()
    elapsed = time.perf_counter() - began
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return elapsed, peak


def run(counts: list[int], url: str) -> list[tuple[str, float, float]]:
    import caldav
    from django.utils import timezone

    from calendar_app.caldav_sync import account_connect, account_sync
    from calendar_app.models import BusyTime
    from coop.models import User

    rows = []
    start = timezone.now().replace(minute=0, second=0, microsecond=0)
    for count in counts:
        name = f"bench{uuid.uuid4().hex[:8]}"
        password = secrets.token_urlsafe()  # Radicale's `none` authentication takes any
        client = caldav.DAVClient(url=url, username=name, password=password)
        calendar = client.principal().make_calendar(name="Personal")
        client.put(
            str(calendar.url), _calendar_body(count, start), {"Content-Type": "text/calendar"}
        )
        user = User.objects.create_user(username=name, email=f"{name}@example.coop")
        try:
            account = account_connect(user=user, server_url=url, username=name, password=password)
            BusyTime.objects.filter(user=user).delete()  # measure the first sync itself
            account.calendars.update(sync_token="")
            seconds, peak = _timed(lambda account=account: account_sync(account_id=account.pk))
            stored = BusyTime.objects.filter(user=user).count()
            rows.append((f"first sync, {count:,} events ({stored:,} busy times)", seconds, peak))
            for obj in list(calendar.events())[:10]:
                obj.icalendar_component["summary"] = "Moved"
                obj.save()
            seconds, peak = _timed(lambda account=account: account_sync(account_id=account.pk))
            rows.append((f"incremental sync, 10 of {count:,} changed", seconds, peak))
        finally:
            user.delete()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1000, 4000])
    args = parser.parse_args()
    # A throw-away key: the benchmark's passwords are deleted with its users.
    os.environ.setdefault("CALDAV_ENCRYPTION_KEY", Fernet.generate_key().decode())
    django_setup()
    with tempfile.TemporaryDirectory() as storage:
        port = _free_port()
        server = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [
                sys.executable,
                "-m",
                "radicale",
                "--server-hosts",
                f"127.0.0.1:{port}",
                "--storage-filesystem-folder",
                storage,
                "--auth-type",
                "none",
                "--logging-level",
                "warning",
            ]
        )
        try:
            _wait_until_ready(port, server)
            rows = run(args.events, f"http://127.0.0.1:{port}/")
        finally:
            server.terminate()
            server.wait(timeout=10)
    print("| CalDAV sync (Radicale on loopback) | seconds | peak MiB |")
    print("|---|---:|---:|")
    for name, seconds, peak in rows:
        print(f"| {name} | {seconds:,.2f} | {peak:,.1f} |")


if __name__ == "__main__":
    main()
