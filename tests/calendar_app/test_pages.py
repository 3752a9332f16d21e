import datetime
import json
import re
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from calendar_app.grid import MONTH_DAY_ENTRIES
from calendar_app.models import Event, EventStatus, Notification, Rsvp
from calendar_app.services import event_cancel, event_create, feed_token_regenerate
from tests.calendar_app.factories import AttendeeFactory, EventFactory
from tests.crm.factories import InteractionFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PARIS = ZoneInfo("Europe/Paris")
# Europe/Paris leaves winter time on Sunday 28 March 2027 at 02:00 (UTC+1 -> UTC+2).
BEFORE_DST = datetime.date(2027, 3, 27)
AFTER_DST = datetime.date(2027, 3, 28)


def _at(day, hour, minute=0, zone=PARIS):
    return datetime.datetime.combine(day, datetime.time(hour, minute), zone)


def _event(organizer, day, hour, minute=0, *, title="Meeting", minutes=60):
    start = _at(day, hour, minute)
    return event_create(
        organizer=organizer,
        title=title,
        start_time=start,
        end_time=start + datetime.timedelta(minutes=minutes),
        allow_conflicts=True,
    )


def _month(client, day, **params):
    return client.get(reverse("crm:calendar"), {"date": day.isoformat(), **params})


def test_the_month_view_shows_my_events_and_interactions_not_others(
    rep_client, rep, manager, contact
):
    _event(rep, BEFORE_DST, 10, title="Mine")
    _event(manager, BEFORE_DST, 11, title="The manager's")
    InteractionFactory(
        contact=contact, author=rep, summary="Called about panels", timestamp=_at(BEFORE_DST, 15)
    )
    page = _month(rep_client, BEFORE_DST).text
    assert "March 2027" in page
    assert "Mine" in page
    assert "Called about panels" in page
    assert "The manager&#x27;s" not in page


def test_times_show_in_the_viewers_zone_across_a_daylight_saving_change(rep_client, rep):
    before = _event(rep, BEFORE_DST, 10, title="Saturday")
    after = _event(rep, AFTER_DST, 10, title="Sunday")
    assert before.start_time.astimezone(datetime.UTC).hour == 9
    assert after.start_time.astimezone(datetime.UTC).hour == 8
    page = _month(rep_client, BEFORE_DST).text
    assert page.count(">10:00</time> Saturday") == 1
    assert page.count(">10:00</time> Sunday") == 1


def test_the_week_view_places_events_in_their_hour_slot(rep_client, rep):
    event = _event(rep, AFTER_DST, 14, title="Afternoon")
    page = _month(rep_client, AFTER_DST, view="week").text
    slot = page.split(f'data-drop-start="{AFTER_DST}T14:00"')[1].split("</td>")[0]
    assert reverse("calendar_app:event_move", args=[event.pk]) in slot
    assert "Week of 22 March 2027" in page


def test_previous_next_and_today_links_keep_the_view(rep_client):
    page = _month(rep_client, BEFORE_DST, view="week").text
    assert 'href="?date=2027-03-20&amp;view=week" rel="prev"' in page
    assert 'href="?date=2027-04-03&amp;view=week" rel="next"' in page
    assert 'href="?view=week">Today</a>' in page
    month = _month(rep_client, datetime.date(2027, 1, 31)).text
    assert 'href="?date=2026-12-01" rel="prev"' in month
    assert 'href="?date=2027-02-01" rel="next"' in month


def test_a_manager_switches_to_a_teammate_or_the_whole_team(client, manager, rep):
    _event(rep, BEFORE_DST, 10, title="Rep's demo")
    _event(manager, BEFORE_DST, 12, title="Manager's review")
    client.force_login(manager)
    page = _month(client, BEFORE_DST, who=str(rep.pk)).text
    assert "Rep&#x27;s demo" in page
    assert "Manager&#x27;s review" not in page
    team = _month(client, BEFORE_DST, who="team").text
    assert "Rep&#x27;s demo" in team
    assert "Manager&#x27;s review" in team
    assert "The whole team" in team


def test_a_rep_cannot_open_a_teammates_calendar(rep_client, manager):
    response = _month(rep_client, BEFORE_DST, who=str(manager.pk))
    assert response.status_code == 404
    assert "Calendar of" not in _month(rep_client, BEFORE_DST).text


def test_a_manager_sees_but_cannot_drag_a_teammates_event(client, manager, rep):
    event = _event(rep, BEFORE_DST, 10)
    client.force_login(manager)
    page = _month(client, BEFORE_DST, who=str(rep.pk)).text
    assert reverse("calendar_app:event_detail", args=[event.pk]) in page
    assert reverse("calendar_app:event_move", args=[event.pk]) not in page
    response = client.post(
        reverse("calendar_app:event_move", args=[event.pk]), {"date": "2027-03-29"}, **HTMX
    )
    assert "Only the organizer can change this meeting." in response.text


def test_the_side_list_offers_contacts_and_open_deals_to_drag(rep_client, contact, deal):
    page = _month(rep_client, BEFORE_DST).text
    url = reverse("crm:meeting_new", args=[contact.pk])
    assert f'draggable="true" data-schedule-url="{url}"' in page
    assert f'data-schedule-url="{url}?deal={deal.pk}"' in page
    assert "Solar roof" in page


def _cell(page, day):
    """The month view's cell of `day`, up to the next cell."""
    return page.split(f'data-drop-date="{day.isoformat()}"')[1].split("</td>")[0]


def _more_link(cell):
    """The "+N more" link of a cell: its query parameters and its text, tags removed."""
    match = re.search(r'<a class="more-entries" href="\?([^"]*)">(.*?)</a>', cell)
    query = dict(parse_qsl(match.group(1).replace("&amp;", "&")))
    return query, re.sub(r"<[^>]+>", "", match.group(2))


def test_the_month_view_takes_the_same_queries_for_a_few_or_1000_events(
    rep_client, rep, contact, django_assert_max_num_queries
):
    start = _at(datetime.date(2027, 5, 1), 8)
    _event(rep, start.date(), 8, title="Only one")
    InteractionFactory(contact=contact, author=rep, timestamp=start)
    # session, user, visible people, events, interactions, unread count, contacts, deals
    with django_assert_max_num_queries(8) as few:
        _month(rep_client, datetime.date(2027, 5, 10))
    Event.objects.bulk_create(
        Event(
            organizer=rep,
            title=f"Call {n}",
            start_time=start + datetime.timedelta(minutes=40 * n),
            end_time=start + datetime.timedelta(minutes=40 * n + 30),
        )
        for n in range(1000)
    )
    InteractionFactory.create_batch(30, contact=contact, author=rep, timestamp=start)
    with django_assert_max_num_queries(len(few)):
        response = _month(rep_client, datetime.date(2027, 5, 10))
    # 1 May: "Only one", 24 calls from 08:00 every 40 minutes and 31 interactions.
    assert _more_link(_cell(response.text, start.date()))[1] == "+52 more on 1 May"


def test_a_busy_day_shows_its_first_entries_and_links_the_rest_to_its_week(
    client, manager, rep, contact
):
    for hour in (9, 11, 13):
        _event(rep, BEFORE_DST, hour, title=f"Meeting at {hour}")
    for hour in (10, 12, 14):
        InteractionFactory(
            contact=contact, author=rep, summary=f"Call at {hour}", timestamp=_at(BEFORE_DST, hour)
        )
    client.force_login(manager)
    cell = _cell(_month(client, BEFORE_DST, who=str(rep.pk)).text, BEFORE_DST)
    assert cell.count('class="cal-entry') == MONTH_DAY_ENTRIES
    assert "Call at 12" in cell
    assert "Meeting at 13" not in cell
    assert "Call at 14" not in cell
    query, text = _more_link(cell)
    assert text == "+2 more on 27 March"
    assert query == {"date": "2027-03-27", "who": str(rep.pk), "view": "week"}


def test_a_day_at_the_cap_has_no_more_link(rep_client, rep):
    for hour in range(9, 9 + MONTH_DAY_ENTRIES):
        _event(rep, BEFORE_DST, hour, title=f"Meeting at {hour}")
    cell = _cell(_month(rep_client, BEFORE_DST).text, BEFORE_DST)
    assert cell.count('class="cal-entry') == MONTH_DAY_ENTRIES
    assert "more-entries" not in cell


def test_the_cap_counts_by_the_viewers_local_day_across_a_dst_change(rep_client, rep, contact):
    # 28 March 2027 lasts 23 hours in Paris: 00:30 there is 23:30 UTC the day before, and
    # 23:30 there is 21:30 UTC, so UTC days would put these entries on other days.
    _event(rep, AFTER_DST, 0, 30, title="Just after midnight")
    for hour in (10, 12, 14):
        _event(rep, AFTER_DST, hour, title=f"Meeting at {hour}")
    InteractionFactory(
        contact=contact, author=rep, summary="Late call", timestamp=_at(AFTER_DST, 23, 30)
    )
    InteractionFactory(
        contact=contact, author=rep, summary="Saturday night", timestamp=_at(BEFORE_DST, 23, 30)
    )
    page = _month(rep_client, AFTER_DST).text
    sunday = _cell(page, AFTER_DST)
    assert "Just after midnight" in sunday
    assert "Late call" not in sunday
    assert _more_link(sunday)[1] == "+1 more on 28 March"
    saturday = _cell(page, BEFORE_DST)
    assert "Saturday night" in saturday
    assert "more-entries" not in saturday
    week = _month(rep_client, AFTER_DST, view="week").text
    assert "Late call" in week


def test_the_grid_alone_reloads_under_htmx(rep_client, rep):
    _event(rep, BEFORE_DST, 10, title="Reloaded")
    response = rep_client.get(reverse("crm:calendar"), {"date": BEFORE_DST.isoformat()}, **HTMX)
    assert response.text.lstrip().startswith('<div id="calendar-grid"')
    assert 'hx-trigger="meetingScheduled from:body, meetingChanged from:body"' in response.text
    assert "Reloaded" in response.text


def _move(client, event, **data):
    return client.post(reverse("calendar_app:event_move", args=[event.pk]), data, **HTMX)


def test_dropping_on_another_day_keeps_the_wall_clock_time_across_dst(rep_client, rep):
    event = _event(rep, BEFORE_DST, 10, minutes=45)
    response = _move(rep_client, event, date=AFTER_DST.isoformat())
    assert response["HX-Reswap"] == "none"
    assert (
        "moved to Sun 28 Mar, 10:00"
        in json.loads(response["HX-Trigger"])["meetingChanged"]["message"]
    )
    event.refresh_from_db()
    assert event.start_time == _at(AFTER_DST, 10)
    assert event.end_time - event.start_time == datetime.timedelta(minutes=45)


def test_dropping_on_a_week_slot_sets_the_start(rep_client, rep):
    event = _event(rep, BEFORE_DST, 10)
    _move(rep_client, event, start_time=f"{AFTER_DST}T15:00")
    event.refresh_from_db()
    assert event.start_time == _at(AFTER_DST, 15)
    assert event.end_time == _at(AFTER_DST, 16)


def test_a_drop_onto_a_busy_time_warns_and_needs_move_anyway(rep_client, rep):
    _event(rep, AFTER_DST, 10, title="Dentist")
    event = _event(rep, BEFORE_DST, 10, title="Pitch")
    response = _move(rep_client, event, date=AFTER_DST.isoformat())
    assert "You already have 1 event at that time" in response.text
    assert "Dentist" in response.text
    assert 'name="move_anyway" value="1"' in response.text
    assert f'name="start_time" value="{AFTER_DST}T10:00"' in response.text
    event.refresh_from_db()
    assert event.start_time == _at(BEFORE_DST, 10)
    _move(
        rep_client,
        event,
        start_time=f"{AFTER_DST}T10:00",
        end_time=f"{AFTER_DST}T11:00",
        move_anyway="1",
    )
    event.refresh_from_db()
    assert event.start_time == _at(AFTER_DST, 10)


def test_a_move_without_a_new_time_is_refused_with_a_message(rep_client, rep):
    event = _event(rep, BEFORE_DST, 10)
    response = _move(rep_client, event)
    assert "This field is required." in response.text
    event.refresh_from_db()
    assert event.sequence == 0


def test_the_event_page_is_the_keyboard_path_for_moving(rep_client, rep):
    event = _event(rep, BEFORE_DST, 10)
    page = rep_client.get(reverse("calendar_app:event_detail", args=[event.pk])).text
    assert f'value="{BEFORE_DST}T10:00"' in page
    response = rep_client.post(
        reverse("calendar_app:event_move", args=[event.pk]),
        {"start_time": f"{AFTER_DST}T09:00", "end_time": f"{AFTER_DST}T09:30"},
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.start_time, event.end_time) == (_at(AFTER_DST, 9), _at(AFTER_DST, 9, 30))


def test_a_bad_move_from_the_event_page_shows_the_error(rep_client, rep):
    event = _event(rep, BEFORE_DST, 10)
    response = rep_client.post(
        reverse("calendar_app:event_move", args=[event.pk]),
        {"start_time": f"{AFTER_DST}T09:00", "end_time": f"{AFTER_DST}T08:00"},
    )
    assert response.status_code == 400
    assert "The meeting must end after it starts." in response.text


def test_cancelling_from_the_event_page(rep_client, rep):
    event = _event(rep, BEFORE_DST, 10)
    response = rep_client.post(reverse("calendar_app:event_cancel", args=[event.pk]))
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED
    page = rep_client.get(reverse("calendar_app:event_detail", args=[event.pk])).text
    assert "Cancelled" in page
    assert "Move this meeting" not in page


def test_an_outsider_cannot_open_or_move_an_event(client, outsider, rep):
    event = _event(rep, BEFORE_DST, 10)
    client.force_login(outsider)
    assert client.get(reverse("calendar_app:event_detail", args=[event.pk])).status_code == 404
    assert _move(client, event, date="2027-03-29").status_code == 404


def test_notifications_show_an_unread_count_in_the_nav_and_can_be_read(rep_client, rep):
    Notification.objects.create(user=rep, title="Upcoming meeting: Pitch", body="At 10:00")
    Notification.objects.create(user=rep, title="Log the outcome", body="How did it go?")
    page = rep_client.get(reverse("dashboard")).text
    assert (
        'Notifications <span class="badge warning">2<span class="visually-hidden"> unread' in page
    )
    listing = rep_client.get(reverse("calendar_app:notifications")).text
    assert "Upcoming meeting: Pitch" in listing
    rep_client.post(reverse("calendar_app:notifications_read"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    page = rep_client.get(reverse("dashboard")).text
    assert 'class="nav-notifications">Notifications</a>' in page


def test_marking_one_notification_read_leaves_the_others(rep_client, rep, manager):
    first = Notification.objects.create(user=rep, title="One")
    Notification.objects.create(user=rep, title="Two")
    others = Notification.objects.create(user=manager, title="Not yours")
    rep_client.post(reverse("calendar_app:notifications_read"), {"id": [first.pk, others.pk]})
    assert set(
        Notification.objects.filter(read_at__isnull=True).values_list("title", flat=True)
    ) == {
        "Two",
        "Not yours",
    }


def test_the_reminder_setting_is_saved_and_validated(rep_client, rep):
    url = reverse("calendar_app:preferences")
    response = rep_client.post(url, {"reminder_minutes": "30"})
    assert response.status_code == 302
    assert rep.calendar_preference.reminder_minutes == 30
    response = rep_client.post(url, {"reminder_minutes": "-5"})
    assert response.status_code == 400
    assert "greater than or equal to 0" in response.text


def test_the_feed_is_public_parsable_and_marks_cancelled_events(client, rep):
    confirmed = _event(rep, BEFORE_DST, 10, title="Kept")
    cancelled = EventFactory(organizer=rep, title="Dropped")
    event_cancel(actor=rep, event=cancelled)
    token = feed_token_regenerate(user=rep)
    response = client.get(reverse("calendar_app:feed", args=[token]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    by_title = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    assert set(by_title) == {"Kept", "Dropped"}
    assert by_title["Kept"].decoded("DTSTART") == confirmed.start_time
    assert str(by_title["Kept"]["STATUS"]) == "CONFIRMED"
    assert str(by_title["Dropped"]["STATUS"]) == "CANCELLED"
    assert int(by_title["Dropped"]["SEQUENCE"]) == 1


def test_the_feed_includes_meetings_the_person_attends(client, rep):
    EventFactory(organizer=rep, title="Mine")
    theirs = EventFactory(title="Theirs")
    AttendeeFactory(event=theirs, user=rep, rsvp=Rsvp.ACCEPTED)
    EventFactory(title="Not mine")
    token = feed_token_regenerate(user=rep)
    calendar = icalendar.Calendar.from_ical(
        client.get(reverse("calendar_app:feed", args=[token])).content
    )
    assert {str(e["SUMMARY"]) for e in calendar.walk("VEVENT")} == {"Mine", "Theirs"}


def _feed_url(page: str) -> str:
    match = re.search(r'id="feed-url" type="text" value="([^"]+)"', page)
    assert match, "the page shows a feed address"
    return match.group(1)


def test_a_new_feed_address_is_shown_once_and_then_never_again(rep_client, client, rep):
    preferences = reverse("calendar_app:preferences")
    page = rep_client.get(preferences).text
    assert "You have no feed address yet." in page
    assert 'id="feed-url"' not in page
    made = rep_client.post(reverse("calendar_app:feed_regenerate"), follow=True)
    assert made.redirect_chain == [(preferences, 302)]
    assert "Copy it now: it is shown only this once." in made.text
    url = _feed_url(made.text)
    assert client.get(url).status_code == 200
    again = rep_client.get(preferences).text
    assert 'id="feed-url"' not in again
    assert url not in again
    assert "You have a feed address." in again
    assert "Make a new address" in again
    assert client.get(url).status_code == 200


def test_regenerating_the_token_kills_the_old_feed_url(rep_client, client, rep):
    regenerate = reverse("calendar_app:feed_regenerate")
    old_url = _feed_url(rep_client.post(regenerate, follow=True).text)
    new_url = _feed_url(rep_client.post(regenerate, follow=True).text)
    assert new_url != old_url
    assert client.get(old_url).status_code == 404
    assert client.get(new_url).status_code == 200


def test_the_calendar_pages_have_no_inline_scripts_or_styles(rep_client, rep, contact):
    event = _event(rep, BEFORE_DST, 10)
    for url in [
        reverse("crm:calendar") + f"?date={BEFORE_DST}",
        reverse("crm:calendar") + f"?date={BEFORE_DST}&view=week",
        reverse("calendar_app:event_detail", args=[event.pk]),
        reverse("calendar_app:notifications"),
        reverse("calendar_app:preferences"),
        reverse("crm:contact_detail", args=[contact.pk]),
    ]:
        html = rep_client.get(url).text
        assert 'style="' not in html, url
        assert "<style" not in html, url
        assert " onclick=" not in html and " ondrop=" not in html, url
        assert "hx-on" not in html, url


def test_today_is_the_users_today(rep_client, rep):
    rep.time_zone = "Pacific/Kiritimati"
    rep.save()
    page = rep_client.get(reverse("crm:calendar")).text
    today = timezone.localtime(timezone.now(), ZoneInfo("Pacific/Kiritimati")).date()
    assert re.search(rf'class="day[a-z ]* today[a-z ]*" data-drop-date="{today}"', page)
    assert today.strftime("%B %Y") in page


def test_the_feed_of_a_deactivated_user_is_gone(client, rep):
    token = feed_token_regenerate(user=rep)
    rep.is_active = False
    rep.save()
    assert client.get(reverse("calendar_app:feed", args=[token])).status_code == 404


def test_the_calendar_page_marks_calendar_in_the_navigation(rep_client):
    page = rep_client.get(reverse("crm:calendar")).text
    assert 'aria-current="page">Calendar</a>' in page
    assert 'aria-current="page">Contacts</a>' not in page


@pytest.mark.parametrize(
    ("params", "previous", "following"),
    [
        ({"date": "9999-12-15"}, "2999-11-01", "3000-01-01"),
        ({"date": "0001-01-01"}, "1899-12-01", "1900-02-01"),
        ({"date": "9999-12-31", "view": "week"}, "2999-12-24", "3000-01-07"),
        ({"date": "0001-01-01", "view": "week"}, "1899-12-25", "1900-01-08"),
        ({"date": "3000-01-01"}, "2999-11-01", "3000-01-01"),
    ],
)
def test_dates_past_the_supported_years_show_the_nearest_supported_period(
    rep_client, params, previous, following
):
    response = rep_client.get(reverse("crm:calendar"), params)
    assert response.status_code == 200
    assert f'href="?date={previous}' in response.text
    assert f'href="?date={following}' in response.text


@pytest.mark.parametrize(
    "data",
    [
        {"start_time": "9999-12-31T23:30"},
        {"start_time": "0001-01-01T10:00"},
        {"start_time": "2027-03-27T10:00", "end_time": "3000-01-01T10:00"},
        {"date": "9999-12-31"},
        {"date": "0001-01-01"},
    ],
)
def test_a_move_outside_the_supported_years_is_refused_with_a_message(rep_client, rep, data):
    event = _event(rep, BEFORE_DST, 10)
    response = _move(rep_client, event, **data)
    assert response.status_code == 200
    assert "Pick a date from the year 1900 to 2999." in response.text
    event.refresh_from_db()
    assert (event.start_time, event.sequence) == (_at(BEFORE_DST, 10), 0)
