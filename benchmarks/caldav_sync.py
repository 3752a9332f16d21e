"""`make bench-caldav`: one CalDAV account's sync against a real Radicale, at 1,000 events
and at 4,000 (memory must not grow with the count), then incremental syncs of 10 changes
(the median of `--repeat`, 5).

DATABASE_URL=postgres://... python -m benchmarks.caldav_sync [--events 1000] [--profile]

`--profile` prints the 25 costliest functions (cProfile, cumulative) of each incremental sync.

Needs Radicale (requirements-dev.txt). Writes a throw-away user, deleted at the end; prints
a table to paste into `benchmarks/RESULTS.md`.
"""

import argparse
import cProfile
import datetime
import os
import pstats
import secrets
import statistics
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


def _timed(function) -> tuple[float, float, float]:
    """(seconds, CPU seconds of this process, peak MiB of Python allocations) of one call.
    The CPU seconds are the CRM's own work: Radicale runs in another process."""
    tracemalloc.start()
    began, cpu = time.perf_counter(), time.process_time()
    function()
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return elapsed, cpu, peak


def _server_seconds(client, calendar_url: str, token: str) -> float:
    """Radicale alone: one sync-collection REPORT of ETags since `token`, read whole."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:">'
        f"<D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>"
        "<D:prop><D:getetag/></D:prop></D:sync-collection>"
    )
    began = time.perf_counter()
    client.request(calendar_url, "REPORT", body, {"Depth": "0"})
    return time.perf_counter() - began


def _profiled(function) -> None:
    profile = cProfile.Profile()
    profile.runcall(function)
    pstats.Stats(profile).sort_stats("cumulative").print_stats(25)


def run(counts: list[int], url: str, *, repeat: int = 5, profile: bool = False) -> list[tuple]:
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
        client = caldav.DAVClient(url=url, username=name, password=password, timeout=600)
        calendar = client.principal().make_calendar(name="Personal")
        client.put(
            str(calendar.url), _calendar_body(count, start), {"Content-Type": "text/calendar"}
        )
        # Radicale indexes a calendar on its first listing (parsing every object): its cost,
        # not the CRM's, and a server in service has done it long before a person connects.
        server = _server_seconds(client, str(calendar.url), "")
        rows.append((f"Radicale alone: its first listing of {count:,} events (indexing)", server))
        user = User.objects.create_user(username=name, email=f"{name}@example.coop")
        try:
            account = account_connect(user=user, server_url=url, username=name, password=password)
            BusyTime.objects.filter(user=user).delete()  # measure the first sync itself
            account.calendars.update(sync_token="")
            timing = _timed(lambda account=account: account_sync(account_id=account.pk))
            stored = BusyTime.objects.filter(user=user).count()
            rows.append((f"first sync, {count:,} events ({stored:,} busy times)", *timing))
            timings = []
            for run_index in range(repeat):
                for index in range(10 * run_index, 10 * run_index + 10):
                    obj = calendar.event_by_uid(f"bench-{index}@example.coop")
                    obj.icalendar_component["summary"] = "Moved"
                    obj.save()
                timings.append(_timed(lambda account=account: account_sync(account_id=account.pk)))
            median = [statistics.median(column) for column in zip(*timings, strict=True)]
            name = f"incremental sync, 10 of {count:,} changed (median of {repeat})"
            rows.append((name, *median))
            token = account.calendars.get().sync_token
            server = _server_seconds(client, str(calendar.url), token)
            rows.append((f"Radicale alone: its listing since the last token, {count:,}", server))
            if profile:
                for obj in list(calendar.events())[-10:]:
                    obj.icalendar_component["summary"] = "Moved"
                    obj.save()
                _profiled(lambda account=account: account_sync(account_id=account.pk))
        finally:
            user.delete()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1000, 4000])
    parser.add_argument("--repeat", type=int, default=5, help="incremental syncs (median)")
    parser.add_argument("--profile", action="store_true", help="cProfile incremental syncs")
    args = parser.parse_args()
    # A throw-away key: the benchmark's passwords are deleted with its users.
    os.environ.setdefault("CALDAV_ENCRYPTION_KEY", Fernet.generate_key().decode())
    os.environ["CALDAV_ALLOW_PRIVATE_ADDRESSES"] = "true"  # Radicale is on loopback
    os.environ.setdefault("CALDAV_TIMEOUT_SECONDS", "600")  # a loaded machine is slow
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
            rows = run(
                args.events, f"http://127.0.0.1:{port}/", repeat=args.repeat, profile=args.profile
            )
        finally:
            server.terminate()
            server.wait(timeout=10)
    print("| CalDAV sync (Radicale on loopback) | seconds | CRM CPU s | peak MiB |")
    print("|---|---:|---:|---:|")
    for name, seconds, *rest in rows:
        cpu, peak = (f"{rest[0]:,.2f}", f"{rest[1]:,.1f}") if rest else ("", "")
        print(f"| {name} | {seconds:,.2f} | {cpu} | {peak} |")


if __name__ == "__main__":
    main()
