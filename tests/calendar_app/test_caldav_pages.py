"""The Calendar sync page: connect, choose calendars, test, disconnect (against Radicale)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from calendar_app.models import CalDavAccount, CalDavStatus
from calendar_app.services import ConflictError, event_move
from tests.calendar_app.factories import BusyTimeFactory, EventFactory

pytestmark = pytest.mark.django_db(transaction=True)

URL = reverse("calendar_app:caldav")


def _connect(client, caldav_user, **overrides):
    data = {
        "server_url": caldav_user.url,
        "username": caldav_user.username,
        "password": caldav_user.password,
        **overrides,
    }
    return client.post(URL, data)


def test_connecting_shows_the_status_and_never_the_password(rep_client, rep, caldav_user):
    response = _connect(rep_client, caldav_user, password="s3cret-app-pw")
    assert response.status_code == 302

    page = rep_client.get(URL).content.decode()
    assert "Connected" in page and caldav_user.username in page and "Work" in page
    assert "s3cret-app-pw" not in page
    assert "s3cret-app-pw" not in CalDavAccount.objects.get(user=rep).password_encrypted


def test_a_server_that_cannot_be_reached_is_explained_and_nothing_stored(rep_client):
    response = rep_client.post(
        URL, {"server_url": "http://127.0.0.1:9/", "username": "me", "password": "pw"}
    )
    assert response.status_code == 400
    assert "could not be reached" in response.content.decode()
    assert not CalDavAccount.objects.exists()


def test_a_private_address_is_refused_in_production(rep_client, settings):
    settings.CALDAV_ALLOW_PRIVATE_ADDRESSES = False
    response = rep_client.post(
        URL, {"server_url": "http://127.0.0.1:5432/", "username": "me", "password": "pw"}
    )
    assert response.status_code == 400
    assert "private network" in response.content.decode()


def test_choosing_calendars_and_testing_and_disconnecting(rep_client, rep, caldav_user):
    _connect(rep_client, caldav_user)
    account = CalDavAccount.objects.get(user=rep)
    calendar = account.calendars.get()

    response = rep_client.post(
        reverse("calendar_app:caldav_calendars"), {"receiving": "", "busy": [str(calendar.pk)]}
    )
    assert response.status_code == 302
    calendar.refresh_from_db()
    assert not calendar.receives_meetings and calendar.counts_as_busy

    response = rep_client.post(reverse("calendar_app:caldav_test"), follow=True)
    assert "The connection works." in response.content.decode()

    rep_client.post(reverse("calendar_app:caldav_disconnect"))
    assert not CalDavAccount.objects.exists()
    assert "Connect your calendar" in rep_client.get(URL).content.decode()


def test_an_account_in_error_shows_why(rep_client, rep, caldav_user):
    _connect(rep_client, caldav_user)
    CalDavAccount.objects.filter(user=rep).update(
        status=CalDavStatus.STOPPED, failure_count=5, last_error="The server refused the user name."
    )
    page = rep_client.get(URL).content.decode()
    assert "Stopped after repeated failures" in page and "The server refused" in page


def test_the_week_view_shows_busy_times_titled_for_their_owner_only(
    rep_client, rep, manager, client
):
    busy = BusyTimeFactory(calendar__account__user=rep, summary="Dentist")
    day = timezone.localtime(busy.start_time, rep.zone).date()
    url = f"{reverse('crm:calendar')}?view=week&date={day:%Y-%m-%d}"

    own = rep_client.get(url).content.decode()
    assert "cal-external" in own and "Dentist" in own

    client.force_login(manager)
    theirs = client.get(f"{url}&who={rep.pk}").content.decode()
    assert "cal-external" in theirs and "Dentist" not in theirs


def test_staff_moving_a_meeting_over_a_busy_time_see_busy_not_its_title(rep, staff_user):
    busy = BusyTimeFactory(calendar__account__user=rep, summary="Dentist")
    meeting = EventFactory(organizer=rep, start_time=busy.start_time - datetime.timedelta(days=1))

    with pytest.raises(ConflictError) as raised:
        event_move(actor=staff_user, event=meeting, start_time=busy.start_time)
    assert [item.title for item in raised.value.conflicts] == ["Busy"]

    with pytest.raises(ConflictError) as raised:
        event_move(actor=rep, event=meeting, start_time=busy.start_time)
    assert [item.title for item in raised.value.conflicts] == ["Dentist"]
