from playwright.sync_api import Page, expect

from crm.models import Interaction
from tests.crm.factories import ContactFactory, InteractionFactory


def test_search_a_contact_open_it_and_log_a_call_without_reload(
    page: Page, live_server, rep, team, login_as, screenshot
):
    ContactFactory(team=team, owner=rep, name="Olga Ortiz", email="olga@sun.example")
    ContactFactory(team=team, owner=rep, name="Pavel Petrov")
    InteractionFactory.create_batch(3, contact__team=team, contact__name="Someone Else")
    login_as(rep)
    page.goto(live_server.url + "/contacts/")
    expect(page.get_by_role("link", name="Pavel Petrov")).to_be_visible()

    page.get_by_label("Search by name, email or organization").press_sequentially("olg")
    expect(page.get_by_role("link", name="Pavel Petrov")).to_be_hidden()
    expect(page).to_have_url(live_server.url + "/contacts/?q=olg")
    screenshot("contact-list-search")

    page.get_by_role("link", name="Olga Ortiz").click()
    expect(page.get_by_role("heading", name="Olga Ortiz", level=1)).to_be_visible()
    expect(page.get_by_text("Nothing on the timeline yet")).to_be_visible()
    page.evaluate("window.notReloaded = true")

    form = page.locator("#log-interaction")
    form.get_by_label("Type").select_option("call")
    form.get_by_label("Summary").fill("Talked about the solar roof")
    form.get_by_label("Details").fill("She wants a quote by Friday.")
    form.get_by_role("button", name="Log it").click()

    timeline = page.locator("#timeline")
    expect(timeline.get_by_text("Talked about the solar roof")).to_be_visible()
    expect(timeline.get_by_text("Call", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Logged: Talked about the solar roof")
    expect(form.get_by_label("Summary")).to_have_value("")
    assert page.evaluate("window.notReloaded") is True
    assert Interaction.objects.filter(contact__name="Olga Ortiz").count() == 1
    screenshot("contact-detail-after-log")


def test_the_timeline_loads_older_entries_on_scroll(
    page: Page, live_server, rep, team, login_as, screenshot
):
    contact = ContactFactory(team=team, owner=rep, name="Olga Ortiz")
    InteractionFactory.create_batch(45, contact=contact)
    login_as(rep)
    page.goto(f"{live_server.url}/contacts/{contact.pk}/")
    entries = page.locator("#timeline li.timeline-entry")
    expect(entries).to_have_count(20)
    page.locator("#timeline .timeline-more").scroll_into_view_if_needed()
    expect(entries).to_have_count(40)
    page.locator("#timeline .timeline-more").scroll_into_view_if_needed()
    expect(entries).to_have_count(45)
    expect(page.locator("#timeline .timeline-more")).to_have_count(0)


def test_a_logging_error_is_shown_in_place_on_a_phone(
    page: Page, live_server, rep, team, login_as, screenshot
):
    page.set_viewport_size({"width": 390, "height": 844})
    contact = ContactFactory(team=team, owner=rep, name="Olga Ortiz", email="olga@sun.example")
    login_as(rep)
    page.goto(f"{live_server.url}/contacts/{contact.pk}/")
    page.get_by_label("Summary").fill("   ")
    page.get_by_role("button", name="Log it").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the fields marked below.")
    expect(page.get_by_text("This field is required.")).to_be_visible()
    screenshot("contact-detail-phone-error")
    assert not Interaction.objects.exists()
