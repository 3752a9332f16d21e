"""Meetings like a person schedules and moves them: from the contact page, on the calendar by
dragging, and the keyboard path for each drag."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from calendar_app.models import Event
from calendar_app.services import reminders_send_due
from coop.models import Role
from crm.meeting_scheduling import meeting_schedule
from tests.coop.factories import MembershipFactory
from tests.crm.factories import ContactFactory, DealFactory, PipelineFactory

pytestmark = pytest.mark.django_db(transaction=True)

PARIS = ZoneInfo("Europe/Paris")


def _future_day(days: int) -> datetime.date:
    return datetime.datetime.now(PARIS).date() + datetime.timedelta(days=days)


@pytest.fixture
def olga(team, rep):
    return ContactFactory(team=team, owner=rep, name="Olga Ortiz", email="olga@sun.example")


def _schedule(rep, contact, day: datetime.date, hour: int = 10, title: str = "Roof survey"):
    start = datetime.datetime.combine(day, datetime.time(hour), PARIS)
    return meeting_schedule(
        organizer=rep,
        contact=contact,
        title=title,
        start_time=start,
        end_time=start + datetime.timedelta(hours=1),
    )


def _when(day: datetime.date, start: str, end: str) -> str:
    """How the timeline writes a meeting's time: the day, then start and end with an en dash."""
    return f"{day.strftime('%a %-d %b %Y')}, {start}\N{EN DASH}{end}"


def _calendar_url(live_server, day: datetime.date, view: str = "month") -> str:
    return f"{live_server.url}/calendar/?date={day.isoformat()}&view={view}"


def test_schedule_a_meeting_from_the_contact_page_and_see_it_on_timeline_and_calendar(
    page: Page, live_server, rep, olga, login_as, screenshot
):
    login_as(rep)
    day = _future_day(3)
    page.goto(f"{live_server.url}/contacts/{olga.pk}/")
    page.get_by_role("link", name="Schedule meeting").click()
    dialog = page.get_by_role("dialog", name="Schedule a meeting with Olga Ortiz")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Title")).to_be_focused()
    dialog.get_by_label("Title").fill("Roof survey")
    dialog.get_by_label("Start").fill(f"{day.isoformat()}T11:00")
    dialog.get_by_label("End").fill(f"{day.isoformat()}T10:00")
    dialog.get_by_role("button", name="Schedule", exact=True).click()
    expect(dialog.get_by_text("The meeting must end after it starts.")).to_be_visible()
    screenshot("meeting-dialog-error")

    dialog.get_by_label("End").fill(f"{day.isoformat()}T12:00")
    dialog.get_by_label("Location").fill("12 Quay Street")
    dialog.get_by_label("Email an invitation to the contact").check()
    dialog.get_by_role("button", name="Schedule", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text("Meeting “Roof survey” scheduled")
    upcoming = page.locator("#timeline ol.upcoming")
    expect(upcoming.locator("strong", has_text="Roof survey")).to_be_visible()
    expect(upcoming).to_contain_text(_when(day, "11:00", "12:00"))
    screenshot("contact-timeline-upcoming-meeting")

    page.goto(_calendar_url(live_server, day))
    cell = page.locator(f'td[data-drop-date="{day.isoformat()}"]')
    expect(cell.get_by_role("link", name="11:00 Roof survey")).to_be_visible()
    screenshot("calendar-month")


def test_a_conflict_needs_schedule_anyway_in_the_dialog(
    page: Page, live_server, rep, olga, login_as
):
    day = _future_day(4)
    _schedule(rep, olga, day, 10, title="Dentist")
    login_as(rep)
    page.goto(f"{live_server.url}/contacts/{olga.pk}/")
    page.get_by_role("link", name="Schedule meeting").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Title").fill("Overlapping call")
    dialog.get_by_label("Start").fill(f"{day.isoformat()}T10:30")
    dialog.get_by_label("End").fill(f"{day.isoformat()}T11:00")
    dialog.get_by_role("button", name="Schedule", exact=True).click()
    expect(dialog.get_by_role("alert")).to_contain_text("You already have 1 event at that time")
    expect(dialog.get_by_role("alert")).to_contain_text("Dentist")
    assert Event.objects.count() == 1
    dialog.get_by_role("button", name="Schedule anyway").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#timeline ol.upcoming")).to_contain_text("Overlapping call")
    assert Event.objects.count() == 2


def test_drag_a_meeting_to_another_day_and_the_timeline_shows_the_new_time(
    page: Page, live_server, rep, olga, login_as, screenshot
):
    day = _future_day(7)
    target = day + datetime.timedelta(days=1)
    interaction = _schedule(rep, olga, day, 10)
    login_as(rep)
    page.goto(_calendar_url(live_server, day))
    event_link = page.get_by_role("link", name="10:00 Roof survey")
    event_link.drag_to(page.locator(f'td[data-drop-date="{target.isoformat()}"]'))
    expect(page.get_by_role("status")).to_contain_text("moved to")
    moved = page.locator(f'td[data-drop-date="{target.isoformat()}"]')
    expect(moved.get_by_role("link", name="10:00 Roof survey")).to_be_visible()
    expect(page.locator(f'td[data-drop-date="{day.isoformat()}"] .cal-event')).to_have_count(0)

    page.goto(f"{live_server.url}/contacts/{olga.pk}/")
    entry = page.locator(f"#meeting-{interaction.pk}")
    expect(entry).to_contain_text(_when(target, "10:00", "11:00"))
    screenshot("timeline-after-drag")


def test_dropping_a_meeting_on_a_busy_day_warns_before_moving(
    page: Page, live_server, rep, olga, login_as, screenshot
):
    day = _future_day(8)
    target = day + datetime.timedelta(days=2)
    _schedule(rep, olga, target, 10, title="Board meeting")
    _schedule(rep, olga, day, 10)
    login_as(rep)
    page.goto(_calendar_url(live_server, day))
    page.get_by_role("link", name="10:00 Roof survey").drag_to(
        page.locator(f'td[data-drop-date="{target.isoformat()}"]')
    )
    dialog = page.get_by_role("dialog", name="Move “Roof survey”")
    expect(dialog.get_by_role("alert")).to_contain_text("Board meeting")
    screenshot("calendar-move-conflict")
    dialog.get_by_role("button", name="Move anyway").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(f'td[data-drop-date="{target.isoformat()}"] .cal-event')).to_have_count(2)


def test_drag_a_meeting_to_a_slot_in_the_week_view(
    page: Page, live_server, rep, olga, login_as, screenshot
):
    day = _future_day(9)
    _schedule(rep, olga, day, 10)
    login_as(rep)
    # Both the meeting and the 15:00 slot on screen: a drag does not scroll the page.
    page.set_viewport_size({"width": 1280, "height": 1400})
    page.goto(_calendar_url(live_server, day, "week"))
    page.get_by_role("link", name="10:00 Roof survey").drag_to(
        page.locator(f'td[data-drop-start="{day.isoformat()}T15:00"]')
    )
    slot = page.locator(f'td[data-drop-start="{day.isoformat()}T15:00"]')
    expect(slot.get_by_role("link", name="15:00 Roof survey")).to_be_visible()
    screenshot("calendar-week")


def test_the_keyboard_path_moves_a_meeting_and_the_timeline_follows(
    page: Page, live_server, rep, olga, login_as, screenshot
):
    day = _future_day(10)
    target = day + datetime.timedelta(days=3)
    interaction = _schedule(rep, olga, day, 10)
    login_as(rep)
    page.goto(_calendar_url(live_server, day))
    page.get_by_role("link", name="10:00 Roof survey").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Roof survey", level=1)).to_be_visible()
    start = page.get_by_label("New start")
    start.focus()
    start.fill(f"{target.isoformat()}T16:30")
    page.get_by_label("New end").fill(f"{target.isoformat()}T17:30")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("moved to")
    screenshot("event-page-after-keyboard-move")

    page.goto(f"{live_server.url}/contacts/{olga.pk}/")
    entry = page.locator(f"#meeting-{interaction.pk}")
    expect(entry).to_contain_text(_when(target, "16:30", "17:30"))


def test_drag_a_contact_or_a_deal_onto_a_day_opens_the_prefilled_dialog(
    page: Page, live_server, rep, team, olga, login_as, screenshot
):
    pipeline = PipelineFactory(team=team)
    DealFactory(pipeline=pipeline, owner=rep, contact=olga, title="Solar roof")
    day = _future_day(12)
    login_as(rep)
    page.goto(_calendar_url(live_server, day))
    side = page.locator(".calendar-side")
    side.locator("li", has_text="Olga Ortiz").first.drag_to(
        page.locator(f'td[data-drop-date="{day.isoformat()}"]')
    )
    dialog = page.get_by_role("dialog", name="Schedule a meeting with Olga Ortiz")
    expect(dialog.get_by_label("Start")).to_have_value(f"{day.isoformat()}T10:00")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()

    side.locator("li", has_text="Solar roof").drag_to(
        page.locator(f'td[data-drop-date="{day.isoformat()}"]')
    )
    expect(dialog.get_by_label("Title")).to_have_value("Solar roof: meeting with Olga Ortiz")
    screenshot("calendar-drop-deal-dialog")
    dialog.get_by_role("button", name="Schedule", exact=True).click()
    expect(dialog).to_be_hidden()
    cell = page.locator(f'td[data-drop-date="{day.isoformat()}"]')
    expect(
        cell.get_by_role("link", name="10:00 Solar roof: meeting with Olga Ortiz")
    ).to_be_visible()


def test_the_keyboard_path_schedules_from_the_side_list(
    page: Page, live_server, rep, olga, login_as
):
    day = _future_day(13)
    login_as(rep)
    page.goto(_calendar_url(live_server, day))
    button = page.get_by_role("link", name="Schedule a meeting with Olga Ortiz")
    button.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Title")).to_be_focused()
    dialog.get_by_label("Start").fill(f"{day.isoformat()}T09:00")
    dialog.get_by_label("End").fill(f"{day.isoformat()}T09:45")
    dialog.get_by_label("End").press("Enter")
    expect(dialog).to_be_hidden()
    cell = page.locator(f'td[data-drop-date="{day.isoformat()}"]')
    expect(cell.get_by_role("link", name="09:00 Meeting with Olga Ortiz")).to_be_visible()


def test_cancel_a_meeting_from_the_timeline(page: Page, live_server, rep, olga, login_as):
    interaction = _schedule(rep, olga, _future_day(5))
    login_as(rep)
    page.goto(f"{live_server.url}/contacts/{olga.pk}/")
    page.once("dialog", lambda confirm: confirm.accept())
    page.get_by_role("button", name="Cancel meeting Roof survey").click()
    entry = page.locator(f"#meeting-{interaction.pk}")
    expect(entry.get_by_text("Cancelled")).to_be_visible()
    expect(page.locator("#timeline ol.upcoming")).to_have_count(0)


def test_the_calendar_reads_well_on_a_phone(
    page: Page, live_server, rep, olga, login_as, screenshot
):
    page.set_viewport_size({"width": 390, "height": 844})
    day = _future_day(2)
    _schedule(rep, olga, day, 10)
    login_as(rep)
    page.goto(_calendar_url(live_server, day))
    expect(page.get_by_role("link", name="10:00 Roof survey")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("calendar-month-phone")


def _busy_day(rep, contact, days: int) -> datetime.date:
    """A day with six meetings, 09:00 to 14:00: two more than a month cell lists."""
    day = _future_day(days)
    for hour, title in enumerate(
        ["Roof survey", "Panel quote", "Site visit with the installer", "Call back", "Invoice"],
        start=9,
    ):
        _schedule(rep, contact, day, hour, title=title)
    _schedule(rep, contact, day, 14, title="Battery demo")
    return day


def test_more_opens_the_week_that_shows_the_meetings_the_month_left_out(
    page: Page, live_server, rep, olga, login_as, screenshot
):
    day = _busy_day(rep, olga, 15)
    login_as(rep)
    page.goto(_calendar_url(live_server, day))
    cell = page.locator(f'td[data-drop-date="{day.isoformat()}"]')
    expect(cell.locator(".cal-entry")).to_have_count(4)
    expect(cell.get_by_role("link", name="14:00 Battery demo")).to_have_count(0)
    screenshot("calendar-month-more")
    cell.get_by_role("link", name=f"+2 more on {day.day} {day.strftime('%B')}").click()
    expect(page).to_have_url(_calendar_url(live_server, day, "week"))
    slot = page.locator(f'td[data-drop-start="{day.isoformat()}T14:00"]')
    expect(slot.get_by_role("link", name="14:00 Battery demo")).to_be_visible()


def test_the_more_link_fits_a_day_on_a_phone(
    page: Page, live_server, rep, olga, login_as, screenshot
):
    page.set_viewport_size({"width": 390, "height": 844})
    day = _busy_day(rep, olga, 16)
    login_as(rep)
    page.goto(_calendar_url(live_server, day))
    expect(page.get_by_role("link", name="+2 more on")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("calendar-month-more-phone")


def test_edit_a_meeting_from_the_timeline(page: Page, live_server, rep, olga, login_as, screenshot):
    day = _future_day(6)
    interaction = _schedule(rep, olga, day, 10)
    login_as(rep)
    page.goto(f"{live_server.url}/contacts/{olga.pk}/")
    page.get_by_role("link", name="Edit Roof survey").click()
    dialog = page.get_by_role("dialog", name="Edit the meeting")
    expect(dialog.get_by_label("Start")).to_have_value(f"{day.isoformat()}T10:00")
    dialog.get_by_label("Title").fill("Roof survey with the installer")
    dialog.get_by_label("Start").fill(f"{day.isoformat()}T13:00")
    dialog.get_by_label("End").fill(f"{day.isoformat()}T14:15")
    screenshot("meeting-edit-dialog")
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_be_hidden()
    entry = page.locator(f"#meeting-{interaction.pk}")
    expect(entry).to_contain_text("Roof survey with the installer")
    expect(entry).to_contain_text(_when(day, "13:00", "14:15"))


def test_a_due_reminder_shows_in_the_nav_and_the_notifications_list(
    page: Page, live_server, rep, olga, login_as, screenshot
):
    interaction = _schedule(rep, olga, _future_day(1), 10)
    event = interaction.calendar_event
    reminders_send_due(now=event.start_time - datetime.timedelta(minutes=5))
    login_as(rep)
    page.goto(f"{live_server.url}/calendar/")
    nav_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Notifications")
    expect(nav_link).to_contain_text("1 unread")
    nav_link.click()
    expect(page.get_by_text("Upcoming meeting: Roof survey", exact=True)).to_be_visible()
    expect(page.get_by_text("Roof survey with Olga Ortiz")).to_be_visible()
    screenshot("notifications")
    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_role("status")).to_contain_text("1 notification(s) marked read.")
    expect(nav_link).not_to_contain_text("unread")
    page.get_by_role("link", name="Open the meeting").click()
    expect(page.get_by_role("heading", name="Roof survey", level=1)).to_be_visible()


def test_set_the_reminder_time_and_renew_the_feed_address(
    page: Page, live_server, rep, olga, login_as, screenshot
):
    _schedule(rep, olga, _future_day(2), 10)
    login_as(rep)
    page.goto(f"{live_server.url}/calendar/")
    page.get_by_role("link", name="Reminders & feed").click()
    minutes = page.get_by_label("Remind me before each meeting (minutes)")
    expect(minutes).to_have_value("15")
    minutes.fill("45")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Reminder setting saved.")
    expect(minutes).to_have_value("45")

    expect(page.get_by_text("You have no feed address yet.")).to_be_visible()
    page.get_by_role("button", name="Make an address").click()
    expect(page.get_by_role("status")).to_contain_text("Your calendar feed has a new address")
    feed = page.get_by_label("Your calendar feed")
    old_url = feed.input_value()
    assert page.request.get(old_url).text().startswith("BEGIN:VCALENDAR")
    # Shown once: only its hash is kept.
    page.reload()
    expect(feed).to_have_count(0)
    expect(page.get_by_text("You have a feed address.")).to_be_visible()
    page.get_by_role("button", name="Make a new address").click()
    expect(page.get_by_role("status")).to_contain_text("any older one no longer works")
    new_url = feed.input_value()
    assert new_url != old_url
    assert page.request.get(old_url).status == 404
    assert "SUMMARY:Roof survey" in page.request.get(new_url).text()
    screenshot("calendar-preferences")


def test_calendar_pages_and_dialogs_raise_no_csp_violations_or_script_errors(
    page: Page, live_server, rep, olga, login_as
):
    problems, missing = [], []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda response: response.status == 404 and missing.append(response.url))
    day = _future_day(3)
    interaction = _schedule(rep, olga, day, 10)
    login_as(rep)
    for path in [
        f"/calendar/?date={day.isoformat()}",
        f"/calendar/?date={day.isoformat()}&view=week",
        f"/calendar/events/{interaction.calendar_event_id}/",
        "/calendar/notifications/",
        "/calendar/settings/",
        f"/contacts/{olga.pk}/meetings/new/",
        f"/contacts/{olga.pk}/",
    ]:
        page.goto(live_server.url + path)
        expect(page.locator("main h1, main h2").first).to_be_visible()
    page.get_by_role("link", name="Schedule meeting").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    page.get_by_role("dialog").get_by_role("button", name="Close").click()
    expect(page.get_by_role("dialog")).to_be_hidden()
    # The browser asks for /favicon.ico on its own; the app has none.
    assert [url for url in missing if not url.endswith("/favicon.ico")] == []
    assert [text for text in problems if "status of 404" not in text] == []


def test_a_manager_sees_a_meeting_about_another_teams_contact_as_busy(
    page: Page, live_server, rep, manager, other_team, login_as, screenshot
):
    MembershipFactory(user=rep, team=other_team, role=Role.REP)
    south = ContactFactory(team=other_team, name="Sol Ortega", email="sol@south.example")
    day = _future_day(2)
    _schedule(rep, south, day, title="South pricing")
    login_as(manager)
    page.goto(f"{_calendar_url(live_server, day, view='week')}&who={rep.pk}")
    busy = page.locator(".cal-busy")
    expect(busy).to_have_count(1)
    expect(busy).to_contain_text("Busy")
    expect(page.get_by_text("South pricing")).to_have_count(0)
    expect(page.locator(".cal-busy a, a.cal-busy")).to_have_count(0)
    screenshot("calendar-week-busy-block")
