"""Notes: safe Markdown, author-only edits, and @mentions that notify once."""

import re

import pytest
from django.core.exceptions import ValidationError

from calendar_app.models import Notification
from crm.models import Note, NoteMention
from crm.notes import mentioned_usernames, note_create, note_delete, note_html, note_update
from tests.catalogues import compile_catalogues
from tests.coop.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_markdown_is_rendered():
    html = note_html("**Offer** sent, see [the site](https://example.coop).\n\n- one\n- two")
    assert "<strong>Offer</strong>" in html
    assert '<a href="https://example.coop" rel="noopener noreferrer nofollow">the site</a>' in html
    assert "<li>one</li>" in html


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="https://x" onclick="alert(1)">x</a>',
        "![x](https://tracker.example/pixel.png)",
    ],
)
def test_raw_html_scripts_and_dangerous_links_never_reach_the_page(body):
    html = note_html(body).lower()
    assert "<script" not in html
    assert not re.search(r"<[^>]*\bon\w+=", html)  # no event handler on a real tag
    assert 'href="javascript:' not in html
    assert "<img" not in html


def test_mentions_are_read_from_the_text():
    assert mentioned_usernames("Ask @ann and @bob.smith, then @Ann again; mail a@b.c") == [
        "ann",
        "bob.smith",
    ]


def test_a_note_mentioning_a_team_member_notifies_them_once(
    rep, manager, deal, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        note = note_create(actor=rep, record=deal, body="@manager can you call them? @rep")
    (notification,) = Notification.objects.all()
    assert notification.user == manager
    assert deal.title in notification.title
    assert notification.link == f"/deals/{deal.pk}/#note-{note.pk}"
    note_update(actor=rep, note=note, body="@manager can you call them today?")
    assert Notification.objects.count() == 1  # never twice for one note


def test_an_edit_that_adds_a_mention_notifies_the_new_person(rep, manager, team, deal):
    ann = MembershipFactory(team=team, user__username="ann").user
    note = note_create(actor=rep, record=deal, body="Asked @manager")
    note_update(actor=rep, note=note, body="Asked @manager and @ANN")
    assert set(Notification.objects.values_list("user", flat=True)) == {manager.pk, ann.pk}
    assert NoteMention.objects.filter(note=note).count() == 2


def test_people_outside_the_team_are_not_notified(rep, outsider, deal):
    note_create(actor=rep, record=deal, body="Hello @outsider and @nobody")
    assert not Notification.objects.exists()


def test_only_the_author_edits_or_deletes_a_note(rep, manager, deal):
    note = note_create(actor=rep, record=deal, body="Mine")
    with pytest.raises(ValidationError, match="Only the author"):
        note_update(actor=manager, note=note, body="Changed")
    with pytest.raises(ValidationError, match="Only the author"):
        note_delete(actor=manager, note=note)
    note.refresh_from_db()
    assert note.body == "Mine"
    note_delete(actor=rep, note=note)
    assert not Note.objects.exists()


@pytest.mark.parametrize(
    ("body", "message"), [("  ", "Write something"), ("a\x00b", "control"), ("x" * 20_001, "under")]
)
def test_bad_notes_are_refused_and_nothing_is_written(rep, contact, body, message):
    with pytest.raises(ValidationError, match=message):
        note_create(actor=rep, record=contact, body=body)
    assert not Note.objects.exists()


def test_nobody_writes_a_note_on_a_record_they_do_not_see(outsider, contact):
    with pytest.raises(ValidationError, match="not visible"):
        note_create(actor=outsider, record=contact, body="Hi")
    assert not Note.objects.exists()


def test_a_mention_of_a_team_member_is_highlighted_and_still_sanitised():
    members = frozenset({"ann"})
    html = note_html(
        "Ask @Ann and @stranger; `@ann` in code, [link](https://x.coop/@ann) <b>@ann</b>",
        members,
    )
    assert html.count('<mark class="mention">') == 2  # the text one and the escaped-HTML one
    assert '<mark class="mention">@Ann</mark>' in html
    assert "@stranger" in html and '<mark class="mention">@stranger' not in html
    assert "<code>@ann</code>" in html
    assert 'href="https://x.coop/@ann"' in html
    assert "<b>" not in html


def test_the_record_section_highlights_mentions_of_team_members(client, rep, manager, deal):
    note_create(actor=rep, record=deal, body=f"Call @{manager.username} and @nobody")
    client.force_login(rep)
    response = client.get(f"/records/deals/{deal.pk}/activity/")
    body = response.content.decode()
    assert f'<mark class="mention">@{manager.username}</mark>' in body
    assert "@nobody" in body and '<mark class="mention">@nobody' not in body


def test_a_mention_is_written_in_the_language_of_the_person_mentioned(rep, manager, deal):
    compile_catalogues(("crm",))
    manager.language = "fr"
    manager.save(update_fields=["language"])
    note_create(actor=rep, record=deal, body="@manager can you call them?")
    (notification,) = Notification.objects.all()
    assert notification.title == f"{rep} vous a mentionné(e) dans {deal.title}"
