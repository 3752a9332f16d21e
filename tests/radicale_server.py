"""A real CalDAV server for the tests: Radicale on a free loopback port, with its storage in
a temporary folder, started once per test session and stopped after it. Each test gets its
own user (Radicale's `none` authentication accepts any password), so tests never share a
calendar."""

import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import caldav
import pytest


@dataclass(frozen=True)
class CalDavUser:
    url: str
    username: str
    password: str

    def client(self) -> caldav.DAVClient:
        return caldav.DAVClient(url=self.url, username=self.username, password=self.password)

    def make_calendar(self, name: str) -> caldav.Calendar:
        return self.client().principal().make_calendar(name=name)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_ready(port: int, process: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Radicale exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("Radicale did not start in time")


def start_radicale(port: int, storage) -> subprocess.Popen:
    """Radicale on 127.0.0.1:`port` with its storage in `storage`, ready for requests."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "radicale",
            "--server-hosts",
            f"127.0.0.1:{port}",
            "--storage-filesystem-folder",
            str(storage),
            "--auth-type",
            "none",
            "--logging-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_ready(port, process)
    except RuntimeError:
        process.kill()
        raise
    return process


@pytest.fixture(scope="session")
def radicale_url(tmp_path_factory):
    port = _free_port()
    process = start_radicale(port, tmp_path_factory.mktemp("radicale"))
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def caldav_user(radicale_url) -> CalDavUser:
    """A fresh Radicale user with one calendar, "Work"."""
    user = CalDavUser(url=radicale_url, username=f"u{uuid.uuid4().hex[:12]}", password="app-pw")
    user.make_calendar("Work")
    return user
