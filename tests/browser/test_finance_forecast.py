"""A finance person generates a forecast, reads its chart, plays with a what-if lever and
downloads the XLSX; a phone-sized check of the same page."""

import datetime
import io
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from crm.models import Deal
from finance.models import RevenueForecast
from tests.crm.factories import PipelineFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def deals(team, rep):
    pipeline = PipelineFactory(team=team, name="Sales")
    stages = {stage.name: stage for stage in pipeline.stages.all()}
    today = datetime.date.today()
    for index, (stage, value) in enumerate(
        [("Lead", 400_000), ("Proposal", 250_000), ("Negotiation", 900_000), ("Proposal", 120_000)]
    ):
        Deal.objects.create(
            pipeline=pipeline,
            stage=stages[stage],
            owner=rep,
            title=f"Deal {index}",
            value_cents=value,
            currency="EUR",
            expected_close_date=today + datetime.timedelta(days=10 + 25 * index),
        )


def test_finance_generates_a_forecast_plays_what_if_and_downloads_xlsx(
    page: Page, live_server, finance_user, deals, login_as, screenshot
):
    problems = []

    def on_console(message):
        # The site has no favicon yet: Chromium's automatic /favicon.ico request 404s.
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    login_as(finance_user)
    page.goto(live_server.url + "/forecasts/")
    expect(page.get_by_role("heading", name="Forecasts", exact=True)).to_be_visible()
    screenshot("finance-index")
    today = datetime.date.today()
    page.get_by_label("Whose deals").select_option(label="North — whole team")
    page.get_by_label("Periods").select_option(label="Month")
    page.get_by_label("From").fill(today.isoformat())
    page.get_by_label("To").fill((today + datetime.timedelta(days=120)).isoformat())
    page.get_by_label("Name").fill("Next four months")
    page.get_by_role("button", name="Generate forecast").click()

    expect(page.get_by_role("heading", name="Next four months")).to_be_visible()
    forecast = RevenueForecast.objects.get()
    expect(page.locator("#forecast-chart")).to_have_attribute("data-ready", "true")
    expect(page.locator("#forecast-total")).to_have_text("€9,450.00")
    expect(page.get_by_role("table").first).to_contain_text("P90")
    screenshot("finance-forecast")

    lead = page.get_by_label("Lead (1 deal): win probability (%)")
    lead.fill("60")
    expect(page.locator("#whatif-total")).to_have_text("€11,450.00")
    expect(page.locator("#whatif-delta")).to_have_text("+€2,000.00")
    page.get_by_label("Change open deal values by (%)").fill("-10")
    expect(page.locator("#whatif-total")).to_have_text("€10,305.00")
    assert RevenueForecast.objects.count() == 1
    screenshot("finance-what-if")

    with page.expect_download() as info:
        page.get_by_role("link", name="Export XLSX").click()
    download = info.value
    assert download.suggested_filename == "forecast-next-four-months.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    assert workbook.sheetnames == ["Summary", "Periods", "Deals"]
    assert workbook["Deals"].max_row == 5

    page.get_by_label("Scenario name").fill("Optimistic leads")
    page.get_by_role("button", name="Save as scenario").click()
    expect(page.get_by_role("heading", name="Optimistic leads")).to_be_visible()
    expect(page.locator("#forecast-total")).to_have_text("€10,305.00")
    assert RevenueForecast.objects.get(baseline=forecast).name == "Optimistic leads"
    assert problems == []


def test_the_forecast_page_reads_on_a_phone(
    page: Page, live_server, manager, team, deals, login_as, screenshot
):
    from finance.services import forecast_generate

    today = datetime.date.today()
    forecast = forecast_generate(
        actor=manager,
        team=team,
        scope_user=None,
        period_type="monthly",
        start=today,
        end=today + datetime.timedelta(days=120),
        currency="EUR",
    )
    page.set_viewport_size({"width": 390, "height": 844})
    login_as(manager)
    page.goto(f"{live_server.url}/forecasts/{forecast.pk}/")
    expect(page.locator("#forecast-chart")).to_have_attribute("data-ready", "true")
    screenshot("finance-forecast-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"{live_server.url}/forecasts/")
    expect(page.get_by_role("button", name="Generate forecast")).to_be_in_viewport()
    screenshot("finance-index-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
