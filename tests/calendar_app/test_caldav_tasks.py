"""The periodic sync: cron claims each due account once; the task retries network errors
with back-off and stops an account after CALDAV_MAX_FAILURES until it is fixed."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from calendar_app.models import CalDavAccount, CalDavStatus
from calendar_app.tasks import sync_caldav_account
from tests.calendar_app.factories import CalDavAccountFactory, RemoteCalendarFactory

pytestmark = pytest.mark.django_db


def _unreachable_account(**fields):
    account = CalDavAccountFactory(server_url="http://127.0.0.1:9/", **fields)
    RemoteCalendarFactory(account=account, url="http://127.0.0.1:9/me/cal/")
    return account


def test_cron_claims_each_due_account_once(settings):
    settings.CALDAV_SYNC_INTERVAL_MINUTES = 10
    due = _unreachable_account(next_sync_at=timezone.now() - datetime.timedelta(minutes=1))
    CalDavAccountFactory(next_sync_at=timezone.now() + datetime.timedelta(minutes=5))
    _unreachable_account(status=CalDavStatus.STOPPED, next_sync_at=None)

    out = StringIO()
    call_command("sync_calendars", "--quiet", stdout=out, stderr=StringIO())
    assert "1 calendar account synced." in out.getvalue()
    due.refresh_from_db()
    assert due.next_sync_at > timezone.now() + datetime.timedelta(minutes=9)
    assert due.status == CalDavStatus.FAILING and due.failure_count == 1

    out = StringIO()
    call_command("sync_calendars", "--quiet", stdout=out)
    assert out.getvalue() == ""  # nothing due any more: a second cron host queues nothing


def test_network_errors_are_retried_then_the_account_stops(settings):
    settings.CALDAV_MAX_FAILURES = 3
    account = _unreachable_account()

    # The immediate backend runs each retry at once; the retry after the third failure
    # finds the account stopped and leaves it alone.
    sync_caldav_account.call(str(account.pk))

    account.refresh_from_db()
    assert account.status == CalDavStatus.STOPPED and account.failure_count == 3
    assert "could not be reached" in account.last_error
    assert CalDavAccount.objects.get(pk=account.pk).password_encrypted  # kept, to be fixed
