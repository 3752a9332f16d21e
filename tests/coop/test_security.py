"""Login hardening: throttling against password guessing (directly and behind the proxy),
session rotation on login, and the idle timeout of sessions."""

import datetime

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coop.client_ip import client_ip
from tests.coop.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


PROXY = "10.0.0.2"


def _login(client: Client, username: str, password: str, address: str = "10.0.0.1", **headers):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        headers=headers,
    )


def _login_via_proxy(client: Client, username: str, password: str, forwarded_for: str):
    """A login through the proxy, which appends the address it was connected from."""
    return _login(client, username, password, address=PROXY, x_forwarded_for=forwarded_for)


def test_repeated_wrong_passwords_lock_out_that_user_from_that_address(rep):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "rep", "wrong guess").status_code == 200
    locked = _login(client, "rep", "wrong guess")
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content
    # Even the right password is refused while the lock-out lasts.
    assert _login(client, "rep", TEST_PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_lock_out_does_not_block_the_same_user_from_another_address(rep):
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(attacker, "rep", "wrong guess", address="203.0.113.9")
    response = _login(Client(), "rep", TEST_PASSWORD, address="10.0.0.7")
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


def test_without_a_proxy_a_forged_forwarded_for_neither_dodges_nor_causes_a_lock_out(rep):
    attacker = Client()
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        # A new made-up client address on every try, and the victim's among them.
        _login(attacker, "rep", "wrong guess", "203.0.113.9", x_forwarded_for=f"10.0.0.{attempt}")
    assert _login(attacker, "rep", TEST_PASSWORD, "203.0.113.9").status_code == 429
    victim = _login(Client(), "rep", TEST_PASSWORD, address="10.0.0.1")
    assert victim.status_code == 302


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_a_lock_out_holds_only_the_client_address_it_forwarded(rep):
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login_via_proxy(attacker, "rep", "wrong guess", "198.51.100.7").status_code == 200
    assert _login_via_proxy(attacker, "rep", "wrong guess", "198.51.100.7").status_code == 429
    assert _login_via_proxy(attacker, "rep", TEST_PASSWORD, "198.51.100.7").status_code == 429
    # The real user, through the same proxy from their own address, still gets in.
    response = _login_via_proxy(Client(), "rep", TEST_PASSWORD, "192.0.2.44")
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_a_forged_forwarded_for_does_not_dodge_the_lock_out(rep):
    attacker = Client()
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        # The client's own header comes first; the proxy appends the real address.
        _login_via_proxy(attacker, "rep", "wrong guess", f"192.0.2.{attempt}, 198.51.100.7")
    forged = _login_via_proxy(attacker, "rep", TEST_PASSWORD, "192.0.2.44, 198.51.100.7")
    assert forged.status_code == 429
    assert _login_via_proxy(Client(), "rep", TEST_PASSWORD, "192.0.2.44").status_code == 302


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded_for", "expected"),
    [
        (0, "203.0.113.9", "192.0.2.1", "203.0.113.9"),
        (1, PROXY, "192.0.2.1, 198.51.100.7", "198.51.100.7"),
        (2, PROXY, "192.0.2.1, 198.51.100.7, 10.0.0.3", "198.51.100.7"),
        # Fewer hops than proxies: the farthest address a proxy saw.
        (2, PROXY, "198.51.100.7", "198.51.100.7"),
        (1, "203.0.113.9", "", "203.0.113.9"),
        # A proxy writing something else than an address: the peer, never the junk.
        (1, PROXY, "unknown", PROXY),
        (1, PROXY, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_is_counted_from_the_right(proxies, peer, forwarded_for, expected):
    request = RequestFactory().get(
        "/", REMOTE_ADDR=peer, headers={"x-forwarded-for": forwarded_for}
    )
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_ip(request) == expected


def test_a_successful_login_resets_the_failure_count(rep):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "rep", "wrong guess")
    assert _login(client, "rep", TEST_PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "rep", "wrong guess").status_code == 200


def test_logging_in_rotates_the_session_key(rep):
    client = Client()
    client.get(reverse("login"))
    client.session.save()
    anonymous_key = client.session.session_key
    assert _login(client, "rep", TEST_PASSWORD).status_code == 302
    assert client.session.session_key != anonymous_key
    assert client.session["_auth_user_id"] == str(rep.pk)


def test_weak_passwords_are_refused_by_the_validators(rep):
    for weak in ["short", "password123", "12345678901", rep.email]:
        with pytest.raises(ValidationError):
            validate_password(weak, rep)


def test_an_over_long_username_is_a_form_error_and_no_login_attempt_row(client, rep):
    from axes.models import AccessAttempt

    response = client.post(reverse("login"), {"username": "x" * 5000, "password": "wrong"})
    assert response.status_code == 200
    assert "Ensure this value has at most 150 characters" in response.text
    assert not AccessAttempt.objects.exists()


class _Clock:
    def __init__(self) -> None:
        self.now = timezone.now()

    def advance(self, seconds: int) -> None:
        self.now += datetime.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    """`timezone.now()`, which the session store expires sessions by, under the test's hand."""
    clock = _Clock()
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


def _session_writes(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("dashboard")).status_code == 200
    return sum('UPDATE "django_session"' in query["sql"] for query in queries)


def test_a_session_idle_for_eight_hours_is_logged_out(client, rep, clock):
    client.force_login(rep)
    assert client.get(reverse("dashboard")).status_code == 200
    clock.advance(8 * 60 * 60 - 1)
    assert client.get(reverse("dashboard")).status_code == 200
    clock.advance(8 * 60 * 60 + 1)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_active_session_outlives_the_idle_timeout(client, rep, clock):
    client.force_login(rep)
    for _ in range(5):
        clock.advance(settings.SESSION_COOKIE_AGE // 2)
        assert client.get(reverse("dashboard")).status_code == 200


def test_an_active_session_is_written_once_per_refresh_interval_not_per_request(client, rep, clock):
    client.force_login(rep)
    refresh = min(300, settings.SESSION_COOKIE_AGE // 10)
    assert _session_writes(client) == 0
    clock.advance(refresh - 1)
    assert _session_writes(client) == 0
    clock.advance(1)
    assert _session_writes(client) == 1
    assert _session_writes(client) == 0
