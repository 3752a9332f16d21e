"""Finance staff record revenue that did not come from a deal, and a forecast shows it as
actual revenue of its period; a rep sees only forecasts of their own deals."""

import datetime

import pytest
from playwright.sync_api import Page, expect

from crm.models import Deal
from finance.models import RevenueEntry
from finance.services import forecast_generate
from tests.crm.factories import PipelineFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_finance_enters_revenue_and_the_forecast_shows_it(
    page: Page, live_server, finance_user, team, login_as, screenshot
):
    today = datetime.date.today()
    forecast = forecast_generate(
        actor=finance_user,
        team=team,
        scope_user=None,
        period_type="monthly",
        start=today.replace(day=1),
        end=today,
        currency="EUR",
        name="This month",
    )
    login_as(finance_user)
    page.goto(live_server.url + "/forecasts/")
    page.get_by_role("link", name="Actual revenue: view and enter").click()
    expect(page.get_by_role("heading", name="Actual revenue")).to_be_visible()
    page.get_by_label("Amount").fill("0")
    page.get_by_label("Description").fill("Consulting retainer")
    page.get_by_role("button", name="Record revenue").click()
    expect(page.get_by_text("greater than or equal to 0.01")).to_be_visible()
    assert not RevenueEntry.objects.exists()
    page.get_by_label("Amount").fill("1234.50")
    page.get_by_label("Booked on").fill(today.isoformat())
    page.get_by_role("button", name="Record revenue").click()
    expect(page.get_by_role("status")).to_contain_text("Revenue “Consulting retainer” recorded.")
    expect(page.get_by_role("cell", name="€1,234.50")).to_be_visible()
    screenshot("finance-revenue")

    page.goto(f"{live_server.url}/forecasts/{forecast.pk}/")
    row = page.locator("#period-table tbody tr").first
    expect(row.locator("td").last).to_have_text("€1,234.50")


def test_a_rep_sees_only_forecasts_of_their_own_deals(
    page: Page, live_server, rep, manager, team, login_as, screenshot
):
    today = datetime.date.today()
    options = {
        "team": team,
        "period_type": "monthly",
        "start": today,
        "end": today,
        "currency": "EUR",
    }
    forecast_generate(actor=manager, scope_user=None, name="Team outlook", **options)
    forecast_generate(actor=manager, scope_user=rep, name="Rep outlook", **options)
    login_as(rep)
    page.goto(live_server.url + "/forecasts/")
    expect(page.get_by_role("link", name="Rep outlook")).to_be_visible()
    expect(page.get_by_role("link", name="Team outlook")).to_have_count(0)
    options_text = page.get_by_label("Whose deals").inner_text()
    assert "whole team" not in options_text
    screenshot("finance-index-rep")


def test_winning_a_deal_on_its_page_books_its_revenue(
    page: Page, live_server, rep, team, login_as, screenshot
):
    pipeline = PipelineFactory(team=team, name="Sales")
    deal = Deal.objects.create(
        pipeline=pipeline,
        stage=pipeline.stages.get(name="Proposal"),
        owner=rep,
        title="Solar roof",
        value_cents=420_000,
        currency="EUR",
        expected_close_date=datetime.date.today(),
    )
    login_as(rep)
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Close as won").click()
    expect(page.get_by_text("This deal is closed as won")).to_be_visible()
    page.goto(live_server.url + "/forecasts/revenue/")
    row = page.get_by_role("row", name="Won deal: Solar roof")
    expect(row).to_contain_text("€4,200.00")
    expect(row).to_contain_text("Won deal")
    assert RevenueEntry.objects.get(deal=deal).amount_cents == 420_000
    screenshot("finance-revenue-from-won-deal")
