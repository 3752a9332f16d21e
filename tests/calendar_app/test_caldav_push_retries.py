"""Pushing a meeting runs on the task queue with retries: with the person's CalDAV server
down, each attempt counts as a failure, the account stops after CALDAV_MAX_FAILURES and its
settings page says why; once the server is back and the account tested, the next sync
pushes what was missed."""

import datetime
import uuid

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from calendar_app.caldav_sync import account_connect, account_sync, account_test
from calendar_app.models import CalDavStatus, Event, PushedEvent
from calendar_app.services import event_create, event_move
from calendar_app.tasks import push_event
from tests.radicale_server import CalDavUser, _free_port, start_radicale

pytestmark = pytest.mark.django_db(transaction=True)

HOUR = datetime.timedelta(hours=1)


class Radicale:
    """A Radicale of this test's own, which the test can stop and start again on the same
    port and storage (the session's shared server must stay up for the other tests)."""

    def __init__(self, storage):
        self.storage, self.port, self.process = storage, _free_port(), None
        self.url = f"http://127.0.0.1:{self.port}/"

    def start(self) -> None:
        self.process = start_radicale(self.port, self.storage)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def radicale(tmp_path):
    server = Radicale(tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


def _meeting(user):
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + datetime.timedelta(days=2)
    return event_create(organizer=user, title="Board", start_time=start, end_time=start + HOUR)


def _connected(user, radicale):
    caldav_user = CalDavUser(url=radicale.url, username=f"u{uuid.uuid4().hex[:8]}", password="pw")
    caldav_user.make_calendar("Work")
    return account_connect(
        user=user, server_url=caldav_user.url, username=caldav_user.username, password="pw"
    )


def test_a_push_to_a_stopped_server_is_retried_until_the_account_stops(
    rep, rep_client, radicale, settings
):
    settings.CALDAV_MAX_FAILURES = 3
    account = _connected(rep, radicale)
    event = _meeting(rep)  # pushed at once, through the task, on commit
    copy = PushedEvent.objects.get(account=account, event=event)
    radicale.stop()

    # The immediate backend runs each retry at once; after the third failure the account
    # is stopped and the remaining attempts leave it alone.
    event_move(
        actor=rep, event=event, start_time=event.start_time + HOUR, end_time=event.end_time + HOUR
    )

    account.refresh_from_db()
    assert (account.status, account.failure_count) == (CalDavStatus.STOPPED, 3)
    assert "could not be reached" in account.last_error
    assert PushedEvent.objects.get(pk=copy.pk).sequence < Event.objects.get(pk=event.pk).sequence
    page = rep_client.get(reverse("calendar_app:caldav"))
    assert "could not be reached" in page.content.decode()

    radicale.start()
    account_test(user=rep)  # fixed: the account syncs again, and the sync pushes the move
    account_sync(account_id=str(account.pk))
    event.refresh_from_db()
    copy.refresh_from_db()
    assert copy.sequence == event.sequence and copy.start_time == event.start_time


def test_a_refusing_port_raises_for_the_retry_and_counts_each_attempt(rep, radicale):
    account = _connected(rep, radicale)
    event = _meeting(rep)
    Event.objects.filter(pk=event.pk).update(sequence=F("sequence") + 1)  # a push is due
    radicale.stop()  # nothing listens on its port any more: connections are refused

    with pytest.raises(OSError):
        push_event.call(str(event.pk), attempt=5)  # the last attempt raises for good

    account.refresh_from_db()
    assert account.status == CalDavStatus.FAILING and account.failure_count == 1
