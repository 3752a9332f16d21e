"""Login hardening: throttling against password guessing and session rotation on login."""

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from tests.coop.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _login(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


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
