import datetime
import re

import pytest
from playwright.sync_api import Page, expect

from crm.models import Deal
from tests.crm.factories import DealFactory, PipelineFactory


@pytest.fixture
def board(team, rep):
    pipeline = PipelineFactory(team=team, name="Sales", currency="EUR")
    DealFactory(pipeline=pipeline, owner=rep, title="Solar roof", value_cents=250_000)
    DealFactory(pipeline=pipeline, owner=rep, title="Heat pump", value_cents=100_000)
    return pipeline


def _column(page: Page, name: str):
    return page.locator(".board-column").filter(has=page.get_by_role("heading", name=name))


def test_drag_a_deal_to_another_stage_and_see_the_totals_change(
    page: Page, live_server, rep, board, login_as, screenshot
):
    login_as(rep)
    page.goto(f"{live_server.url}/pipelines/{board.pk}/")
    lead, proposal = _column(page, "Lead"), _column(page, "Proposal")
    expect(lead.locator(".column-totals")).to_have_text("2 deals · €3,500.00")
    expect(proposal.locator(".column-totals")).to_have_text("0 deals · €0.00")
    screenshot("board-before-drag")
    page.evaluate("window.notReloaded = true")

    lead.locator(".deal-card", has_text="Solar roof").drag_to(proposal)

    expect(proposal.locator(".column-totals")).to_have_text("1 deal · €2,500.00")
    expect(lead.locator(".column-totals")).to_have_text("1 deal · €1,000.00")
    expect(proposal.get_by_role("link", name="Solar roof")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Moved Solar roof to Proposal.")
    assert page.evaluate("window.notReloaded") is True
    assert board.deals.get(title="Solar roof").stage.name == "Proposal"
    screenshot("board-after-drag")


def test_move_a_deal_with_the_keyboard(page: Page, live_server, rep, board, login_as, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    login_as(rep)
    page.goto(f"{live_server.url}/pipelines/{board.pk}/")
    select = page.get_by_label("Move Heat pump to")
    select.focus()
    select.select_option(label="Negotiation")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Move Heat pump")).to_be_focused()
    page.keyboard.press("Enter")
    expect(_column(page, "Negotiation").locator(".column-totals")).to_have_text(
        "1 deal · €1,000.00"
    )
    expect(_column(page, "Lead").locator(".column-totals")).to_have_text("1 deal · €2,500.00")
    expect(page.get_by_role("link", name="Heat pump")).to_be_focused()
    screenshot("board-phone-after-keyboard-move")


def test_close_a_deal_as_won_from_its_page(
    page: Page, live_server, rep, board, login_as, screenshot
):
    login_as(rep)
    page.goto(f"{live_server.url}/pipelines/{board.pk}/")
    page.get_by_role("link", name="Solar roof").click()
    expect(page.get_by_role("heading", name="Solar roof", level=1)).to_be_visible()
    screenshot("deal-detail-open")
    dialogs = []

    def answer(dialog, accept):
        dialogs.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.get_by_role("button", name="Close as won").click()
    expect(page.get_by_role("button", name="Close as won")).to_be_visible()
    assert board.deals.get(title="Solar roof").status == "open"
    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    page.get_by_role("button", name="Close as won").click()
    expect(page.get_by_role("status")).to_contain_text("Solar roof closed as won.")
    expect(page.get_by_role("button", name="Close as won")).to_have_count(0)
    expect(page.get_by_text("This deal is closed as won")).to_be_visible()
    assert dialogs == ["Close “Solar roof” as won? Only a manager can reopen it."] * 2
    screenshot("deal-detail-won")


def test_crm_pages_raise_no_csp_violations_or_script_errors(
    page: Page, live_server, rep, board, login_as
):
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    deal = board.deals.first()
    login_as(rep)
    for path in [
        "/contacts/",
        "/contacts/new/",
        "/pipelines/",
        f"/pipelines/{board.pk}/",
        f"/deals/{deal.pk}/",
        f"/deals/{deal.pk}/edit/",
        "/deals/new/",
        "/deals/",
    ]:
        page.goto(live_server.url + path)
        expect(page.locator("main h1")).to_be_visible()
    assert problems == []


def test_filter_the_deal_list_as_you_type(
    page: Page, live_server, rep, board, login_as, screenshot
):
    login_as(rep)
    page.goto(f"{live_server.url}/deals/")
    expect(page.get_by_role("link", name="Heat pump")).to_be_visible()
    page.get_by_label("Search by title or contact").press_sequentially("solar")
    expect(page.get_by_role("link", name="Heat pump")).to_be_hidden()
    expect(page.get_by_role("link", name="Solar roof")).to_be_visible()
    page.get_by_label("Status").select_option("won")
    expect(page.get_by_text("No deal matches these filters.")).to_be_visible()
    screenshot("deal-list-filtered")


@pytest.fixture
def busy_board(team, rep, manager):
    """Sales with 60 open deals in Lead, Deal 00 closing first, every third one the
    manager's."""
    pipeline = PipelineFactory(team=team, name="Sales", currency="EUR")
    lead = pipeline.stages.get(name="Lead")
    today = datetime.date(2027, 1, 1)
    Deal.objects.bulk_create(
        Deal(
            pipeline=pipeline,
            stage=lead,
            owner=manager if i % 3 == 0 else rep,
            title=f"Deal {i:02d}",
            value_cents=10_000,
            currency="EUR",
            expected_close_date=today + datetime.timedelta(days=i),
        )
        for i in range(60)
    )
    return pipeline


def _load_more(page: Page, column):
    """Scroll the column's list to its end, as a person does, until the next page loads."""
    before = column.locator(".deal-card").count()
    column.locator(".more-cards").scroll_into_view_if_needed()
    expect(column.locator(".deal-card")).not_to_have_count(before)


def test_scroll_a_column_to_load_more_cards(
    page: Page, live_server, rep, busy_board, login_as, screenshot
):
    login_as(rep)
    page.goto(f"{live_server.url}/pipelines/{busy_board.pk}/")
    lead = _column(page, "Lead")
    expect(lead.locator(".column-totals")).to_have_text("60 deals · €6,000.00")
    expect(lead.locator(".deal-card")).to_have_count(25)
    _load_more(page, lead)
    expect(lead.locator(".deal-card")).to_have_count(50)
    _load_more(page, lead)
    expect(lead.locator(".deal-card")).to_have_count(60)
    expect(lead.locator(".more-cards")).to_have_count(0)
    titles = lead.locator(".deal-title").all_inner_texts()
    assert titles == [f"Deal {i:02d}" for i in range(60)]
    screenshot("board-column-scrolled")


def test_filter_the_board_by_owner_and_text(
    page: Page, live_server, rep, manager, busy_board, login_as, screenshot
):
    page.set_viewport_size({"width": 390, "height": 844})
    login_as(rep)
    page.goto(f"{live_server.url}/pipelines/{busy_board.pk}/")
    lead = _column(page, "Lead")
    page.get_by_label("Owner").select_option(label=manager.display_name or manager.username)
    expect(lead.locator(".column-totals")).to_have_text("20 deals · €2,000.00")
    expect(page).to_have_url(re.compile(f"owner={manager.pk}"))
    page.get_by_label("Search by title, contact or organization").press_sequentially("deal 3")
    expect(lead.locator(".column-totals")).to_have_text("4 deals · €400.00")
    expect(lead.locator(".deal-title")).to_have_text(["Deal 30", "Deal 33", "Deal 36", "Deal 39"])
    expect(
        _column(page, "Proposal").get_by_text("No open deal matches the filter.")
    ).to_be_visible()
    screenshot("board-phone-filtered")
    page.reload()
    expect(lead.locator(".column-totals")).to_have_text("4 deals · €400.00")


def test_drag_a_card_of_a_later_page_to_another_column(
    page: Page, live_server, rep, busy_board, login_as, screenshot
):
    login_as(rep)
    page.goto(f"{live_server.url}/pipelines/{busy_board.pk}/")
    lead, proposal = _column(page, "Lead"), _column(page, "Proposal")
    _load_more(page, lead)
    card = lead.locator(".deal-card", has_text="Deal 40")
    # The drag's events as the browser sends them (a scrolled list moves under a synthetic
    # mouse drag): dragstart on the card, dragover and drop on the column.
    transfer = page.evaluate_handle("() => new DataTransfer()")
    card.dispatch_event("dragstart", {"dataTransfer": transfer})
    proposal.dispatch_event("dragover", {"dataTransfer": transfer})
    proposal.dispatch_event("drop", {"dataTransfer": transfer})
    expect(proposal.locator(".column-totals")).to_have_text("1 deal · €100.00")
    expect(lead.locator(".column-totals")).to_have_text("59 deals · €5,900.00")
    expect(proposal.get_by_role("link", name="Deal 40")).to_be_visible()
    expect(lead.get_by_role("link", name="Deal 40")).to_have_count(0)
    assert busy_board.deals.get(title="Deal 40").stage.name == "Proposal"
    screenshot("board-later-card-dragged")


def test_move_a_card_of_a_later_page_with_the_keyboard(
    page: Page, live_server, rep, busy_board, login_as
):
    login_as(rep)
    page.goto(f"{live_server.url}/pipelines/{busy_board.pk}/")
    lead = _column(page, "Lead")
    _load_more(page, lead)
    select = page.get_by_label("Move Deal 45 to")
    select.focus()
    select.select_option(label="Negotiation")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    negotiation = _column(page, "Negotiation")
    expect(negotiation.locator(".column-totals")).to_have_text("1 deal · €100.00")
    expect(lead.locator(".column-totals")).to_have_text("59 deals · €5,900.00")
    expect(negotiation.get_by_role("link", name="Deal 45")).to_be_focused()
