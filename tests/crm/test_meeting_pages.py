import datetime
import json
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from calendar_app.models import Event, EventStatus
from crm.meeting_scheduling import meeting_schedule
from crm.models import Interaction
from tests.calendar_app.factories import BusyTimeFactory
from tests.crm.factories import DealFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PARIS = ZoneInfo("Europe/Paris")


def _day(days=3):
    return timezone.localdate() + datetime.timedelta(days=days)


def _post(client, contact, *, start="10:00", end="11:00", day=None, **extra):
    day = day or _day()
    data = {
        "title": "Roof survey",
        "start_time": f"{day.isoformat()}T{start}",
        "end_time": f"{day.isoformat()}T{end}",
        "location": "On site",
        "description": "",
        **extra,
    }
    return client.post(reverse("crm:meeting_new", args=[contact.pk]), data, **HTMX)


def test_the_contact_page_has_a_schedule_meeting_button_opening_the_dialog(rep_client, contact):
    page = rep_client.get(reverse("crm:contact_detail", args=[contact.pk])).text
    url = reverse("crm:meeting_new", args=[contact.pk])
    assert f'hx-get="{url}" hx-target="#meeting-dialog-body" hx-swap="innerHTML">Schedule' in page
    assert 'id="meeting-dialog"' in page
    dialog = rep_client.get(url, **HTMX)
    assert dialog.status_code == 200
    assert "<html" not in dialog.text
    for label in ["Title", "Start", "End", "Location", "Description", "Email an invitation"]:
        assert label in dialog.text


def test_scheduling_closes_the_dialog_and_refreshes_the_timeline(rep_client, rep, contact):
    response = _post(rep_client, contact)
    assert response.status_code == 200
    assert response["HX-Reswap"] == "none"
    trigger = json.loads(response["HX-Trigger"])
    assert "Roof survey" in trigger["meetingScheduled"]["message"]
    interaction = Interaction.objects.get(contact=contact)
    assert interaction.calendar_event.organizer == rep
    timeline = rep_client.get(reverse("crm:contact_timeline", args=[contact.pk]), **HTMX).text
    upcoming = timeline.split('id="upcoming-heading"')[1]
    assert "Roof survey" in upcoming


def test_times_are_entered_in_the_users_zone(rep_client, rep, contact):
    rep.time_zone = "America/New_York"
    rep.save()
    day = _day()
    _post(rep_client, contact, day=day)
    event = Event.objects.get()
    expected = datetime.datetime.combine(day, datetime.time(10), ZoneInfo("America/New_York"))
    assert event.start_time == expected


def test_errors_show_inside_the_dialog_and_nothing_is_written(rep_client, contact):
    response = _post(rep_client, contact, start="11:00", end="10:00", title="")
    assert response.status_code == 200
    assert "The meeting must end after it starts." in response.text
    assert "This field is required." in response.text
    assert "HX-Trigger" not in response
    assert not Event.objects.exists()


def test_a_time_missing_in_a_daylight_saving_gap_is_refused(rep_client, contact):
    response = _post(
        rep_client, contact, day=datetime.date(2027, 3, 28), start="02:30", end="03:30"
    )
    assert "be interpreted in time zone Europe/Paris" in response.text
    assert not Event.objects.exists()


def test_a_conflict_needs_an_explicit_schedule_anyway(rep_client, rep, contact):
    _post(rep_client, contact, title="First")
    response = _post(rep_client, contact, title="Second", start="10:30", end="11:30")
    assert "You already have 1 event at that time" in response.text
    assert "First" in response.text
    assert 'name="schedule_anyway" value="1"' in response.text
    assert Event.objects.count() == 1
    response = _post(
        rep_client, contact, title="Second", start="10:30", end="11:30", schedule_anyway="1"
    )
    assert "meetingScheduled" in response["HX-Trigger"]
    assert Event.objects.count() == 2


def test_a_busy_time_from_the_persons_own_calendar_is_in_the_conflict_warning(
    rep_client, rep, contact
):
    start = datetime.datetime.combine(_day(), datetime.time(10), rep.zone)
    BusyTimeFactory(
        calendar__account__user=rep,
        start_time=start,
        end_time=start + datetime.timedelta(hours=1),
        summary="Dentist",
    )
    response = _post(rep_client, contact, title="Roof survey", start="10:30", end="11:30")
    assert "You already have 1 event at that time" in response.text
    assert "Dentist" in response.text
    assert not Event.objects.exists()


def test_the_invitation_checkbox_emails_the_contact(
    rep_client, contact, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _post(rep_client, contact, invite="on")
    assert [message.to for message in mail.outbox] == [[contact.email]]


def test_someone_elses_contact_is_a_404(client, outsider, contact):
    client.force_login(outsider)
    assert client.get(reverse("crm:meeting_new", args=[contact.pk]), **HTMX).status_code == 404
    assert _post(client, contact).status_code == 404


def test_without_htmx_the_form_is_a_page_and_success_redirects(rep_client, contact):
    page = rep_client.get(reverse("crm:meeting_new", args=[contact.pk]))
    assert "<html" in page.text
    day = _day()
    response = rep_client.post(
        reverse("crm:meeting_new", args=[contact.pk]),
        {
            "title": "Call in person",
            "start_time": f"{day}T09:00",
            "end_time": f"{day}T09:30",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("crm:contact_detail", args=[contact.pk])


def test_a_drop_prefills_the_day_time_and_deal(rep_client, rep, contact, deal):
    url = reverse("crm:meeting_new", args=[contact.pk])
    day = _day(5)
    response = rep_client.get(f"{url}?date={day}&time=14:00&deal={deal.pk}", **HTMX)
    assert f'value="{day}T14:00"' in response.text
    assert f'value="{day}T14:30"' in response.text
    assert "Solar roof: meeting with Olga Ortiz" in response.text
    assert f'name="deal" value="{deal.pk}"' in response.text


def test_a_deal_of_another_contact_is_a_404(rep_client, contact, pipeline, rep):
    other = DealFactory(pipeline=pipeline, owner=rep, contact=None)
    url = reverse("crm:meeting_new", args=[contact.pk])
    assert rep_client.get(f"{url}?deal={other.pk}", **HTMX).status_code == 404
    assert rep_client.get(f"{url}?date=someday", **HTMX).status_code == 404


def _meeting(rep, contact, *, days=2, hour=9):
    start = datetime.datetime.combine(_day(days), datetime.time(hour), PARIS)
    return meeting_schedule(
        organizer=rep,
        contact=contact,
        title="Site visit",
        start_time=start,
        end_time=start + datetime.timedelta(hours=1),
    )


def test_the_timeline_pins_upcoming_meetings_and_marks_cancelled_ones(rep_client, rep, contact):
    upcoming = _meeting(rep, contact)
    cancelled = _meeting(rep, contact, days=4)
    rep_client.post(reverse("crm:meeting_cancel", args=[cancelled.pk]), **HTMX)
    page = rep_client.get(reverse("crm:contact_detail", args=[contact.pk])).text
    pinned, earlier = page.split('id="upcoming-heading"')[1].split("<h3>Earlier</h3>")
    assert f'id="meeting-{upcoming.pk}"' in pinned
    assert f'id="meeting-{cancelled.pk}"' in earlier
    entry = earlier.split(f'id="meeting-{cancelled.pk}"')[0].rsplit("<li", 1)[1]
    assert "cancelled" in entry
    assert "Cancelled</span>" in earlier


def test_editing_from_the_timeline_moves_event_and_entry(rep_client, rep, contact):
    interaction = _meeting(rep, contact)
    day = _day(6)
    response = rep_client.post(
        reverse("crm:meeting_edit", args=[interaction.pk]),
        {
            "title": "Site visit (moved)",
            "start_time": f"{day}T15:00",
            "end_time": f"{day}T16:00",
        },
        **HTMX,
    )
    assert "meetingChanged" in response["HX-Trigger"]
    interaction.refresh_from_db()
    expected = datetime.datetime.combine(day, datetime.time(15), PARIS)
    assert interaction.timestamp == expected
    assert interaction.summary == "Site visit (moved)"
    assert interaction.calendar_event.start_time == expected


def test_the_edit_dialog_shows_the_meeting_in_the_users_zone(rep_client, rep, contact):
    interaction = _meeting(rep, contact, hour=9)
    response = rep_client.get(reverse("crm:meeting_edit", args=[interaction.pk]), **HTMX)
    assert f'value="{_day(2)}T09:00"' in response.text


def test_cancelling_from_the_timeline_cancels_the_event(rep_client, rep, contact):
    interaction = _meeting(rep, contact)
    response = rep_client.post(reverse("crm:meeting_cancel", args=[interaction.pk]), **HTMX)
    assert "meetingChanged" in response["HX-Trigger"]
    interaction.calendar_event.refresh_from_db()
    assert interaction.calendar_event.status == EventStatus.CANCELLED


def test_a_teammate_cannot_cancel_someone_elses_meeting(client, rep, manager, contact):
    interaction = _meeting(rep, contact)
    client.force_login(manager)
    response = client.post(reverse("crm:meeting_cancel", args=[interaction.pk]), **HTMX)
    assert "Only the organizer can change this meeting." in response.text
    interaction.calendar_event.refresh_from_db()
    assert interaction.calendar_event.status == EventStatus.CONFIRMED


def test_the_log_form_does_not_offer_calendar_events(rep_client, contact):
    page = rep_client.get(reverse("crm:contact_detail", args=[contact.pk])).text
    assert 'value="calendar_event"' not in page


def test_a_teammate_gets_an_explanation_instead_of_the_edit_form(client, rep, manager, contact):
    interaction = _meeting(rep, contact)
    client.force_login(manager)
    response = client.get(reverse("crm:meeting_edit", args=[interaction.pk]), **HTMX)
    assert "Only the organizer can change this meeting." in response.text
    assert "<form" not in response.text


def test_a_meeting_title_or_place_on_two_lines_is_refused_by_the_form(rep_client, contact):
    for field in ("title", "location"):
        response = _post(rep_client, contact, **{field: "Roof survey\nBcc: x@example.com"})
        assert response.status_code == 200
        assert "without line breaks, tabs or other control characters" in response.text
    assert not Event.objects.exists()


@pytest.mark.parametrize("query", [{"date": "9999-12-31", "time": "23:59"}, {"date": "0001-01-01"}])
def test_a_prefilled_day_outside_the_supported_years_is_no_date(rep_client, contact, query):
    response = rep_client.get(reverse("crm:meeting_new", args=[contact.pk]), query, **HTMX)
    assert response.status_code == 404


def test_a_meeting_outside_the_supported_years_is_refused_by_the_form(rep_client, contact):
    response = _post(rep_client, contact, day=datetime.date(1, 1, 1))
    assert "Pick a date from the year 1900 to 2999." in response.text
    assert not Event.objects.exists()
