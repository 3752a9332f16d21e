"""Submissions charted against what was won (at desktop and phone width), and a manager
refitting the learned probabilities that the deal page then explains."""

import datetime

import pytest
from playwright.sync_api import Page, expect

from crm.models import Deal, DealStatus, StageVisit
from finance.models import ForecastSubmission, SubmissionLevel
from tests.crm.factories import DealFactory, PipelineFactory
from tests.finance.factories import RevenueEntryFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _month(offset: int) -> datetime.date:
    today = datetime.date.today().replace(day=1)
    index = today.year * 12 + today.month - 1 + offset
    return datetime.date(index // 12, index % 12 + 1, 1)


@pytest.fixture
def history(team, rep):
    """Three ended months, each with the rep's number (submitted early in the month) and
    the revenue they won."""
    for offset, (number, won) in zip(
        (-3, -2, -1), ((800_000, 1_000_000), (1_200_000, 900_000), (500_000, 600_000)), strict=True
    ):
        first = _month(offset)
        RevenueEntryFactory(team=team, owner=rep, booked_on=first, amount_cents=won)
        ForecastSubmission.objects.create(
            team=team,
            submitted_by=rep,
            level=SubmissionLevel.REP,
            period_type="monthly",
            period_start=first,
            amount_cents=number,
            currency="EUR",
            commit_cents=number,
            submitted_at=datetime.datetime.combine(first, datetime.time(9), datetime.UTC),
        )


def test_a_rep_sees_their_numbers_charted_against_what_was_won(
    page: Page, live_server, rep, history, login_as, screenshot
):
    login_as(rep)
    page.goto(live_server.url + "/forecasts/submissions/")
    chart = page.get_by_role("img", name="Last number of each ended month against what was won")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.bar")).to_have_count(6)
    expect(page.locator("#own-history-vs-won tbody tr")).to_have_count(3)
    expect(page.get_by_text("MAPE 23 %")).to_be_visible()  # (20 + 33 + 17) / 3 = 23.3
    screenshot("submissions-chart")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(chart).to_be_visible()
    screenshot("submissions-chart-390")
    box = chart.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    chart.scroll_into_view_if_needed()
    screenshot("submissions-chart-390")


def test_a_manager_refits_and_the_deal_page_explains_the_learned_probability(
    page: Page, live_server, rep, manager, team, login_as, screenshot
):
    pipeline = PipelineFactory(team=team, name="Sales")
    proposal = pipeline.stages.get(name="Proposal")
    closed = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=200)
    for index in range(10):
        won = index < 3
        deal = Deal.objects.create(
            pipeline=pipeline,
            stage=pipeline.stages.get(is_won=won, is_lost=not won),
            title=f"Past {index}",
            value_cents=100_000,
            currency="EUR",
            status=DealStatus.WON if won else DealStatus.LOST,
            closed_at=closed,
        )
        StageVisit.objects.create(
            deal=deal,
            stage_id=proposal.pk,
            stage_name="Proposal",
            entered_at=closed - datetime.timedelta(days=2),
            left_at=closed,
        )
    open_deal = DealFactory(pipeline=pipeline, stage=proposal, owner=rep, title="Solar roof")

    login_as(manager)
    page.goto(live_server.url + "/forecasts/probabilities/")
    expect(page.get_by_text("Learned probabilities not fitted yet")).to_be_visible()
    page.get_by_role("button", name="Refit learned probabilities now").click()
    expect(page.get_by_text("Learned probabilities refit: 1 record for North.")).to_be_visible()
    expect(page.get_by_text("Learned probabilities last refit")).to_be_visible()
    screenshot("probabilities-refit")

    page.goto(f"{live_server.url}/deals/{open_deal.pk}/")
    # (3 + 20 x 0.5) / (10 + 20) = 43.3 %
    expect(page.locator("#learned-probability")).to_contain_text(
        "43 % — deals in Proposal for 0+ days in this pipeline won 3 of 10 times"
    )
