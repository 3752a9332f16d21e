"""CalDAV sync against a real server (Radicale, started by `tests/radicale_server.py`), driven
on the other side by the `caldav` client library as a person's own calendar program would."""

import base64
import datetime
import logging

import icalendar
import pytest
import vobject
from django.utils import timezone

from calendar_app import crypto
from calendar_app.caldav_client import CalDavError
from calendar_app.caldav_sync import (
    account_calendars_choose,
    account_connect,
    account_disconnect,
    account_sync,
    account_test,
)
from calendar_app.models import (
    Attendee,
    BusyTime,
    CalDavAccount,
    CalDavStatus,
    EventStatus,
    PushedEvent,
    Rsvp,
)
from calendar_app.services import ConflictError, event_cancel, event_create, event_update
from crm.meeting_scheduling import meeting_schedule
from crm.models import Interaction
from tests.calendar_app.factories import AttendeeFactory, EventFactory
from tests.coop.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

HOUR = datetime.timedelta(hours=1)


def _soon(days: int = 3, hour: int = 10) -> datetime.datetime:
    day = timezone.now().astimezone(datetime.UTC).date() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


def _connect(user, caldav_user):
    return account_connect(
        user=user,
        server_url=caldav_user.url,
        username=caldav_user.username,
        password=caldav_user.password,
    )


def _remote_calendar(caldav_user):
    return caldav_user.client().principal().calendars()[0]


def _remote_events(caldav_user) -> dict[str, icalendar.Event]:
    calendar = _remote_calendar(caldav_user)
    found = {}
    for obj in calendar.events():
        component = next(iter(icalendar.Calendar.from_ical(obj.data).walk("VEVENT")))
        found[str(component["uid"])] = component
    return found


def _edit_remote(caldav_user, uid: str, **changes) -> None:
    """Edit an event on the server side, as the person's calendar program would."""
    obj = _remote_calendar(caldav_user).event_by_uid(uid)
    calendar = icalendar.Calendar.from_ical(obj.data)
    component = next(iter(calendar.walk("VEVENT")))
    for name, value in changes.items():
        component.pop(name, None)
        component.add(name, value)
    obj.data = calendar.to_ical().decode()
    obj.save()


def _server_moves(account, old: str, new: str) -> None:
    """The account's server (and its calendars) now at `new`: a port nothing listens on."""
    CalDavAccount.objects.filter(pk=account.pk).update(server_url=new)
    for calendar in account.calendars.all():
        calendar.url = calendar.url.replace(old, new)
        calendar.save(update_fields=["url"])


def test_connect_discovers_calendars_and_stores_the_password_encrypted(rep, caldav_user):
    account = _connect(rep, caldav_user)

    account.refresh_from_db()
    assert account.status == CalDavStatus.ACTIVE
    assert caldav_user.password not in account.password_encrypted
    assert crypto.decrypt(account.password_encrypted) == caldav_user.password
    calendars = list(account.calendars.all())
    assert [c.name for c in calendars] == ["Work"]
    assert calendars[0].receives_meetings and calendars[0].counts_as_busy


def test_connect_to_an_unreachable_server_stores_nothing(rep):
    with pytest.raises(Exception):  # noqa: B017 (the network error itself, any kind)
        account_connect(
            user=rep, server_url="http://127.0.0.1:9/", username="someone", password="secret"
        )
    assert not CalDavAccount.objects.exists()


def test_disconnect_removes_credentials_and_pulled_data(rep, caldav_user):
    account = _connect(rep, caldav_user)
    account_disconnect(user=rep)
    assert not CalDavAccount.objects.filter(pk=account.pk).exists()
    assert not BusyTime.objects.exists()


def test_a_meeting_is_created_updated_and_deleted_on_the_chosen_calendar(rep, caldav_user):
    _connect(rep, caldav_user)
    event = event_create(
        organizer=rep, title="Kick-off", start_time=_soon(), end_time=_soon() + HOUR
    )
    uid = f"{event.pk}@coop-crm"

    remote = _remote_events(caldav_user)[uid]
    assert str(remote["summary"]) == "Kick-off" and int(remote["sequence"]) == 0

    event_update(
        actor=rep,
        event=event,
        title="Kick-off, room 2",
        start_time=_soon(),
        end_time=_soon() + HOUR,
    )
    remote = _remote_events(caldav_user)[uid]
    assert str(remote["summary"]) == "Kick-off, room 2" and int(remote["sequence"]) == 1

    event_cancel(actor=rep, event=event)
    assert uid not in _remote_events(caldav_user)
    assert not PushedEvent.objects.exists()


def test_a_concurrent_external_edit_is_detected_not_overwritten(rep, caldav_user):
    _connect(rep, caldav_user)
    event = event_create(organizer=rep, title="Review", start_time=_soon(), end_time=_soon() + HOUR)
    uid = f"{event.pk}@coop-crm"
    # Moved on the person's calendar; the CRM has not synced yet and then renames it.
    moved = _soon(hour=15)
    _edit_remote(caldav_user, uid, dtstart=moved, dtend=moved + HOUR)

    event_update(
        actor=rep, event=event, title="Review (v2)", start_time=_soon(), end_time=_soon() + HOUR
    )

    event.refresh_from_db()
    # The 412 made the push apply the external move first (it reached the CRM last).
    assert event.start_time == moved
    remote = _remote_events(caldav_user)[uid]
    assert str(remote["summary"]) == "Review (v2)"
    assert remote.decoded("dtstart") == moved
    assert int(remote["sequence"]) == event.sequence


def test_an_external_move_reaches_the_crm_timeline(rep, contact, caldav_user):
    _connect(rep, caldav_user)
    interaction = meeting_schedule(
        organizer=rep,
        contact=contact,
        title="Solar roof visit",
        start_time=_soon(),
        end_time=_soon() + HOUR,
    )
    event = interaction.calendar_event
    moved = _soon(days=4, hour=14)
    _edit_remote(caldav_user, f"{event.pk}@coop-crm", dtstart=moved, dtend=moved + HOUR)

    account_sync(account_id=str(rep.caldav_account.pk))

    interaction = Interaction.objects.get(pk=interaction.pk)
    assert interaction.timestamp == moved
    event.refresh_from_db()
    assert (event.start_time, event.sequence) == (moved, 1)
    # The CRM's new SEQUENCE went back to the calendar, and nothing else changed there.
    remote = _remote_events(caldav_user)[f"{event.pk}@coop-crm"]
    assert int(remote["sequence"]) == 1 and remote.decoded("dtstart") == moved


def test_an_external_cancellation_cancels_the_meeting(rep, contact, caldav_user):
    _connect(rep, caldav_user)
    interaction = meeting_schedule(
        organizer=rep, contact=contact, title="Call", start_time=_soon(), end_time=_soon() + HOUR
    )
    _remote_calendar(caldav_user).event_by_uid(f"{interaction.calendar_event_id}@coop-crm").delete()

    account_sync(account_id=str(rep.caldav_account.pk))

    interaction = Interaction.objects.select_related("calendar_event").get(pk=interaction.pk)
    assert interaction.calendar_event.status == EventStatus.CANCELLED


def test_an_external_busy_time_is_in_the_conflict_warning(rep, contact, caldav_user):
    _connect(rep, caldav_user)
    _remote_calendar(caldav_user).add_event(
        dtstart=_soon(), dtend=_soon() + HOUR, summary="Dentist", uid="dentist-1"
    )
    account_sync(account_id=str(rep.caldav_account.pk))

    with pytest.raises(ConflictError) as raised:
        meeting_schedule(
            organizer=rep,
            contact=contact,
            title="Visit",
            start_time=_soon() + HOUR / 2,
            end_time=_soon() + 2 * HOUR,
        )
    assert [busy.title for busy in raised.value.conflicts] == ["Dentist"]


def test_busy_times_follow_changes_incrementally(rep, caldav_user):
    account = _connect(rep, caldav_user)
    calendar = _remote_calendar(caldav_user)
    calendar.add_event(dtstart=_soon(), dtend=_soon() + HOUR, summary="Gym", uid="gym")
    weekly = calendar.add_event(
        dtstart=_soon(hour=8), dtend=_soon(hour=9), summary="Stand-up", uid="standup"
    )
    weekly.icalendar_component.add("rrule", {"freq": "weekly", "count": 3})
    weekly.save()
    account_sync(account_id=str(account.pk))
    assert BusyTime.objects.filter(user=rep).count() == 1 + 3
    token = account.calendars.get().sync_token
    assert token and not token.startswith("fake-")  # Radicale offers RFC 6578

    calendar.event_by_uid("gym").delete()
    account_sync(account_id=str(account.pk))
    assert sorted(BusyTime.objects.values_list("summary", flat=True)) == ["Stand-up"] * 3


def test_a_calendar_that_stops_counting_as_busy_drops_its_times(rep, caldav_user):
    account = _connect(rep, caldav_user)
    _remote_calendar(caldav_user).add_event(dtstart=_soon(), dtend=_soon() + HOUR, summary="Gym")
    account_sync(account_id=str(account.pk))
    receiver = account.calendars.get()

    account_calendars_choose(user=rep, receiving=receiver.pk, busy=[])

    assert not BusyTime.objects.exists()


def test_an_attendee_reply_on_their_calendar_updates_the_rsvp(rep, caldav_user):
    organizer = UserFactory()
    event = EventFactory(organizer=organizer, start_time=_soon(), end_time=_soon() + HOUR)
    attendance = AttendeeFactory(event=event, user=rep)
    _connect(rep, caldav_user)  # the first sync pushes the meeting rep attends
    uid = f"{event.pk}@coop-crm"
    obj = _remote_calendar(caldav_user).event_by_uid(uid)
    calendar = icalendar.Calendar.from_ical(obj.data)
    address = next(iter(calendar.walk("VEVENT")))["attendee"]  # rep is the only attendee
    assert str(address).lower() == f"mailto:{rep.email}"
    address.params["PARTSTAT"] = "ACCEPTED"
    obj.data = calendar.to_ical().decode()
    obj.save()

    account_sync(account_id=str(rep.caldav_account.pk))

    assert Attendee.objects.get(pk=attendance.pk).rsvp == Rsvp.ACCEPTED


def test_failures_are_shown_and_stop_the_account_until_fixed(rep, caldav_user, settings):
    settings.CALDAV_MAX_FAILURES = 2
    account = _connect(rep, caldav_user)
    _server_moves(account, caldav_user.url, "http://127.0.0.1:9/")

    for _ in range(2):
        with pytest.raises(OSError):
            account_sync(account_id=str(account.pk))
    account.refresh_from_db()
    assert account.status == CalDavStatus.STOPPED and account.failure_count == 2
    assert "could not be reached" in account.last_error
    assert account_sync(account_id=str(account.pk)) == 0  # stopped: not even tried

    _server_moves(account, "http://127.0.0.1:9/", caldav_user.url)
    account_test(user=rep)
    account.refresh_from_db()
    assert (account.status, account.failure_count, account.last_error) == (
        CalDavStatus.ACTIVE,
        0,
        "",
    )


def test_a_wrong_test_connection_says_why(rep, caldav_user):
    account = _connect(rep, caldav_user)
    _server_moves(account, caldav_user.url, "http://127.0.0.1:9/")
    with pytest.raises(CalDavError, match="could not be reached"):
        account_test(user=rep)


def test_what_we_push_is_valid_rfc_5545_for_another_parser(rep, contact, caldav_user):
    _connect(rep, caldav_user)
    interaction = meeting_schedule(
        organizer=rep,
        contact=contact,
        title="Offer; review, part 2",
        start_time=_soon(),
        end_time=_soon() + HOUR,
        location="Room 1, 2nd floor",
        description="Line one\nLine two",
    )
    obj = _remote_calendar(caldav_user).event_by_uid(f"{interaction.calendar_event_id}@coop-crm")

    parsed = vobject.readOne(obj.data, validate=True)
    vevent = parsed.vevent
    assert vevent.uid.value == f"{interaction.calendar_event_id}@coop-crm"
    assert vevent.summary.value == "Offer; review, part 2"
    assert vevent.location.value == "Room 1, 2nd floor"
    assert vevent.description.value == "Line one\nLine two"
    assert vevent.dtstart.value == _soon()
    assert not hasattr(parsed, "method")  # a stored object, not an iTIP message (RFC 4791)
    assert {a.params["SCHEDULE-AGENT"][0] for a in vevent.attendee_list} == {"CLIENT"}


def test_a_crm_cancellation_wins_over_an_external_move(rep, caldav_user):
    _connect(rep, caldav_user)
    event = event_create(organizer=rep, title="Lunch", start_time=_soon(), end_time=_soon() + HOUR)
    uid = f"{event.pk}@coop-crm"
    moved = _soon(hour=13)
    _edit_remote(caldav_user, uid, dtstart=moved, dtend=moved + HOUR)

    event_cancel(actor=rep, event=event)

    assert uid not in _remote_events(caldav_user)
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED


def test_an_external_title_edit_gives_way_to_the_next_crm_change(rep, caldav_user):
    account = _connect(rep, caldav_user)
    event = event_create(organizer=rep, title="Audit", start_time=_soon(), end_time=_soon() + HOUR)
    uid = f"{event.pk}@coop-crm"
    _edit_remote(caldav_user, uid, summary="My own note")

    account_sync(account_id=str(account.pk))
    event.refresh_from_db()
    assert (event.title, event.sequence) == ("Audit", 0)  # the title belongs to the CRM

    event_update(
        actor=rep, event=event, title="Audit", start_time=_soon(hour=11), end_time=_soon(hour=12)
    )
    remote = _remote_events(caldav_user)[uid]
    assert str(remote["summary"]) == "Audit" and remote.decoded("dtstart") == _soon(hour=11)


def test_a_sync_of_an_unchanged_account_changes_nothing(rep, caldav_user):
    account = _connect(rep, caldav_user)
    event_create(organizer=rep, title="Stable", start_time=_soon(), end_time=_soon() + HOUR)
    account_sync(account_id=str(account.pk))
    etags = list(PushedEvent.objects.values_list("etag", flat=True))

    assert account_sync(account_id=str(account.pk)) == 0
    assert list(PushedEvent.objects.values_list("etag", flat=True)) == etags


def test_the_password_is_in_no_log_line_even_at_debug_level(rep, caldav_user, caplog):
    caplog.set_level(logging.DEBUG)
    password = "Unmistakable-App-Password-42"
    account = account_connect(
        user=rep, server_url=caldav_user.url, username=caldav_user.username, password=password
    )
    event_create(organizer=rep, title="Quiet", start_time=_soon(), end_time=_soon() + HOUR)
    account_sync(account_id=str(account.pk))

    assert caplog.records, "the debug logs were captured"
    basic = base64.b64encode(f"{caldav_user.username}:{password}".encode()).decode()
    assert not [r for r in caplog.records if password in r.getMessage() or basic in r.getMessage()]


def test_all_day_events_are_busy_all_day_and_free_time_is_not(rep, caldav_user):
    account = _connect(rep, caldav_user)
    calendar = _remote_calendar(caldav_user)
    day = _soon().date()
    calendar.add_event(dtstart=day, dtend=day + datetime.timedelta(days=1), summary="Holiday")
    calendar.add_event(
        dtstart=_soon(hour=15), dtend=_soon(hour=16), summary="Maybe", transp="TRANSPARENT"
    )
    calendar.add_event(
        dtstart=_soon(hour=17), dtend=_soon(hour=18), summary="Off", status="CANCELLED"
    )

    account_sync(account_id=str(account.pk))

    (busy,) = BusyTime.objects.filter(user=rep)
    assert busy.summary == "Holiday"
    midnight = datetime.datetime.combine(day, datetime.time(), tzinfo=rep.zone)
    assert (busy.start_time, busy.end_time) == (midnight, midnight + datetime.timedelta(days=1))


def test_a_copy_deleted_over_there_before_a_crm_edit_cancels_the_meeting(rep, caldav_user):
    _connect(rep, caldav_user)
    event = event_create(organizer=rep, title="Visit", start_time=_soon(), end_time=_soon() + HOUR)
    uid = f"{event.pk}@coop-crm"
    _remote_calendar(caldav_user).event_by_uid(uid).delete()

    event_update(
        actor=rep, event=event, title="Visit (2)", start_time=_soon(), end_time=_soon() + HOUR
    )

    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED  # a cancellation wins over any change
    assert uid not in _remote_events(caldav_user)
