"""A manager runs the pipeline without the admin: adds a stage and reorders it (by drag and by
keyboard), reassigns two deals at once, closes a deal as lost with a reason, and finds it in
the win/loss report."""

import pytest
from playwright.sync_api import Page, expect

from coop.models import Role
from crm.models import Deal
from tests.coop.factories import MembershipFactory
from tests.crm.factories import DealFactory, PipelineFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pipeline(team, rep):
    pipeline = PipelineFactory(team=team, name="Sales", currency="EUR")
    for title in ("Solar roof", "Heat pump", "Wind turbine"):
        DealFactory(pipeline=pipeline, owner=rep, title=title, value_cents=250_000)
    return pipeline


def _stage_names(page: Page) -> list[str]:
    return page.locator("#stage-list .stage-row input[name=name]").evaluate_all(
        "inputs => inputs.map(input => input.value)"
    )


def test_a_manager_sets_up_the_pipeline_reassigns_closes_as_lost_and_reads_the_report(
    page: Page, live_server, manager, team, pipeline, login_as, screenshot
):
    colleague = MembershipFactory(
        team=team, role=Role.REP, user__username="colleague", user__display_name="Cleo Colleague"
    ).user
    page.set_viewport_size({"width": 390, "height": 844})
    login_as(manager)

    # Add a stage, then drag it before Proposal, then move it up once more by keyboard.
    page.goto(f"{live_server.url}/pipelines/")
    page.get_by_role("link", name="Settings of Sales").click()
    page.get_by_label("Name", exact=True).last.fill("Demo")
    page.get_by_label("Probability %").last.fill("40")
    page.get_by_role("button", name="Add stage").click()
    expect(page.get_by_role("status")).to_contain_text("Stage Demo added.")
    assert _stage_names(page) == ["Lead", "Proposal", "Negotiation", "Demo", "Won", "Lost"]
    demo = page.locator(".stage-row", has=page.locator("input[value=Demo]"))
    proposal = page.locator(".stage-row", has=page.locator("input[value=Proposal]"))
    page.set_viewport_size({"width": 1280, "height": 1400})
    with page.expect_response(lambda r: r.url.endswith("/settings/") and r.status == 200):
        demo.drag_to(proposal, source_position={"x": 8, "y": 8}, target_position={"x": 8, "y": 4})
    expect(page.locator("#stage-list .stage-row").nth(1)).to_have_attribute(
        "data-stage", str(pipeline.stages.get(name="Demo").pk)
    )
    assert list(pipeline.stages.order_by("position").values_list("name", flat=True)[:3]) == [
        "Lead",
        "Demo",
        "Proposal",
    ]
    page.set_viewport_size({"width": 390, "height": 844})
    up = page.get_by_role("button", name="Move Demo up")
    up.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Stage Demo moved up.")
    assert _stage_names(page)[:3] == ["Demo", "Lead", "Proposal"]
    screenshot("pipeline-settings-phone")

    # Reassign two deals at once from the deal list.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/deals/")
    page.get_by_label("Select Solar roof").check()
    page.get_by_label("Select Heat pump").check()
    page.get_by_label("With the selected rows").select_option(label="Assign owner")
    page.get_by_label("New owner").select_option(label="Cleo Colleague")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status")).to_contain_text("Cleo Colleague now owns 2 deals.")
    owners = dict(Deal.objects.values_list("title", "owner_id"))
    assert owners["Solar roof"] == owners["Heat pump"] == colleague.pk
    assert owners["Wind turbine"] != colleague.pk
    screenshot("deal-list-after-bulk-reassign")

    # Close one as lost, with a reason.
    page.get_by_role("link", name="Wind turbine").click()
    page.get_by_text("Close as lost…").click()
    page.get_by_label("Why was it lost?").select_option(label="Chose a competitor")
    page.get_by_label("Comment").fill("Went with the cheaper installer")
    page.get_by_role("button", name="Close as lost", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Wind turbine closed as lost.")
    expect(page.locator("#deal-lost-reason")).to_contain_text("Chose a competitor")
    expect(page.locator("#owner-card")).to_contain_text("Owner")

    # The win/loss report shows it, in its chart and its table.
    page.get_by_role("link", name="Reports").click()
    page.get_by_role("link", name="Win/loss").click()
    table = page.locator(".report-table")
    expect(table.get_by_role("row", name="By lost reason Chose a competitor")).to_be_visible()
    expect(page.locator(".bar-chart").filter(has_text="Chose a competitor")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("report-win-loss-phone")
