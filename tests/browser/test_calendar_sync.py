"""Connecting a CalDAV calendar from the settings page, against a real Radicale server."""

import pytest
from playwright.sync_api import Page, expect

from calendar_app.caldav_sync import account_connect
from calendar_app.models import CalDavAccount, CalDavStatus

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


def test_a_stopped_account_shows_why_and_syncs_again_after_support_resets_it(
    page: Page, live_server, login_as, rep, staff_user, caldav_user, screenshot
):
    account = account_connect(
        user=rep,
        server_url=caldav_user.url,
        username=caldav_user.username,
        password=caldav_user.password,
    )
    CalDavAccount.objects.filter(pk=account.pk).update(
        status=CalDavStatus.STOPPED,
        failure_count=5,
        last_error="The server could not be reached (ConnectionError).",
    )
    page.set_viewport_size({"width": 390, "height": 844})
    login_as(rep)
    page.goto(f"{live_server.url}/calendar/settings/calendar-sync/")
    expect(page.locator("#caldav-status")).to_contain_text("Stopped after repeated failures")
    expect(page.locator("#caldav-error")).to_have_text(
        "The server could not be reached (ConnectionError)."
    )
    screenshot("calendar-sync-stopped-390")

    login_as(staff_user)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/admin/calendar_app/caldavaccount/?status__exact=stopped")
    page.get_by_role("checkbox", name="Select this object for an action").first.check()
    page.get_by_label("Action:").select_option(label="Reset failures and sync again")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_text("1 account(s) reset; each syncs again now.")).to_be_visible()
    expect(page.get_by_text("app-pw")).to_have_count(0)
    screenshot("admin-caldav-accounts-reset")

    login_as(rep)
    page.goto(f"{live_server.url}/calendar/settings/calendar-sync/")
    expect(page.locator("#caldav-status")).to_have_text("Connected")
