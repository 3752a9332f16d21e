"""A manager edits a next step in place on a contact's page (a new due date, another
assignee), and the contact's timeline shows a note and a done task among its entries."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from calendar_app.models import Notification
from crm.models import Task
from crm.next_steps import task_complete, task_create
from crm.notes import note_create
from tests.crm.factories import ContactFactory

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def contact(team, rep):
    return ContactFactory(team=team, owner=rep, name="Olga Ortiz")


def test_a_manager_moves_and_reassigns_a_task_and_the_timeline_shows_notes_and_done_tasks(
    page: Page, live_server, rep, manager, contact, login_as, screenshot
):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    new_day = tomorrow + datetime.timedelta(days=6)
    task = task_create(
        actor=manager, record=contact, title="Call about the roof", due_date=tomorrow
    )
    done = task_create(actor=rep, record=contact, title="Send the brochure", due_date=tomorrow)
    task_complete(actor=rep, task=done)
    note_create(actor=rep, record=contact, body=f"Met at the fair, ask @{manager.username}")

    login_as(manager)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/contacts/{contact.pk}/")
    timeline = page.locator("#timeline")
    expect(timeline.locator(".entry-note")).to_contain_text("Met at the fair")
    expect(timeline.locator(".entry-note mark.mention")).to_have_text(f"@{manager.username}")
    expect(timeline.locator(".entry-task")).to_contain_text("Send the brochure")
    expect(page.get_by_text("Met at the fair")).to_have_count(1)  # once per page
    screenshot("timeline-note-and-done-task-phone")

    item = timeline.locator(f"#task-{task.pk}")
    item.get_by_role("link", name="Edit Call about the roof").click()
    form = page.locator(f"#task-{task.pk} form")
    form.get_by_label("Due").fill(new_day.isoformat())
    form.get_by_label("Assignee").select_option(label=str(rep))
    screenshot("timeline-task-edit-phone")
    form.get_by_role("button", name="Save next step").click()
    moved = page.locator("#timeline").locator(f"#task-{task.pk}")
    expect(moved).to_contain_text(f"{new_day:%a} {new_day.day} {new_day:%b}")
    expect(moved).to_contain_text(str(rep))
    screenshot("timeline-task-moved-phone")

    task.refresh_from_db()
    assert (task.due_date, task.assignee) == (new_day, rep)
    assert Notification.objects.filter(user=rep, title__contains="Call about the roof").exists()
    assert Task.objects.filter(contact=contact, completed_at__isnull=True).count() == 1
