"""Grant consent, check in, close a deal, see the score on it and the team's weekly figures
(nothing of anyone alone); revoke and see the score and the taking part gone. Plus the wellness
pages on a phone without script errors."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from coop.consent import consent_grant
from coop.models import Consent, ConsentScope
from health.models import SalesHealthMetric
from health.services import ended_weeks, insights_publish, rollup_range, today_for, utc_today
from tests.coop.factories import MembershipFactory
from tests.crm.factories import ContactFactory, DealFactory, PipelineFactory
from tests.health.factories import CheckInFactory


@pytest.fixture
def teammates(team):
    """Five teammates who have taken part in team insights for months and checked in on the
    weekdays of the last week that ended, whose figures are published."""
    people = [MembershipFactory(team=team, user__username=f"mate{i}").user for i in range(5)]
    monday = ended_weeks(utc_today())[0]
    for stress, user in zip((20, 40, 60, 80, 100), people, strict=True):
        for day in range(5):
            CheckInFactory(user=user, date=monday + datetime.timedelta(days=day), stress=stress)
        consent_grant(user=user, scope=ConsentScope.TEAM_INSIGHTS)
    Consent.objects.filter(user__in=people).update(
        granted_at=timezone.now() - datetime.timedelta(days=120)
    )
    rollup_range(start=monday, end=monday + datetime.timedelta(days=6))
    insights_publish()
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
    expect(panel.get_by_text("You take part in team wellness insights")).to_be_visible()
    weeks = panel.locator("table.team-weeks tbody tr")
    expect(weeks).to_have_count(13)
    last_week = weeks.first.locator("td")
    expect(last_week.nth(0)).to_have_text("5")  # people
    expect(last_week.nth(1)).to_have_text("60")  # their mean stress
    table = panel.locator("table.team-weeks")
    expect(table.get_by_text("You", exact=True)).to_have_count(0)  # no row of anyone's
    expect(table.get_by_text("30", exact=True)).to_have_count(0)  # nor today's check-in
    expect(
        panel.get_by_role("heading", name="How these figures protect each person")
    ).to_be_visible()
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
    expect(weeks.first.locator("td").nth(1)).to_have_text("60")  # published figures stay
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
