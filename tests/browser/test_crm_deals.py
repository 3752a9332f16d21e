from playwright.sync_api import Page, expect

from crm.models import Deal
from tests.crm.factories import ContactFactory, PipelineFactory


def test_open_a_deal_picking_its_contact_by_search(
    page: Page, live_server, rep, team, login_as, screenshot
):
    PipelineFactory(team=team, name="Sales", currency="EUR")
    ContactFactory(team=team, owner=rep, name="Olga Ortiz", email="olga@sun.example")
    ContactFactory.create_batch(5, team=team, owner=rep, name="Pavel Petrov")
    login_as(rep)
    page.goto(f"{live_server.url}/deals/new/")
    page.get_by_label("Pipeline and stage").select_option(label="Sales (EUR): Proposal")
    page.get_by_label("Title").fill("Solar roof")
    page.get_by_label("Value").fill("12500.50")
    page.get_by_label("Find a contact").press_sequentially("olg")
    page.get_by_label("Find a contact").press("Enter")
    contact = page.get_by_label("Contact", exact=False).and_(page.locator("select"))
    expect(contact).to_have_value(str(team.contacts.get(name="Olga Ortiz").pk))
    screenshot("deal-new-contact-picked")
    page.get_by_role("button", name="Open deal").click()
    expect(page.get_by_role("heading", name="Solar roof", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Deal Solar roof opened in Proposal.")
    expect(page.get_by_role("link", name="Olga Ortiz")).to_be_visible()
    deal = Deal.objects.get()
    assert (deal.value_cents, deal.contact.name) == (1_250_050, "Olga Ortiz")
