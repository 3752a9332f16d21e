"""The load test: wrk with a logged-in session cookie against the contact detail page, the
pipeline board and the benchmark floor (`/bench/floor`, a minimal logged-in view).

By default it starts gunicorn itself (2 workers, loopback) on the database of
`DATABASE_URL`. `--target URL` (repeatable) points it at app servers already running
instead, e.g. two app processes behind nothing, with a task worker beside them: wrk then
drives every target at once with the same connections each, and the figures are summed
(requests, errors) or the worst of the targets (latency percentiles).

    python -m benchmarks.loadtest [--duration 60] [--connections 4] [--target URL ...]
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

from benchmarks.setup import django_setup

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LOG = Path(tempfile.gettempdir()) / "coop-loadtest-gunicorn.log"


@dataclasses.dataclass
class LoadResult:
    name: str
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int


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
    """A logged-in session of `username`, made directly in the session store (as
    `Client.force_login` does), so the login form and its throttling are never touched."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.module_loading import import_string

    from coop.models import User

    user = User.objects.get(username=username)
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


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


def run_wrk(wrk: str, urls: list[str], cookie: str, duration: int, connections: int) -> dict:
    """wrk against every URL at once (one process each); their JSON reports combined."""
    env = {**os.environ, "BENCH_COOKIE": cookie}
    command = [wrk, "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s"]
    processes = [
        subprocess.Popen(  # noqa: S603 (our wrk command line)
            [*command, str(HERE / "wrk_report.lua"), url],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
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


def load_test(
    *, targets: list[str] | None, duration: int, connections: int, workers: int = 2
) -> list[LoadResult]:
    from django.urls import reverse

    from benchmarks.pages import BUSY_CONTACT
    from crm.models import Pipeline

    wrk = ensure_wrk()
    cookie = session_cookie("maria")
    pipeline = Pipeline.objects.filter(team__name="Demo Co-op Sales").order_by("name").first()
    paths = [
        ("contact detail", reverse("crm:contact_detail", args=[BUSY_CONTACT])),
        ("pipeline board", reverse("crm:pipeline_board", args=[pipeline.pk])),
        ("floor (/bench/floor)", reverse("bench_floor")),
    ]
    server = None
    if not targets:
        server, base = start_gunicorn(workers)
        targets = [base]
    try:
        results = []
        for name, path in paths:
            figures = run_wrk(wrk, [t + path for t in targets], cookie, duration, connections)
            results.append(
                LoadResult(
                    name=name,
                    requests_per_s=figures["requests_per_s"],
                    p50_ms=figures["p50_us"],
                    p95_ms=figures["p95_us"],
                    p99_ms=figures["p99_us"],
                    errors=figures["errors"],
                )
            )
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
    args = parser.parse_args()
    django_setup()
    results = load_test(
        targets=args.target,
        duration=args.duration,
        connections=args.connections,
        workers=args.workers,
    )
    print("\n".join(format_load(results, duration=args.duration)))


if __name__ == "__main__":
    main()
