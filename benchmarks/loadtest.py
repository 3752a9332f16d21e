"""The load test: wrk with a logged-in session cookie against every list and report page
(`PAGES`: the contact page, warm and with a cold timeline cache for one request in ten, a
later timeline page, the contact, deal and organization lists, the home page and its My day,
the reports, a search, a calendar week, the pipeline board) and the benchmark floor
(`/bench/floor`, a minimal logged-in view), each page's throughput stated as its share of
the floor's. `make loadtest` writes its table into `benchmarks/RESULTS.md` ("Load test").

By default it starts gunicorn itself (2 workers, loopback) on the database of
`DATABASE_URL`, with `REDIS_URL` set as production has it (`redis://127.0.0.1:6379/3` when
the environment sets none): the sessions, the shared aggregates and the page cache live
there. `--target URL` (repeatable) points it at app servers already running instead, e.g.
two app processes behind nothing, with a task worker beside them: wrk then drives every
target at once with the same connections each, and the figures are summed (requests,
errors) or the worst of the targets (latency percentiles).

    python -m benchmarks.loadtest [--duration 60] [--connections 4] [--target URL ...]
                                  [--only NAME ...] [--no-save]
"""

import argparse
import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.provenance import git_commit, load_average, provenance_lines, replace_section
from benchmarks.setup import django_setup

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LOG = Path(tempfile.gettempdir()) / "coop-loadtest-gunicorn.log"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/3"
COLD_EVERY = 10  # the cold-cache mix: one request in ten renders a timeline not cached yet
FLOOR = "floor (/bench/floor)"
WRK_TIMEOUT_S = 2  # wrk's default, stated on its command line


@dataclasses.dataclass
class LoadResult:
    name: str
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int


@dataclasses.dataclass
class Page:
    """One row of the load test: a GET of `path` as `username` (under htmx when `htmx`, as
    the page that embeds it asks); with `cold_paths`, every `COLD_EVERY`th request goes to
    the next of them instead (each once)."""

    name: str
    path: str
    username: str = "maria"
    htmx: bool = False
    cold_paths: list[str] = dataclasses.field(default_factory=list)


def ensure_wrk() -> str:
    """The wrk binary, installed with apt-get (Debian package `wrk`) when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    for apt in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "wrk"]):
        subprocess.run([*sudo, *apt], check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    return shutil.which("wrk") or "wrk"


def session_cookie(username: str) -> str:
    """The cookies of a browser logged in as `username`: a session made directly in the
    session store (as `Client.force_login` does), so the login form and its throttling are
    never touched, and a CSRF cookie, as the login page leaves in every browser (the page
    cache, coop/page_cache.py, keys pages by both)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
    from django.utils.crypto import get_random_string
    from django.utils.module_loading import import_string

    from coop.models import User

    user = User.objects.get(username=username)
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    csrf = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}; {settings.CSRF_COOKIE_NAME}={csrf}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(workers: int) -> tuple[subprocess.Popen, str]:
    """gunicorn with the project's config on a free loopback port; waits for /healthz."""
    port = free_port()
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_MAX_REQUESTS": "0",
    }
    log = open(LOG, "w")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "config.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return process, base
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"gunicorn did not start; see {LOG}")


def run_wrk(wrk: str, urls: list[str], page: Page, duration: int, connections: int) -> dict:
    """wrk against every URL at once (one process each) as `page` asks; their JSON reports
    combined."""
    env = {"BENCH_COOKIE": session_cookie(page.username)}
    if page.htmx:
        env["BENCH_HTMX"] = "1"
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as cold:
        if page.cold_paths:
            cold.write("\n".join(page.cold_paths) + "\n")
            cold.flush()
            env |= {"BENCH_COLD_EVERY": str(COLD_EVERY), "BENCH_COLD_PATHS": cold.name}
        return wrk_run(wrk, urls, env, duration, connections)


def wrk_run(
    wrk: str,
    urls: list[str],
    script_env: dict[str, str],
    duration: int,
    connections: int,
    timeout_s: int = WRK_TIMEOUT_S,
) -> dict:
    """wrk against every URL at once (one process each, one thread, `wrk_report.lua` with
    `script_env`, e.g. BENCH_COOKIE); their JSON reports combined. A request not answered
    within `timeout_s` seconds is counted as an error (wrk's timeout) and has no latency."""
    command = [
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        f"--timeout={timeout_s}s",
        "--latency",
        "-s",
        str(HERE / "wrk_report.lua"),
    ]
    processes = [
        subprocess.Popen(  # noqa: S603 (our wrk command line)
            [*command, url], env={**os.environ, **script_env}, stdout=subprocess.PIPE, text=True
        )
        for url in urls
    ]
    reports = []
    for process in processes:
        out, _ = process.communicate()
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return {
        "requests_per_s": sum(r["requests"] / (r["duration_us"] / 1e6) for r in reports),
        "errors": sum(
            r[k] for r in reports for k in ("connect", "read", "write", "status", "timeout")
        ),
        **{key: max(r[key] for r in reports) / 1000 for key in ("p50_us", "p95_us", "p99_us")},
    }


def cold_contact_paths(busy_id, viewer: str, count: int) -> list[str]:
    """The pages of `count` contacts `viewer` sees other than the busy one, those with the
    most interactions first: each requested once in the cold mix, so its timeline is rendered
    (no worker has it cached) from a timeline about as full as the busy contact's first page."""
    from django.db.models import Count
    from django.urls import reverse

    from coop.models import User
    from crm.models import Contact

    contacts = (
        Contact.objects.visible_to(User.objects.get(username=viewer))
        .exclude(pk=busy_id)
        .annotate(entries=Count("interactions"))
        .order_by("-entries", "id")
        .values_list("pk", flat=True)[:count]
    )
    return [reverse("crm:contact_detail", args=[pk]) for pk in contacts]


def pages(duration: int) -> list[Page]:
    """Every page of the load test, the floor last."""
    from django.urls import reverse

    from benchmarks.pages import BUSY_CONTACT, BUSY_USER
    from crm.models import Contact, Pipeline
    from crm.selectors import contact_timeline

    pipeline = Pipeline.objects.filter(team__name="Demo Co-op Sales").order_by("name").first()
    contact = reverse("crm:contact_detail", args=[BUSY_CONTACT])
    first_page = contact_timeline(contact=Contact.objects.get(pk=BUSY_CONTACT))
    later = reverse("crm:contact_timeline", args=[BUSY_CONTACT])
    # Enough contacts never to request one twice at 3,000 req/s.
    cold = cold_contact_paths(BUSY_CONTACT, "maria", duration * 3_000 // COLD_EVERY)
    second = []
    if first_page.next_after is not None:  # a timeline of one page has none (small data)
        second.append(
            Page("contact timeline, second page", f"{later}?after={first_page.next_after.pk}")
        )
    return [
        Page("contact detail", contact),
        Page(f"contact detail, 1 in {COLD_EVERY} cold", contact, cold_paths=cold),
        *second,
        Page("contacts list", reverse("crm:contact_list")),
        Page("deals list", reverse("crm:deal_list")),
        Page("organizations list", reverse("crm:organization_list")),
        Page("home (dashboard)", reverse("dashboard")),
        Page(f"home: My day of {BUSY_USER}", reverse("crm:my_day"), BUSY_USER, htmx=True),
        Page("reports", reverse("crm:reports")),
        Page("search (q=ana)", reverse("crm:search") + "?q=ana"),
        Page(f"calendar week of {BUSY_USER}", reverse("crm:calendar") + "?view=week", BUSY_USER),
        Page("pipeline board", reverse("crm:pipeline_board", args=[pipeline.pk])),
        Page(FLOOR, reverse("bench_floor")),
    ]


def load_test(
    *,
    targets: list[str] | None,
    duration: int,
    connections: int,
    workers: int = 2,
    only: list[str] | None = None,
) -> list[LoadResult]:
    """The rows of `pages` (those whose name contains one of `only`, and the floor)."""
    wrk = ensure_wrk()
    chosen = [
        page
        for page in pages(duration)
        if not only or page.name == FLOOR or any(word in page.name for word in only)
    ]
    server = None
    if not targets:
        server, base = start_gunicorn(workers)
        targets = [base]
    try:
        results = []
        for page in chosen:
            figures = run_wrk(wrk, [t + page.path for t in targets], page, duration, connections)
            results.append(
                LoadResult(
                    name=page.name,
                    requests_per_s=figures["requests_per_s"],
                    p50_ms=figures["p50_us"],
                    p95_ms=figures["p95_us"],
                    p99_ms=figures["p99_us"],
                    errors=figures["errors"],
                )
            )
            print(f"  {page.name}: {figures['requests_per_s']:,.1f} req/s", flush=True)
        return results
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


def format_load(results: list[LoadResult], *, duration: int) -> list[str]:
    floor = results[-1].requests_per_s
    lines = [
        f"| load test (wrk, {duration} s per URL) | req/s | p50 ms | p95 ms | p99 ms | errors "
        "| of floor |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.requests_per_s:,.1f} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | "
            f"{r.p99_ms:.1f} | {r.errors} | {100 * r.requests_per_s / floor:.0f} % |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds per URL (60)")
    parser.add_argument("--connections", type=int, default=4, help="per target (4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--target", action="append", help="base URL of a running app server")
    parser.add_argument(
        "--only", action="append", help="the pages whose row name contains this (and the floor)"
    )
    parser.add_argument("--no-save", action="store_true", help="print only, not in RESULTS.md")
    args = parser.parse_args()
    # Before the settings load: this process makes the sessions in gunicorn's store.
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    django_setup()
    before, commit = load_average(), git_commit()
    results = load_test(
        targets=args.target,
        duration=args.duration,
        connections=args.connections,
        workers=args.workers,
        only=args.only,
    )
    table = format_load(results, duration=args.duration)
    print("\n".join(table))
    if not args.no_save:
        body = [
            *provenance_lines(before=before, commit=commit, after=load_average()),
            f"- gunicorn: {args.workers} workers; wrk: {args.connections} connections, one "
            f"thread; {', '.join(args.target) if args.target else 'loopback'}; logged in; "
            f"the machine may be shared (see the load average).",
            f"- REDIS_URL: {os.environ['REDIS_URL']} (sessions, aggregates, page cache)",
            "",
            *table,
        ]
        replace_section("## Load test (latest `make loadtest`)", "\n".join(body))


if __name__ == "__main__":
    main()
