import datetime
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.utils import timezone

from calendar_app import crypto
from calendar_app.models import (
    Attendee,
    CalDavAccount,
    CalDavStatus,
    CalendarPreference,
    Event,
    EventStatus,
    Notification,
    Reminder,
    ReminderKind,
    RemoteCalendar,
    Rsvp,
)
from calendar_app.services import event_create, feed_token_regenerate
from coop.models import AuditAction, AuditEvent
from coop.page_cache import generation_replace
from crm.meeting_scheduling import contact_guest
from tests.calendar_app.factories import (
    AttendeeFactory,
    CalDavAccountFactory,
    EventFactory,
    RemoteCalendarFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model", [Event, Attendee, Reminder, Notification, CalendarPreference, CalDavAccount]
)
def test_calendar_models_are_in_the_admin_with_search_and_filters(model):
    model_admin = admin.site._registry[model]
    assert model_admin.search_fields
    assert model_admin.list_filter


@pytest.fixture
def meeting(rep, contact):
    start = timezone.now() + datetime.timedelta(days=1)
    return event_create(
        organizer=rep,
        title="Admin visible",
        start_time=start,
        end_time=start + datetime.timedelta(hours=1),
        guests=[contact_guest(contact)],
    )


@pytest.fixture
def calendar_rows(team, rep, outsider):
    """Calendar rows of `rep` that match the searches and filters below ("Solar", confirmed,
    this week, accepted, unsent, unread, 30 minutes) and of `outsider` that match none."""
    now = timezone.now()
    old = now - datetime.timedelta(days=400)
    solar = EventFactory(organizer=rep, title="Solar visit", start_time=now)
    wind = EventFactory(
        organizer=outsider, title="Wind check", start_time=old, status=EventStatus.CANCELLED
    )
    return SimpleNamespace(
        now=now,
        events=(solar, wind),
        attendees=(
            AttendeeFactory(
                event=solar, guest_name="Sam Sun", guest_email="sam@sun.example", rsvp=Rsvp.ACCEPTED
            ),
            AttendeeFactory(event=wind, user=outsider),
        ),
        reminders=(
            Reminder.objects.create(event=solar, user=rep, kind=ReminderKind.BEFORE, due_at=now),
            Reminder.objects.create(
                event=wind, user=outsider, kind=ReminderKind.FOLLOW_UP, due_at=old, sent_at=old
            ),
        ),
        notifications=(
            Notification.objects.create(user=rep, event=solar, title="Solar visit moved"),
            Notification.objects.create(
                user=outsider, event=wind, title="Wind check cancelled", read_at=old
            ),
        ),
        preferences=(
            CalendarPreference.objects.create(user=rep, reminder_minutes=30),
            CalendarPreference.objects.create(user=outsider, reminder_minutes=60),
        ),
    )


def _cases(rows) -> dict:
    """Per model: (query parameters, the rows the changelist must show) for its search and
    each of its list filters."""
    (event, _), (attendee, _), (reminder, _), (notification, _), (preference, _) = (
        rows.events,
        rows.attendees,
        rows.reminders,
        rows.notifications,
        rows.preferences,
    )
    return {
        Event: [
            ({"q": "solar"}, [event]),
            ({"status__exact": "confirmed"}, [event]),
            (
                {
                    "start_time__gte": str(rows.now - datetime.timedelta(days=7)),
                    "start_time__lt": str(rows.now + datetime.timedelta(days=1)),
                },
                [event],
            ),
        ],
        Attendee: [
            ({"q": "solar"}, [attendee]),
            ({"q": "sam@sun"}, [attendee]),
            ({"rsvp__exact": "accepted"}, [attendee]),
        ],
        Reminder: [
            ({"q": "solar"}, [reminder]),
            ({"kind__exact": "before"}, [reminder]),
            ({"sent_at__isempty": "1"}, [reminder]),
        ],
        Notification: [
            ({"q": "solar"}, [notification]),
            ({"read_at__isempty": "1"}, [notification]),
        ],
        CalendarPreference: [
            ({"q": "rep"}, [preference]),
            ({"reminder_minutes": "30"}, [preference]),
        ],
    }


@pytest.mark.parametrize("model", [Event, Attendee, Reminder, Notification, CalendarPreference])
def test_calendar_changelists_show_only_what_the_search_and_each_filter_match(
    admin_list, calendar_rows, model
):
    admin_list(model, _cases(calendar_rows)[model])


def test_admin_event_page_shows_attendees_and_reminders_inline(client, staff_user, meeting):
    client.force_login(staff_user)
    page = client.get(f"/admin/calendar_app/event/{meeting.pk}/change/").text
    assert "Olga Ortiz" in page
    assert "Follow-up after the meeting" in page


def test_the_feed_token_and_its_hash_are_not_shown_in_the_admin(client, staff_user, rep):
    client.force_login(staff_user)
    token = feed_token_regenerate(user=rep)
    page = client.get(f"/admin/calendar_app/calendarpreference/{rep.pk}/change/").text
    assert token not in page
    assert CalendarPreference.objects.get(user=rep).feed_token_hash not in page


def _failing_account(user, **fields):
    account = CalDavAccountFactory(
        user=user,
        server_url="http://127.0.0.1:9/",
        password_encrypted=crypto.encrypt("app-pw-never-shown"),
        **fields,
    )
    RemoteCalendarFactory(account=account, url="http://127.0.0.1:9/me/cal/", name="Work")
    return account


def test_the_caldav_admin_shows_status_and_error_never_the_password(client, staff_user, rep):
    account = _failing_account(
        rep, status=CalDavStatus.STOPPED, failure_count=5, last_error="The server failed (503)."
    )
    client.force_login(staff_user)

    listing = client.get("/admin/calendar_app/caldavaccount/?status__exact=stopped").text
    page = client.get(f"/admin/calendar_app/caldavaccount/{account.pk}/change/").text

    for html in (listing, page):
        assert "The server failed (503)." in html and "Stopped after repeated failures" in html
        assert "app-pw-never-shown" not in html and account.password_encrypted not in html
    assert "Work" in page  # its calendars, read-only
    assert client.get("/admin/calendar_app/caldavaccount/add/").status_code == 403


def test_reset_failures_makes_a_stopped_account_sync_again_and_is_audited(
    client, staff_user, rep, django_capture_on_commit_callbacks
):
    account = _failing_account(rep, status=CalDavStatus.STOPPED, failure_count=5, last_error="x")
    client.force_login(staff_user)

    with django_capture_on_commit_callbacks() as queued:  # its sync, not run here
        response = client.post(
            "/admin/calendar_app/caldavaccount/",
            {"action": "reset_failures", "_selected_action": [str(account.pk)]},
            follow=True,
        )

    assert "1 account(s) reset" in response.text
    account.refresh_from_db()
    assert (account.status, account.failure_count, account.last_error) == ("active", 0, "")
    syncs = [callback for callback in queued if callback is not generation_replace]
    assert account.next_sync_at <= timezone.now() and len(syncs) == 1
    event = AuditEvent.objects.get(action=AuditAction.ADMIN_CHANGED, object_id=str(account.pk))
    assert "app-pw-never-shown" not in str(event.detail)
    assert crypto.decrypt(account.password_encrypted) == "app-pw-never-shown"  # kept


def test_deleting_an_account_in_the_admin_disconnects_it(client, staff_user, rep):
    account = _failing_account(rep)
    client.force_login(staff_user)

    client.post(f"/admin/calendar_app/caldavaccount/{account.pk}/delete/", {"post": "yes"})

    assert not CalDavAccount.objects.filter(pk=account.pk).exists()
    assert not RemoteCalendar.objects.filter(account_id=account.pk).exists()
