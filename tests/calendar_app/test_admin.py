import datetime

import pytest
from django.contrib import admin
from django.utils import timezone

from calendar_app.models import Attendee, CalendarPreference, Event, Notification, Reminder
from calendar_app.services import event_create, feed_token_regenerate
from crm.meeting_scheduling import contact_guest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [Event, Attendee, Reminder, Notification, CalendarPreference])
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


@pytest.mark.parametrize("name", ["event", "attendee", "reminder", "notification"])
def test_admin_changelists_search(client, staff_user, meeting, name):
    client.force_login(staff_user)
    url = f"/admin/calendar_app/{name}/"
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "Admin visible"}).status_code == 200


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
