"""The rep's day in a browser: a next step created on a deal and ticked done on the home
page, and a note whose @mention reaches the person mentioned."""

import pytest
from playwright.sync_api import Page, expect

from crm.models import Note, Task
from tests.crm.factories import ContactFactory, DealFactory, PipelineFactory

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def deal(team, rep):
    contact = ContactFactory(team=team, owner=rep, name="Olga Ortiz")
    pipeline = PipelineFactory(team=team, name="Sales")
    return DealFactory(pipeline=pipeline, owner=rep, contact=contact, title="Solar roof")


def test_create_a_task_from_a_deal_and_tick_it_done_on_the_home_page(
    page: Page, live_server, rep, deal, login_as, screenshot
):
    login_as(rep)
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    activity = page.locator("#activity")
    expect(activity.get_by_text("No open next step")).to_be_visible()
    activity.get_by_text("Add a next step").click()
    activity.get_by_label("Next step", exact=True).fill("Send the offer")
    activity.get_by_label("Priority").select_option(label="High")
    activity.get_by_role("button", name="Add next step").click()
    expect(activity.get_by_role("checkbox", name="Done: Send the offer")).to_be_visible()
    expect(activity.get_by_text("No open next step")).to_have_count(0)
    screenshot("day-deal-next-step")

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/")
    day = page.locator("#day")
    box = day.get_by_role("checkbox", name="Done: Send the offer")
    expect(box).to_be_visible()
    expect(day.get_by_role("list", name="Tasks due today")).to_contain_text("Solar roof")
    screenshot("day-home-phone")
    box.check()
    expect(day.get_by_text("Nothing due today.")).to_be_visible()
    # The deal has no open task left (nor a meeting): it is flagged again.
    expect(day.locator(".no-next-step")).to_contain_text("Solar roof")
    screenshot("day-home-phone-done")
    task = Task.objects.get()
    assert task.completed_by == rep and task.completed_at is not None


def test_write_a_note_with_a_mention_and_see_the_notification(
    page: Page, live_server, rep, manager, deal, login_as, screenshot
):
    login_as(rep)
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    activity = page.locator("#activity")
    activity.get_by_label("Note", exact=True).fill(
        "@manager can you **call them** today?\n\n- offer sent\n- <script>x</script>"
    )
    activity.get_by_role("button", name="Add note").click()
    note = activity.locator(".entry-note")
    expect(note.locator("strong")).to_have_text("call them")
    expect(note).to_contain_text("<script>x</script>")  # shown as text, never run
    screenshot("day-note-written")

    page.context.clear_cookies()
    login_as(manager)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name="Menu").click()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Notifications")).to_contain_text("1")
    nav.get_by_role("link", name="Notifications").click()
    title = page.locator(".notification-title")
    expect(title).to_contain_text(f"{rep} mentioned you on {deal.title}")
    screenshot("day-mention-notification-phone")
    page.get_by_role("link", name="Open", exact=True).click()
    note_id = Note.objects.get().pk
    expect(page.locator(f"#note-{note_id}")).to_contain_text("call them")
