"""Grant consent, check in, close a deal, see the score and yourself in the insights; revoke and
see both gone. Plus the wellness pages on a phone without script errors."""

import pytest
from playwright.sync_api import Page, expect

from coop.consent import consent_grant
from coop.models import ConsentScope
from health.models import SalesHealthMetric
from health.services import today_for
from tests.coop.factories import MembershipFactory
from tests.crm.factories import ContactFactory, DealFactory, PipelineFactory
from tests.health.factories import CheckInFactory


@pytest.fixture
def teammates(team):
    """Four teammates who already take part in team insights, with today's check-in."""
    people = [MembershipFactory(team=team, user__username=f"mate{i}").user for i in range(4)]
    for stress, user in zip((20, 40, 60, 80), people, strict=True):
        CheckInFactory(user=user, date=today_for(user), stress=stress)
        consent_grant(user=user, scope=ConsentScope.TEAM_INSIGHTS)
    return people


@pytest.fixture
def deal(team, rep):
    contact = ContactFactory(team=team, owner=rep, name="Olga Ortiz")
    return DealFactory(
        pipeline=PipelineFactory(team=team, name="Sales"),
        owner=rep,
        contact=contact,
        title="Solar roof",
    )


def purpose(page: Page, label: str):
    return page.locator("section.consent-purpose").filter(
        has=page.get_by_role("heading", name=label)
    )


def collect_errors(page: Page) -> list[str]:
    """Script errors, CSP violations and failed requests (the browser's own favicon probe
    aside: the base layout declares no icon)."""
    problems: list[str] = []

    def on_console(message) -> None:
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            problems.append(f"{message.text} {message.location['url']}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_consent_check_in_close_see_then_revoke_and_see_it_gone(
    page: Page, live_server, rep, deal, teammates, login_as, screenshot
):
    problems = collect_errors(page)
    login_as(rep)
    url = live_server.url
    page.goto(url + "/wellness/consent/")
    for label in (
        "Attach my wellness score to deals I close",
        "Include me in team wellness insights",
    ):
        section = purpose(page, label)
        expect(section.get_by_text("Not allowed")).to_be_visible()
        section.get_by_role("button", name="Allow").click()
        expect(purpose(page, label).get_by_text("Allowed", exact=True)).to_be_visible()
    screenshot("health-consent-granted")

    page.get_by_role("link", name="Your wellness").click()
    page.get_by_label("Stress today (0 to 100)").fill("30")
    page.get_by_label("Hours slept last night (optional)").fill("8")
    page.get_by_label("Energy (optional)").select_option("4")
    page.get_by_role("button", name="Save check-in").click()
    expect(page.get_by_role("status")).to_contain_text("Check-in saved")
    expect(page.locator(".score")).to_have_text("79")
    expect(page.locator("#wellness-history-chart")).to_be_visible()
    screenshot("health-wellness-page")

    page.goto(f"{url}/deals/{deal.pk}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Close as won").click()
    facts = page.locator("dl.deal-facts")
    expect(facts).to_contain_text("Wellness score at closing")
    expect(facts).to_contain_text("79 / 100")
    screenshot("health-deal-with-score")

    page.goto(url + "/")
    page.get_by_role("tab", name="Wellness insights").click()
    panel = page.locator("#panel-wellness")
    expect(panel.get_by_text("You take part in your teams' wellness insights")).to_be_visible()
    you = panel.locator("table.heatmap tr.you")
    expect(you.get_by_role("rowheader")).to_have_text("You")
    expect(you.locator("td").last).to_have_text("30")
    expect(panel.locator("table.heatmap tbody").first.locator("tr")).to_have_count(5)
    expect(page.locator("#panel-overview")).to_be_hidden()
    screenshot("health-insights-included")
    assert SalesHealthMetric.objects.get(user=rep, date=today_for(rep)).deal_velocity == 0.25

    page.goto(url + "/wellness/consent/")
    for label in (
        "Attach my wellness score to deals I close",
        "Include me in team wellness insights",
    ):
        purpose(page, label).get_by_role("button", name="Withdraw").click()
        expect(purpose(page, label).get_by_text("Not allowed")).to_be_visible()
    expect(page.locator("table.data")).to_contain_text("Revoked")
    screenshot("health-consent-withdrawn")

    page.goto(f"{url}/deals/{deal.pk}/")
    expect(page.locator("dl.deal-facts")).not_to_contain_text("Wellness score")
    page.goto(url + "/")
    page.get_by_role("tab", name="Wellness insights").click()
    expect(panel.get_by_text("You do not take part in team wellness insights")).to_be_visible()
    expect(panel.get_by_text("Not shown. Fewer than 5 members")).to_be_visible()
    expect(panel.locator("table.heatmap")).to_have_count(0)
    screenshot("health-insights-after-withdrawal")
    page.get_by_role("tab", name="Overview").click()
    expect(page.locator("#panel-overview")).to_be_visible()
    assert not SalesHealthMetric.objects.filter(user=rep).exists()
    assert problems == []


def test_wellness_pages_read_well_on_a_phone(
    page: Page, live_server, rep, teammates, login_as, screenshot
):
    problems = collect_errors(page)
    page.set_viewport_size({"width": 390, "height": 844})
    consent_grant(user=rep, scope=ConsentScope.TEAM_INSIGHTS)
    CheckInFactory(user=rep, date=today_for(rep), stress=55, energy=3)
    login_as(rep)
    for path, name in (
        ("/wellness/", "health-phone-wellness"),
        ("/wellness/consent/", "health-phone-consent"),
        ("/wellness/insights/", "health-phone-insights"),
    ):
        page.goto(live_server.url + path)
        expect(page.locator("main h1")).to_be_visible()
        screenshot(name)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
    assert problems == []
