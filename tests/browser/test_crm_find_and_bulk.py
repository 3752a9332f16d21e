"""Tags, the one search and bulk actions, as a person uses them in the browser."""

from playwright.sync_api import Page, expect

from crm.models import Contact, Deal
from tests.crm.factories import ContactFactory, DealFactory, PipelineFactory


def test_tag_three_contacts_at_once_and_filter_by_the_tag(
    page: Page, live_server, rep, team, login_as, screenshot
):
    for name in ("Ada Arendt", "Bo Berg", "Cleo Cruz", "Dan Dahl"):
        ContactFactory(team=team, owner=rep, name=name)
    login_as(rep)
    page.goto(f"{live_server.url}/contacts/")

    # Mouse on a row, shift-click for a range, the keyboard for the last one.
    page.get_by_role("row", name="Ada Arendt").get_by_role("cell").nth(2).click()
    page.get_by_label("Select Bo Berg").click(modifiers=["Shift"])
    page.get_by_label("Select Cleo Cruz").focus()
    page.keyboard.press("Space")
    expect(page.locator("[data-bulk-count]")).to_have_text("3")

    page.get_by_label("With the selected rows").select_option(label="Add tags")
    page.get_by_label("Tags", exact=True).fill("Fair 2027")
    screenshot("contacts-bulk-tag")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status")).to_contain_text("Tags added to 3 contacts.")

    page.get_by_text("Filter by tags").click()
    page.get_by_label("Fair 2027").check()
    expect(page.locator("#results")).to_contain_text("3 contacts tagged Fair 2027")
    expect(page.locator("#results")).not_to_contain_text("Dan Dahl")
    assert "tag=Fair%202027" in page.url
    screenshot("contacts-filtered-by-tag")
    assert Contact.objects.filter(tags__name="Fair 2027").count() == 3


def test_find_a_deal_with_slash_from_any_page(
    page: Page, live_server, rep, team, login_as, screenshot
):
    pipeline = PipelineFactory(team=team, name="Sales")
    deal = DealFactory(pipeline=pipeline, owner=rep, title="Solar roof for the school")
    ContactFactory(team=team, owner=rep, name="Sol Lindqvist")
    login_as(rep)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/calendar/")

    page.keyboard.press("/")
    expect(page.locator("#top-search")).to_be_focused()
    page.keyboard.type("solar")
    results = page.locator("#top-search-results")
    expect(results.get_by_role("heading", name="Deals")).to_be_visible()
    expect(results.get_by_role("link", name="Solar roof for the school")).to_be_visible()
    screenshot("search-dropdown-390")

    page.keyboard.press("ArrowDown")
    expect(results.get_by_role("link", name="Solar roof for the school")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/deals/{deal.pk}/")
    expect(page.get_by_role("heading", name="Solar roof for the school", level=1)).to_be_visible()


def test_slash_in_a_text_field_types_a_slash(page: Page, live_server, rep, team, login_as):
    login_as(rep)
    page.goto(f"{live_server.url}/contacts/")
    field = page.get_by_label("Search by name, email or organization")
    field.click()
    page.keyboard.type("a/b")
    expect(field).to_have_value("a/b")
    expect(page.locator("#top-search")).not_to_be_focused()


def test_move_the_selected_deals_to_another_stage(
    page: Page, live_server, rep, team, login_as, screenshot
):
    pipeline = PipelineFactory(team=team, name="Sales")
    lead = pipeline.stages.get(name="Lead")
    for title in ("Heat pump", "Wind share", "Roof garden"):
        DealFactory(pipeline=pipeline, owner=rep, stage=lead, title=title)
    login_as(rep)
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{live_server.url}/deals/")

    page.get_by_label("Select every deal on this page").check()
    expect(page.locator("[data-bulk-count]")).to_have_text("3")
    page.get_by_label("With the selected rows").select_option(label="Change stage")
    expect(page.get_by_label("Tags", exact=True)).to_be_hidden()
    page.get_by_label("New stage").select_option(label="Sales: Negotiation")
    screenshot("deals-bulk-stage-390")
    page.get_by_role("button", name="Apply").click()

    expect(page.get_by_role("status")).to_contain_text("Moved to Negotiation: 3 deals.")
    assert set(Deal.objects.values_list("stage__name", flat=True)) == {"Negotiation"}


def test_tag_a_deal_on_its_page_as_you_type(
    page: Page, live_server, rep, team, login_as, screenshot
):
    pipeline = PipelineFactory(team=team, name="Sales")
    deal = DealFactory(pipeline=pipeline, owner=rep, title="Community solar")
    other = DealFactory(pipeline=pipeline, owner=rep, title="Older deal")
    other.tags.create(team=team, name="Priority", color="red")
    login_as(rep)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/deals/{deal.pk}/")

    page.get_by_label("Add a tag").press_sequentially("Pri")
    expect(page.locator("#record-tag-options option[value='Priority']")).to_have_count(1)
    page.get_by_label("Add a tag").fill("Priority")
    page.get_by_label("Add a tag").press("Enter")
    expect(page.get_by_role("button", name="Remove the tag Priority")).to_be_visible()
    screenshot("deal-page-tagged-390")
    assert list(deal.tags.values_list("name", flat=True)) == ["Priority"]

    page.get_by_role("button", name="Remove the tag Priority").click()
    expect(page.get_by_role("button", name="Remove the tag Priority")).to_have_count(0)
    assert not deal.tags.exists()
