"""A cached page (coop/page_cache.py) never hides a person's own write: with the page cache
on, a note added on a contact's page is there when the page is reloaded."""

import pytest
from playwright.sync_api import Page, expect

from tests.crm.factories import ContactFactory


@pytest.fixture
def contact(team, rep):
    return ContactFactory(team=team, owner=rep, name="Olga Ortiz")


def test_a_note_added_shows_when_the_cached_page_is_reloaded(
    page: Page, live_server, page_cache, rep, contact, login_as
):
    login_as(rep)
    page.goto(f"{live_server.url}/contacts/{contact.pk}/")
    page.reload()  # rendered and stored (the first answer set the CSRF cookie)
    page.reload()  # served from the cache
    expect(page.get_by_role("heading", name="Olga Ortiz")).to_be_visible()

    activity = page.locator("#activity")
    activity.get_by_label("Note", exact=True).fill("Called back about the roof")
    activity.get_by_role("button", name="Add note").click()
    expect(page.get_by_text("Called back about the roof")).to_be_visible()

    page.reload()
    expect(page.get_by_text("Called back about the roof")).to_be_visible()
