"""Editing a note and cancelling puts the note back in place: the rest of the page (a draft
being typed in another form) is left as it was, on a contact's timeline and on a deal."""

import pytest
from playwright.sync_api import Page, expect

from tests.crm.factories import ContactFactory, DealFactory, NoteFactory, PipelineFactory


@pytest.fixture
def contact(team, rep):
    return ContactFactory(team=team, owner=rep, name="Olga Ortiz")


@pytest.fixture
def deal(team, rep, contact):
    pipeline = PipelineFactory(team=team, name="Sales")
    return DealFactory(pipeline=pipeline, owner=rep, contact=contact, title="Solar roof")


@pytest.mark.parametrize("on", ["contact", "deal"])
def test_cancelling_a_note_edit_restores_the_note_and_keeps_the_draft(
    page: Page, live_server, rep, contact, deal, login_as, screenshot, on
):
    if on == "contact":
        note = NoteFactory(deal=None, contact=contact, author=rep, body="Met **Olga** at the fair")
        url = f"{live_server.url}/contacts/{contact.pk}/"
    else:
        note = NoteFactory(deal=deal, author=rep, body="Met **Olga** at the fair")
        url = f"{live_server.url}/deals/{deal.pk}/"
    login_as(rep)
    page.goto(url)
    activity = page.locator("#activity")
    activity.get_by_label("Note", exact=True).fill("A draft not yet saved")
    entry = page.locator(f"#note-{note.pk}")
    entry.get_by_role("link", name="Edit note").click()
    editor = entry.get_by_role("textbox")
    expect(editor).to_have_value("Met **Olga** at the fair")
    editor.fill("Changed my mind")
    screenshot(f"note-edit-{on}")

    entry.get_by_role("link", name="Cancel").click()

    expect(entry.locator("strong")).to_have_text("Olga")
    expect(entry.get_by_role("textbox")).to_have_count(0)
    expect(entry.get_by_role("link", name="Edit note")).to_be_visible()
    # Only the note was swapped: the draft in the new-note form is still there.
    expect(activity.get_by_label("Note", exact=True)).to_have_value("A draft not yet saved")
    note.refresh_from_db()
    assert note.body == "Met **Olga** at the fair"
    screenshot(f"note-edit-cancelled-{on}")
