"""`make bench-peer`: a peer Django CRM (Creme CRM, from PyPI) on the same machine, driven by
the same wrk run as our load test (benchmarks/loadtest.py: one wrk thread, the same
connections and seconds per URL, its Lua report script), logged in, with our own floor
(`/bench/floor` of our app on DATABASE_URL) for the ratio.

Everything the peer needs lives outside the repository, in PEER_DIR (default ../peer/creme
beside this checkout): its own virtual environment (Python 3.12, creme-crm pinned), its own
PostgreSQL database (PEER_DATABASE, default `peer_creme`, created when missing), a project
made by `creme creme_start_project`, migrated, populated and loaded with as many contacts
and deals as `seed_demo --scale large` (20,000 and 150,000; scripts/peer_creme_load.py).
It is served by gunicorn with DEBUG off, as Creme's docs recommend a WSGI server. A second
run reuses the environment, the project and the data it finds there.

wrk's timeout (`--timeout`, 30 s here against the load test's 2 s) is long enough for a slow
peer's requests to complete and be timed: with 2 s, on a loaded machine, every Creme request
was a timeout error with no latency at all. The floor's run uses the same timeout.

The peer's virtual environment needs Python 3.12 (`--python`, default $PEER_PYTHON or
`python3.12`); with pyenv, whose `python3.12` shim only works where a 3.12 is selected, give
the interpreter itself, e.g. `PEER_PYTHON=$(pyenv prefix 3.12.1)/bin/python3.12`.

    python -m benchmarks.peer [--duration 60] [--connections 4] [--timeout 30]
                              [--contacts N] [--deals N] [--python PATH]
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from benchmarks.loadtest import (
    ROOT,
    LoadResult,
    ensure_wrk,
    format_load,
    free_port,
    wrk_run,
)

CREME_VERSION = "2.8.6"
PYTHON = "python3.12"  # Creme 2.8 supports Python 3.10 to 3.12
PEER_TIMEOUT_S = 30
PEER_USER = "bench"
PEER_SETTINGS = """

# Co-op CRM's `make bench-peer`: PostgreSQL, production-like.
DATABASES['default'].update(
    ENGINE='django.db.backends.postgresql', NAME={name!r}, USER={user!r},
    PASSWORD={password!r}, HOST={host!r}, PORT={port!r}, CONN_MAX_AGE=None,
)
DEBUG = False
ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
"""
# A logged-in session made in the peer's session store (as our load test does for ours).
PEER_SESSION = """
import django
django.setup()
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth import get_user_model
from django.utils.module_loading import import_string
user = get_user_model().objects.get(username={user!r})
store = import_string(settings.SESSION_ENGINE + ".SessionStore")()
store[SESSION_KEY] = str(user.pk)
store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
store[HASH_SESSION_KEY] = user.get_session_auth_hash()
store.save()
print(settings.SESSION_COOKIE_NAME + "=" + store.session_key)
"""
PEER_SUPERUSER = """
import django
django.setup()
from django.contrib.auth import get_user_model
User = get_user_model()
if not User.objects.filter(username={user!r}).exists():
    User.objects.create_superuser(username={user!r}, email="bench@peer.example",
        first_name="Bench", last_name="Peer", password="bench-peer-only")
"""


class Peer:
    def __init__(self, directory: Path, database_url: str, python: str = PYTHON) -> None:
        self.dir = directory
        self.python_command = python
        self.venv = directory / "venv"
        self.project = directory / "peerproj"
        self.database_url = database_url
        self.log = directory / "bench-peer.log"

    def env(self) -> dict:
        """The peer's settings once its project exists (not while `creme_start_project`
        makes it)."""
        env = {**os.environ, "PYTHONPATH": str(self.project)}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        if (self.project / "peerproj" / "settings.py").exists():
            env["DJANGO_SETTINGS_MODULE"] = "peerproj.settings"
        return env

    def run(self, *command: str, capture: bool = False) -> str:
        """A command in the peer's environment (niced: the machine is shared); its output
        goes to bench-peer.log unless captured."""
        with open(self.log, "a") as log:
            done = subprocess.run(  # noqa: S603 (our own command lines)
                ["nice", "-n", "5", *command],  # noqa: S607
                cwd=self.project if self.project.exists() else self.dir,
                env=self.env(),
                stdout=subprocess.PIPE if capture else log,
                stderr=log,
                text=True,
                check=True,
            )
        return done.stdout or ""

    def creme(self, *arguments: str) -> None:
        self.run(str(self.venv / "bin" / "creme"), *arguments, "--settings=peerproj.settings")

    def python(self, code: str) -> str:
        return self.run(str(self.venv / "bin" / "python"), "-c", code, capture=True)

    def install(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if not (self.venv / "bin" / "creme").exists():
            python = shutil.which(self.python_command) or self.python_command
            self.run(python, "-m", "venv", str(self.venv))
            pip = str(self.venv / "bin" / "pip")
            self.run(
                pip, "install", "-q", f"creme-crm=={CREME_VERSION}", "gunicorn", "psycopg[binary]"
            )
        if not self.project.exists():
            self.run(str(self.venv / "bin" / "creme"), "creme_start_project", "peerproj")
            url = urllib.parse.urlsplit(self.database_url)
            # The generated settings.py leaves `from .local_settings import *` commented out.
            with open(self.project / "peerproj" / "settings.py", "a") as settings:
                settings.write("\nfrom .local_settings import *  # noqa\n")
            settings = self.project / "peerproj" / "local_settings.py"
            settings.write_text(
                settings.read_text()
                + PEER_SETTINGS.format(
                    name=url.path.lstrip("/"),
                    user=url.username or "postgres",
                    password=url.password or "",
                    host=url.hostname or "127.0.0.1",
                    port=str(url.port or 5432),
                )
            )

    def database(self) -> None:
        url = urllib.parse.urlsplit(self.database_url)
        name = url.path.lstrip("/")
        # Exits 1 (and changes nothing) when the database is already there.
        subprocess.run(  # noqa: S603
            ["createdb", "-h", url.hostname or "127.0.0.1", "-U", url.username or "postgres", name],  # noqa: S607
            check=False,
            capture_output=True,
        )
        self.creme("migrate", "--noinput")
        self.creme("creme_populate")
        self.creme("generatemedia")
        self.python(PEER_SUPERUSER.format(user=PEER_USER))

    def load(self, contacts: int, deals: int) -> dict:
        out = self.run(
            str(self.venv / "bin" / "python"),
            str(ROOT / "scripts" / "peer_creme_load.py"),
            str(contacts),
            str(deals),
            capture=True,
        )
        return json.loads(out.strip().splitlines()[-1])

    def serve(self, workers: int) -> tuple[subprocess.Popen, str]:
        port = free_port()
        log = open(self.log, "a")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(  # noqa: S603
            [
                str(self.venv / "bin" / "gunicorn"),
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{port}",
                "peerproj.wsgi:application",
            ],
            cwd=self.project,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{base}/", timeout=2):  # noqa: S310
                    return process, base
            except urllib.error.HTTPError:
                return process, base  # it answers (a redirect to the login page is fine)
            except OSError:
                time.sleep(0.5)
        process.terminate()
        raise RuntimeError(f"the peer did not start; see {self.log}")


def our_floor(duration: int, connections: int, workers: int, timeout_s: int) -> LoadResult:
    """Our `/bench/floor` (a minimal logged-in view) under the same wrk run."""
    from django.db import connection
    from django.urls import reverse

    from benchmarks.loadtest import session_cookie, start_gunicorn

    cookie = session_cookie("maria")
    connection.close()
    server, base = start_gunicorn(workers)
    try:
        figures = wrk_run(
            ensure_wrk(),
            [base + reverse("bench_floor")],
            {"BENCH_COOKIE": cookie},
            duration,
            connections,
            timeout_s,
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return _result("Co-op CRM floor (/bench/floor)", figures)


def _result(name: str, figures: dict) -> LoadResult:
    return LoadResult(
        name=name,
        requests_per_s=figures["requests_per_s"],
        p50_ms=figures["p50_us"],
        p95_ms=figures["p95_us"],
        p99_ms=figures["p99_us"],
        errors=figures["errors"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds per URL (60)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument(
        "--timeout", type=int, default=PEER_TIMEOUT_S, help="wrk's timeout in seconds (30)"
    )
    parser.add_argument(
        "--python",
        default=os.environ.get("PEER_PYTHON", PYTHON),
        help="Python 3.12 for the peer's venv ($PEER_PYTHON or python3.12)",
    )
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--deals", type=int, default=150_000)
    parser.add_argument(
        "--dir", type=Path, default=Path(os.environ.get("PEER_DIR", ROOT.parent / "peer" / "creme"))
    )
    parser.add_argument(
        "--peer-database",
        default=os.environ.get("PEER_DATABASE", "postgres://postgres@127.0.0.1:5432/peer_creme"),
    )
    args = parser.parse_args()
    from benchmarks.setup import django_setup

    django_setup()  # ours, for the floor
    peer = Peer(args.dir, args.peer_database, args.python)
    print(f"Peer: Creme CRM {CREME_VERSION} in {peer.dir} (log: {peer.log})", flush=True)
    peer.install()
    peer.database()
    loaded = peer.load(args.contacts, args.deals)
    print(f"  loaded: {loaded}", flush=True)
    cookie = peer.python(PEER_SESSION.format(user=PEER_USER)).strip().splitlines()[-1]
    wrk = ensure_wrk()
    server, base = peer.serve(args.workers)
    results = []
    try:
        for name, path in [
            (
                f"Creme CRM {CREME_VERSION}: contact detail",
                f"/persons/contact/{loaded['busy_contact']}",
            ),
            (f"Creme CRM {CREME_VERSION}: deal list", "/opportunities/opportunities"),
        ]:
            figures = wrk_run(
                wrk,
                [base + path],
                {"BENCH_COOKIE": cookie},
                args.duration,
                args.connections,
                args.timeout,
            )
            results.append(_result(name, figures))
            print(f"  {name}: {figures}", flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    results.append(our_floor(args.duration, args.connections, args.workers, args.timeout))
    load = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout  # noqa: S607
    print(f"wrk: 1 thread, {args.connections} connections, timeout {args.timeout} s")
    print("\n".join(format_load(results, duration=args.duration)))
    print(f"load: {load.strip()}")


if __name__ == "__main__":
    main()
