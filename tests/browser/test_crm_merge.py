from playwright.sync_api import Page, expect

from crm.models import Contact, Interaction
from tests.crm.factories import ContactFactory, InteractionFactory, OrganizationFactory


def test_merge_two_contacts_from_the_duplicates_page(
    page: Page, live_server, rep, team, login_as, screenshot
):
    acme = OrganizationFactory(team=team, name="Acme")
    keep = ContactFactory(
        team=team, owner=rep, name="Jean Dupont", email="", phone="", organization=acme
    )
    other = ContactFactory(
        team=team, owner=rep, name="Jean Dupond", email="jean@acme.example", organization=acme
    )
    InteractionFactory(contact=keep, summary="First call")
    InteractionFactory(contact=other, summary="Second call")
    login_as(rep)
    page.goto(live_server.url + "/duplicates/")
    expect(page.get_by_text("similar names in the same organization")).to_be_visible()
    screenshot("duplicates")
    page.get_by_role("link", name="Merge…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Merge")
    page.get_by_label("jean@acme.example").check()
    screenshot("merge-form")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("merge-form-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Merge", exact=True).click()

    expect(page.get_by_text("was merged into")).to_be_visible()
    timeline = page.locator("#timeline")
    expect(timeline.get_by_text("First call")).to_be_visible()
    expect(timeline.get_by_text("Second call")).to_be_visible()
    merged = Contact.objects.get()
    assert merged.email == "jean@acme.example"
    assert Interaction.objects.filter(contact=merged).count() == 2
