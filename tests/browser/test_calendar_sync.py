"""Connecting a CalDAV calendar from the settings page, against a real Radicale server."""

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_person_connects_their_calendar_and_sees_its_status(
    page: Page, live_server, login_as, rep, caldav_user, screenshot
):
    login_as(rep)
    page.goto(f"{live_server.url}/calendar/settings/")
    page.get_by_role("link", name="Calendar sync").click()

    page.get_by_label("Server address").fill(caldav_user.url)
    page.get_by_label("User name").fill(caldav_user.username)
    page.get_by_label("App password").fill(caldav_user.password)
    page.get_by_role("button", name="Connect", exact=True).click()

    expect(page.get_by_text("Calendar connected.")).to_be_visible()
    expect(page.locator("#caldav-status")).to_have_text("Connected")
    expect(page.get_by_label("Work").first).to_be_checked()
    expect(page.get_by_label("App password")).to_have_value("")

    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_text("The connection works.")).to_be_visible()
    screenshot("calendar-sync-connected")

    page.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_role("heading", name="Connect your calendar")).to_be_visible()
