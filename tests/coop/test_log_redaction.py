"""Calendar feed tokens never reach a log line: Django's (plain and JSON) and gunicorn's."""

import io
import logging
import logging.config
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from calendar_app import views as calendar_views
from calendar_app.services import feed_token_regenerate
from coop.log_redaction import redact
from coop.observability import RequestIdFilter

WRONG_TOKEN = "a-wrong-token-someone-guessed-0123456789"


@pytest.fixture
def log_lines():
    """Everything logged during the test, as the console handler writes it with each of the
    formatters of settings.LOGGING (`LOG_FORMAT=plain` and `json`)."""
    configurator = logging.config.DictConfigurator(settings.LOGGING)
    streams, handlers = {}, []
    for name in ("plain", "json"):
        streams[name] = io.StringIO()
        handler = logging.StreamHandler(streams[name])
        handler.addFilter(RequestIdFilter())
        handler.setFormatter(
            configurator.configure_formatter(dict(settings.LOGGING["formatters"][name]))
        )
        handlers.append(handler)
    root = logging.getLogger()
    for handler in handlers:
        root.addHandler(handler)
    try:
        yield lambda: {name: stream.getvalue() for name, stream in streams.items()}
    finally:
        for handler in handlers:
            root.removeHandler(handler)


@pytest.mark.django_db
def test_a_404_on_a_wrong_feed_token_is_logged_without_the_token(client, log_lines):
    assert client.get(reverse("calendar_app:feed", args=[WRONG_TOKEN])).status_code == 404
    for name, text in log_lines().items():
        assert "Not Found: /calendar/feed/[redacted]" in text, name
        assert WRONG_TOKEN not in text, name
    assert "<WSGIRequest: GET '/calendar/feed/[redacted]'>" in log_lines()["json"]


@pytest.mark.django_db
def test_a_server_error_in_the_feed_is_logged_without_the_token(rep, log_lines, monkeypatch):
    token = feed_token_regenerate(user=rep)
    path = reverse("calendar_app:feed", args=[token])

    def broken_feed(name, events):
        raise RuntimeError(f"could not render {path}")

    monkeypatch.setattr(calendar_views.ics, "feed", broken_feed)
    response = Client(raise_request_exception=False).get(path)
    assert response.status_code == 500
    for name, text in log_lines().items():
        assert "Internal Server Error: /calendar/feed/[redacted]" in text, name
        assert "unhandled exception on GET /calendar/feed/[redacted]" in text, name
        assert "RuntimeError: could not render /calendar/feed/[redacted]" in text, name
        assert token not in text, name


FEED = "/calendar/feed/"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f'"GET {FEED}Ab_9-x.ics HTTP/1.1" 200', f'"GET {FEED}[redacted] HTTP/1.1" 200'),
        (f"{FEED}Ab_9-x.ics?x=1", f"{FEED}[redacted]?x=1"),
        (f"\"<WSGIRequest: GET '{FEED}%00%zz'>\"", f"\"<WSGIRequest: GET '{FEED}[redacted]'>\""),
        (f"https://x.coop{FEED}t1 {FEED}t2", f"https://x.coop{FEED}[redacted] {FEED}[redacted]"),
        # Not a feed address: unchanged.
        *[(line, line) for line in ["/calendar/ /calendar/settings/feed-token/", FEED]],
    ],
)  # fmt: skip
def test_redact_replaces_every_feed_token_and_nothing_else(line, expected):
    assert redact(line) == expected


def test_the_redaction_follows_the_feed_route():
    assert redact(reverse("calendar_app:feed", args=["token"])) == "/calendar/feed/[redacted]"


FEED_APP = """
def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path.endswith("boom.ics"):
        raise RuntimeError("could not serve " + path)
    start_response("200 OK" if path.endswith("good.ics") else "404 Not Found", [])
    return [b"BEGIN:VCALENDAR"]
"""


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_gunicorn_logs_feed_requests_without_the_token(tmp_path):
    (tmp_path / "feed_app.py").write_text(FEED_APP)
    out, err = tmp_path / "access.log", tmp_path / "error.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "WEB_"))}
    command = [
        sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", "127.0.0.1:0",
        "--workers", "1", "--no-control-socket", "--pythonpath", str(tmp_path), "feed_app:app",
    ]  # fmt: skip
    with out.open("w") as stdout, err.open("w") as stderr:
        server = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=stdout, stderr=stderr
        )
    try:
        deadline = time.monotonic() + 30
        while not (match := re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", err.read_text())):
            assert server.poll() is None and time.monotonic() < deadline, err.read_text()
            time.sleep(0.1)
        base = match.group(1)
        secret = "s3cret-feed-token-of-a-real-person-"
        assert _get(f"{base}/calendar/feed/{secret}good.ics") == 200
        assert _get(f"{base}/calendar/feed/{secret}wrong.ics") == 404
        assert _get(f"{base}/calendar/feed/{secret}boom.ics") == 500
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    access, errors = out.read_text(), err.read_text()
    assert access.count('"GET /calendar/feed/[redacted] HTTP/1.1"') == 3, access
    assert re.search(r"Error handling request .*/calendar/feed/\[redacted\]\n", errors), errors
    assert "RuntimeError: could not serve /calendar/feed/[redacted]" in errors, errors
    assert secret not in access + errors
