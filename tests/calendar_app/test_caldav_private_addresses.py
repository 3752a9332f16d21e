"""A person cannot make the server call the private network through their CalDAV account,
even with a name that resolves to a public address when the form checks it and to
127.0.0.1 when the sync connects (DNS rebinding): every connection resolves the name again
and connects only to a public address it got."""

import socket
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from calendar_app.caldav_client import CalDavRefused, public_address_refusal
from calendar_app.caldav_sync import account_connect, account_sync
from calendar_app.models import CalDavAccount, CalDavStatus

pytestmark = pytest.mark.django_db(transaction=True)

REBINDING = "calendar.rebind.test"


@pytest.fixture
def rebinding(caldav_user, monkeypatch):
    """The test Radicale under a name whose lookups give `answers` in turn, the last one
    ever after: a public address first and 127.0.0.1 next, as an attacker's DNS server with
    a zero TTL would answer."""
    port = urlsplit(caldav_user.url).port
    answers = ["127.0.0.1"]
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host in (REBINDING, REBINDING.encode()):
            address = answers.pop(0) if len(answers) > 1 else answers[0]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return SimpleNamespace(url=f"http://{REBINDING}:{port}/", answers=answers)


def _connect(user, url, caldav_user):
    return account_connect(
        user=user, server_url=url, username=caldav_user.username, password=caldav_user.password
    )


def test_the_name_reaches_the_test_server_where_private_addresses_are_allowed(
    rep, caldav_user, rebinding, settings
):
    settings.CALDAV_ALLOW_PRIVATE_ADDRESSES = True

    account = _connect(rep, rebinding.url, caldav_user)

    assert [calendar.name for calendar in account.calendars.all()] == ["Work"]


def test_a_name_rebound_to_loopback_after_the_check_is_refused_at_connect_time(
    rep, caldav_user, rebinding, settings
):
    settings.CALDAV_ALLOW_PRIVATE_ADDRESSES = False
    rebinding.answers[:0] = ["93.184.215.14"]
    assert public_address_refusal(rebinding.url) is None  # the form's check: public

    with pytest.raises(CalDavRefused, match="private network"):
        _connect(rep, rebinding.url, caldav_user)

    assert not CalDavAccount.objects.filter(user=rep).exists()


def test_the_connect_page_explains_a_rebound_name_and_stores_nothing(
    rep_client, rep, caldav_user, rebinding, settings
):
    settings.CALDAV_ALLOW_PRIVATE_ADDRESSES = False
    rebinding.answers[:0] = ["93.184.215.14"]  # for the form's check

    response = rep_client.post(
        reverse("calendar_app:caldav"),
        {"server_url": rebinding.url, "username": caldav_user.username, "password": "pw"},
    )

    assert response.status_code == 400
    assert "private network" in response.content.decode()
    assert not CalDavAccount.objects.filter(user=rep).exists()


def test_a_sync_to_a_name_now_on_loopback_stops_with_the_reason_not_retried(
    rep, caldav_user, rebinding, settings
):
    settings.CALDAV_ALLOW_PRIVATE_ADDRESSES = True
    account = _connect(rep, rebinding.url, caldav_user)
    settings.CALDAV_ALLOW_PRIVATE_ADDRESSES = False

    assert account_sync(account_id=str(account.pk)) == 0  # no network error raised to retry

    account.refresh_from_db()
    assert account.status == CalDavStatus.FAILING
    assert "private network" in account.last_error


def test_a_literal_private_address_is_refused_at_connect_time(rep, caldav_user, settings):
    settings.CALDAV_ALLOW_PRIVATE_ADDRESSES = False

    with pytest.raises(CalDavRefused, match="private network"):
        _connect(rep, caldav_user.url, caldav_user)  # http://127.0.0.1:<port>/
