"""A rep calls a deal commit on its page; the manager sets the team's target, sees the call
in the forecast's category columns with the attainment, and the home page's target panel."""

import datetime

import pytest
from playwright.sync_api import Page, expect

from crm.models import Deal, DealStatus
from finance.models import RevenueTarget
from tests.crm.factories import PipelineFactory
from tests.finance.factories import RevenueEntryFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def deals(team, rep):
    pipeline = PipelineFactory(team=team, name="Sales")
    stages = {stage.name: stage for stage in pipeline.stages.all()}
    today = datetime.date.today()
    open_deal = Deal.objects.create(
        pipeline=pipeline,
        stage=stages["Lead"],
        owner=rep,
        title="Solar roof",
        value_cents=400_000,
        currency="EUR",
        expected_close_date=today,
    )
    won = Deal.objects.create(
        pipeline=pipeline,
        stage=stages["Won"],
        owner=rep,
        title="Heat pump",
        value_cents=100_000,
        currency="EUR",
        expected_close_date=today,
        status=DealStatus.WON,
        closed_at=datetime.datetime.now(datetime.UTC),
    )
    RevenueEntryFactory(team=team, owner=rep, deal=won, booked_on=today, amount_cents=100_000)
    return open_deal


def test_rep_commits_a_deal_and_the_manager_sees_categories_and_attainment(
    page: Page, live_server, rep, manager, deals, login_as, screenshot
):
    login_as(rep)
    page.goto(f"{live_server.url}/deals/{deals.pk}/")
    expect(page.locator("#deal-forecast-category")).to_contain_text("Pipeline (from the stage)")
    page.get_by_role("combobox", name="Forecast category").select_option(label="Commit")
    page.get_by_role("button", name="Set category").click()
    expect(page.get_by_text("Forecast category: Commit.")).to_be_visible()
    expect(page.locator("#category-changes")).to_contain_text("Pipeline → Commit")
    screenshot("deal-forecast-category")

    page.context.clear_cookies()
    login_as(manager)
    today = datetime.date.today()
    first = today.replace(day=1)
    page.goto(live_server.url + "/forecasts/targets/")
    page.get_by_role("combobox", name="Team").select_option(label="North")
    page.get_by_role("combobox", name="Period", exact=True).select_option(label="Month")
    page.get_by_label("Period starts on").fill(first.isoformat())
    page.get_by_role("spinbutton", name="Target").fill("10000")
    page.get_by_role("button", name="Set target").click()
    expect(page.get_by_text("Target set")).to_be_visible()
    assert RevenueTarget.objects.get().amount_cents == 1_000_000

    page.goto(live_server.url + "/forecasts/")
    page.get_by_label("Whose deals").select_option(label="North — whole team")
    page.get_by_label("Periods").select_option(label="Month")
    page.get_by_label("From").fill(first.isoformat())
    page.get_by_label("To").fill(today.isoformat())
    page.get_by_label("Name").fill("This month")
    page.get_by_role("button", name="Generate forecast").click()
    expect(page.get_by_role("heading", name="This month")).to_be_visible()
    row = page.locator("#category-table tbody tr").first
    expect(row.locator('[data-column="commit"]')).to_have_text("€5,000.00")
    expect(row.locator('[data-column="best-case"]')).to_have_text("€5,000.00")
    expect(row.locator('[data-column="target"]')).to_have_text("€10,000.00")
    expect(row.locator('[data-column="attainment"]')).to_have_text("10 %")
    screenshot("forecast-categories-attainment")

    page.goto(live_server.url + "/")
    expect(page.locator("#attainment")).to_contain_text("10 %")
    screenshot("home-attainment")


def test_rep_submits_their_commit_and_the_manager_adjusts_and_submits(
    page: Page, live_server, rep, manager, deals, login_as, screenshot
):
    Deal.objects.filter(pk=deals.pk).update(forecast_category="commit")
    login_as(rep)
    page.goto(live_server.url + "/forecasts/submissions/")
    expect(page.locator("#own-commit")).to_have_text("€5,000.00")
    expect(
        page.get_by_role("region", name="Your number").get_by_role("spinbutton", name="Number")
    ).to_have_value("5000.00")
    page.get_by_role("button", name="Submit my number").click()
    expect(page.get_by_text("Number submitted.")).to_be_visible()
    expect(page.locator("#own-history")).to_contain_text("€5,000.00")

    page.context.clear_cookies()
    login_as(manager)
    page.goto(live_server.url + "/forecasts/submissions/")
    expect(page.locator("#rollup-total")).to_have_text("€5,000.00")
    team = page.get_by_role("region", name="Team roll-up")
    team.get_by_role("spinbutton", name="Number").fill("4500")
    team.get_by_role("button", name="Submit the team").click()
    expect(page.get_by_text("Say why you adjust")).to_be_visible()
    team = page.get_by_role("region", name="Team roll-up")
    team.get_by_role("spinbutton", name="Number").fill("4500")
    team.get_by_role("textbox", name="Comment").fill("Solar roof may slip")
    team.get_by_role("button", name="Submit the team").click()
    expect(page.get_by_text("Number submitted.")).to_be_visible()
    expect(page.locator("#team-history")).to_contain_text("Solar roof may slip")
    screenshot("forecast-submissions")
