"""Notes and done tasks are entries of the contact's and organization's timelines, open tasks
are pinned above it: in time order, paged exactly across kinds, shown once per page, and the
cached first page changes with them."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import Interaction, InteractionType, Note, Task
from crm.next_steps import task_complete, task_create
from crm.notes import note_create, note_delete
from crm.selectors import contact_timeline, organization_timeline
from tests.crm.factories import OrganizationFactory
from tests.crm.test_query_budgets import CONTACT_DETAIL_BUDGET

pytestmark = pytest.mark.django_db

BASE = timezone.now() - datetime.timedelta(days=30)


def _timeline(client, contact) -> str:
    page = client.get(reverse("crm:contact_detail", args=[contact.pk])).text
    return page[page.index('<div id="timeline"') : page.index('<aside class="contact-facts"')]


def _mixed(contact, rep, n):
    """n entries of each kind, their times interleaved (interaction, note, done task...)."""
    expected = []
    for i in range(n):
        at = BASE + datetime.timedelta(hours=3 * i)
        call = Interaction.objects.create(
            contact=contact, author=rep, interaction_type=InteractionType.CALL,
            summary=f"call {i}", timestamp=at,
        )  # fmt: skip
        note = Note.objects.create(
            team=contact.team, author=rep, contact=contact, body=f"note {i}",
            created_at=at + datetime.timedelta(hours=1),
        )  # fmt: skip
        task = Task.objects.create(
            team=contact.team, title=f"task {i}", due_date=at.date(), assignee=rep,
            contact=contact, completed_at=at + datetime.timedelta(hours=2), completed_by=rep,
        )  # fmt: skip
        expected += [call.pk, note.pk, task.pk]
    return list(reversed(expected))


@pytest.mark.parametrize("limit", [1, 4, 7, 20])
def test_pages_walk_every_entry_of_every_kind_once_in_time_order(rep, contact, limit):
    expected = _mixed(contact, rep, 5)
    seen, after = [], None
    while True:
        page = contact_timeline(contact=contact, after=after, limit=limit)
        seen += [entry.pk for entry in page.entries]
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == expected


def test_entries_at_the_same_instant_are_paged_exactly(rep, contact):
    at = BASE
    for i in range(3):
        Note.objects.create(team=contact.team, author=rep, contact=contact, body=f"n{i}",
                            created_at=at)  # fmt: skip
        Task.objects.create(team=contact.team, title=f"t{i}", due_date=at.date(), contact=contact,
                            completed_at=at, completed_by=rep)  # fmt: skip
    first = contact_timeline(contact=contact, limit=4)
    second = contact_timeline(contact=contact, after=first.next_after, limit=4)
    ids = [e.pk for e in first.entries + second.entries]
    assert len(ids) == len(set(ids)) == 6
    assert second.next_after is None


def test_open_tasks_are_pinned_and_done_ones_are_entries(rep, contact):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    open_task = task_create(actor=rep, record=contact, title="Call back", due_date=tomorrow)
    done = task_create(actor=rep, record=contact, title="Send brochure", due_date=tomorrow)
    task_complete(actor=rep, task=done)
    page = contact_timeline(contact=contact)
    assert [t.pk for t in page.open_tasks] == [open_task.pk]
    assert [e.pk for e in page.entries] == [done.pk]


def test_the_contact_page_shows_each_note_and_task_once_and_the_cache_follows(
    rep_client, manager, rep, contact
):
    client = Client()
    client.force_login(manager)
    assert "Nothing on the timeline yet" in _timeline(client, contact)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    task = task_create(actor=rep, record=contact, title="Call back", due_date=tomorrow)
    view = _timeline(client, contact)
    assert "Call back" in view and "Upcoming" in view
    # The stored page holds no token, a hole the viewer's CSRF field fills on the way out
    # (tests/crm/test_task_tick_no_js.py posts it for another viewer than the first).
    assert 'name="csrfmiddlewaretoken"' in view and "<!--csrf-->" not in view

    note = note_create(actor=rep, record=contact, body=f"Spoke to @{manager.username}")
    view = _timeline(client, contact)
    assert "Spoke to" in view and '<mark class="mention">' in view
    assert "Delete<span" not in view  # not the author
    assert "Delete<span" in _timeline(rep_client, contact)  # the author, never cached
    assert "Delete<span" not in _timeline(client, contact)

    task_complete(actor=manager, task=task)
    view = _timeline(client, contact)
    assert view.count(f'id="task-{task.pk}"') == 1 and "Done</span>" in view

    note_delete(actor=rep, note=note)
    assert "Spoke to" not in _timeline(client, contact)

    activity = client.get(f"/records/contacts/{contact.pk}/activity/").text
    assert "Call back" not in activity  # shown on the timeline, not twice


def test_a_page_after_a_note_is_served(rep_client, rep, contact):
    _mixed(contact, rep, 10)
    note = Note.objects.filter(contact=contact).order_by("created_at").last()
    url = reverse("crm:contact_timeline", args=[contact.pk])
    response = rep_client.get(url, {"after": note.pk})
    assert response.status_code == 200
    assert response.text.count('<li class="timeline-entry') == 20
    assert rep_client.get(url, {"after": "not-a-uuid"}).status_code == 404


def test_the_organization_timeline_has_its_own_notes_and_done_tasks(rep_client, rep, team, contact):
    organization = OrganizationFactory(team=team)
    contact.organization = organization
    contact.save()
    Interaction.objects.create(contact=contact, author=rep, interaction_type=InteractionType.CALL,
                               summary="org call", timestamp=BASE)  # fmt: skip
    note = note_create(actor=rep, record=organization, body="Board meets in May")
    task = task_create(actor=rep, record=organization, title="Send statutes",
                       due_date=timezone.localdate())  # fmt: skip
    task_complete(actor=rep, task=task)
    page = organization_timeline(organization=organization)
    assert [e.pk for e in page.entries][:2] == [task.pk, note.pk]
    html = rep_client.get(reverse("crm:organization_detail", args=[organization.pk])).text
    assert html.count(f'id="note-{note.pk}"') == 1
    assert "Send statutes" in html and "org call" in html
    assert 'hx-trigger="notesChanged from:body, tasksChanged from:body"' in html  # reloads
    older = rep_client.get(
        reverse("crm:organization_timeline", args=[organization.pk]), {"after": note.pk}
    )
    assert "org call" in older.text and "Board meets" not in older.text


@pytest.mark.parametrize("rows", [5, 200])
def test_the_contact_page_query_count_stays_constant_with_notes_and_tasks(
    rep_client, rep, contact, rows, django_assert_max_num_queries
):
    _mixed(contact, rep, rows)
    for i in range(rows // 5 + 1):
        Task.objects.create(team=contact.team, title=f"open {i}", due_date=timezone.localdate(),
                            assignee=rep, contact=contact)  # fmt: skip
    with django_assert_max_num_queries(CONTACT_DETAIL_BUDGET):
        page = rep_client.get(reverse("crm:contact_detail", args=[contact.pk])).text
    assert page.count('<li class="timeline-entry') == min(3 * rows, 20)
