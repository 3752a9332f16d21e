"""A person switches the interface to German, then French, in "Your settings", and finds
the pages in that language with money in its format.

`test_the_settings_page_switches_the_interface_to_german_then_french` covers what the
project's own catalogues translate (the settings page and the layout around every page).
`test_the_forecast_page_and_the_schedule_meeting_dialog_are_fully_translated` needs the
finance and CRM catalogues too: it passes once those are complete."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from crm.models import Deal
from tests.crm.factories import ContactFactory, PipelineFactory
from tests.finance.factories import generate_forecast

pytestmark = pytest.mark.django_db(transaction=True)

# The English text of the settings page and of the layout around it.
SETTINGS_PAGE_ENGLISH = [
    "Your settings",
    "Display name",
    "How your colleagues see you; blank shows your username.",
    "Time zone",
    "Language",
    "Same as the browser",
    "Colour scheme",
    "Same as the device",
    "Save",
    "(optional)",
    "Skip to content",
    "Dashboard",
    "Contacts",
    "Organizations",
    "Calendar",
    "Reports",
    "Forecasts",
    "Wellness",
    "Notifications",
    "Log out",
    "Co-op CRM — an open CRM for cooperatives",
]
# The English text of the forecast page and of the Schedule Meeting dialog, each of which
# differs in German and French.
FORECAST_PAGE_ENGLISH = [
    "Expected revenue",
    "Already won",
    "Open deals, weighted",
    "95 % interval",
    "Export CSV",
    "Expected revenue per period",
    "Actual revenue",
    "Period",
    "Shaded",
]
MEETING_DIALOG_ENGLISH = [
    "Schedule a meeting with",
    "Title",
    "Location",
    "Email an invitation to the contact",
    "In your time zone",
    "Schedule",
    "Cancel",
    "Close",
]
MONEY = {
    "de": re.compile(r"\d{1,3}(\.\d{3})*,\d\d\u00a0€"),
    "fr": re.compile(r"\d{1,3}(\u202f\d{3})*,\d\d\u00a0€"),
}
LABELS = {"de": "Deutsch", "fr": "Français"}


def _english_left(text: str, strings: list[str]) -> list[str]:
    return [
        english for english in strings if re.search(rf"(?<!\w){re.escape(english)}(?!\w)", text)
    ]


def _choose_language(page: Page, live_server, language: str) -> None:
    page.goto(live_server.url + reverse("personal_settings"))
    page.locator("#id_language").select_option(label=LABELS[language])
    page.locator("main form button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def test_the_settings_page_switches_the_interface_to_german_then_french(
    page: Page, live_server, rep, login_as, screenshot
):
    login_as(rep)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name=str(rep)).click()
    expect(page.get_by_role("heading", name="Your settings")).to_be_visible()
    screenshot("settings-english")
    for language, saved in [
        ("de", "Ihre Einstellungen sind gespeichert."),
        ("fr", "Vos paramètres sont enregistrés."),
    ]:
        _choose_language(page, live_server, language)
        expect(page.get_by_role("status")).to_have_text(saved)
        with translation.override(language):
            heading = gettext("Your settings")
            # Words the language shares with English ("Dashboard" in German) are not a sign.
            differing = [text for text in SETTINGS_PAGE_ENGLISH if gettext(text) != text]
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        assert len(differing) >= len(SETTINGS_PAGE_ENGLISH) - 3
        assert _english_left(page.locator("body").inner_text(), differing) == []
        screenshot(f"settings-{language}")
    rep.refresh_from_db()
    assert rep.language == "fr"


@pytest.fixture
def forecast(manager, rep, team):
    """A Q1 2026 forecast of one open deal: an expected total in the thousands of euros."""
    pipeline = PipelineFactory(team=team, name="Sales")
    Deal.objects.create(
        pipeline=pipeline,
        stage=pipeline.stages.get(name="Negotiation"),
        owner=rep,
        title="Solar roof",
        value_cents=12_345_678,
        currency="EUR",
        expected_close_date=datetime.date(2026, 2, 10),
    )
    return generate_forecast(manager, team, name="Q1 plan")


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_forecast_page_and_the_schedule_meeting_dialog_are_fully_translated(
    page: Page, live_server, manager, team, forecast, login_as, screenshot, language
):
    contact = ContactFactory(team=team, owner=manager, name="Olga Ortiz", email="o@example.com")
    login_as(manager)
    _choose_language(page, live_server, language)

    page.goto(live_server.url + reverse("finance:detail", args=[forecast.pk]))
    expect(page.locator("#forecast-total")).to_be_visible()
    total = page.locator("#forecast-total").text_content().strip()
    assert MONEY[language].fullmatch(total), total
    screenshot(f"forecast-{language}")
    assert _english_left(page.locator("main").inner_text(), FORECAST_PAGE_ENGLISH) == []

    page.goto(live_server.url + reverse("crm:contact_detail", args=[contact.pk]))
    page.locator(f'a[href="{reverse("crm:meeting_new", args=[contact.pk])}"]').click()
    dialog = page.locator("dialog[open]")
    expect(dialog.locator("#dialog-title")).to_be_visible()
    screenshot(f"meeting-dialog-{language}")
    assert _english_left(dialog.inner_text(), MEETING_DIALOG_ENGLISH) == []
