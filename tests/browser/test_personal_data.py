import json

from playwright.sync_api import Page, expect

from crm.models import Contact
from tests.crm.factories import ContactFactory, InteractionFactory


def test_a_manager_downloads_then_erases_a_persons_data(
    page: Page, live_server, manager, team, login_as, screenshot, tmp_path
):
    contact = ContactFactory(team=team, owner=manager, name="Ann Archer", email="ann@x.example")
    InteractionFactory(contact=contact, summary="Called Ann")
    login_as(manager)
    page.goto(f"{live_server.url}/contacts/{contact.pk}/")
    page.get_by_role("link", name="Personal data").click()
    expect(page.get_by_role("heading", name="Personal data of Ann Archer")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as JSON").click()
    saved = tmp_path / "data.json"
    download.value.save_as(saved)
    assert json.loads(saved.read_text())["interactions"][0]["summary"] == "Called Ann"
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("personal-data-phone")

    page.get_by_label("I confirm the erasure of Ann Archer").check()
    page.get_by_role("button", name="Erase this person's data").click()
    expect(page.get_by_text("The person's data was erased.")).to_be_visible()
    assert not Contact.objects.exists()
