"""A task's tick works without JavaScript: its form posts as a plain form (with the viewer's
CSRF field, even in the contact timeline's markup cached for everyone), and htmx only
enhances it."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import Task
from tests.coop.factories import MembershipFactory
from tests.crm.factories import TaskFactory

pytestmark = pytest.mark.django_db


def _tick_form(html: str, task: Task) -> dict:
    """The fields a browser without JavaScript would post from the task's tick form."""
    action = reverse("crm:task_done", args=[task.pk])
    form = re.search(
        rf'<form class="task-tick" method="post" action="{action}".*?</form>', html, re.S
    )
    assert form, "no tick form for the task"
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form.group()))
    assert re.search(r'<button class="button small no-js-only" type="submit">Save', form.group())
    return fields


def _client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_a_pinned_task_is_ticked_done_from_the_contact_page_without_javascript(rep, team, contact):
    task = TaskFactory(contact=contact, deal=None, assignee=rep, title="Send the offer")
    colleague = MembershipFactory(team=team, user__username="colleague").user
    page = reverse("crm:contact_detail", args=[contact.pk])
    # The colleague's visit stores the shared timeline; the rep is then served that markup.
    _client(colleague).get(page)
    rep_client = _client(rep)
    fields = _tick_form(rep_client.get(page).content.decode(), task)
    assert "csrfmiddlewaretoken" in fields

    response = rep_client.post(
        reverse("crm:task_done", args=[task.pk]), {**fields, "done": "1"}, follow=True
    )

    assert response.redirect_chain[-1][0] == page
    task.refresh_from_db()
    assert task.completed_by == rep and task.completed_at is not None
    assert "Done: Send the offer" in response.content.decode()


def test_a_task_is_ticked_done_from_my_day_without_javascript_and_back_to_it(rep, deal):
    task = TaskFactory(deal=deal, assignee=rep, title="Call the buyer")
    client = _client(rep)
    fields = _tick_form(client.get(reverse("crm:my_day")).content.decode(), task)
    assert fields["next"] == reverse("crm:my_day")

    response = client.post(reverse("crm:task_done", args=[task.pk]), {**fields, "done": "1"})

    assert response.status_code == 302 and response["Location"] == reverse("crm:my_day")
    task.refresh_from_db()
    assert task.completed_by == rep


def test_without_the_csrf_field_the_tick_is_refused(rep, contact):
    task = TaskFactory(contact=contact, deal=None, assignee=rep)
    response = _client(rep).post(reverse("crm:task_done", args=[task.pk]), {"done": "1"})
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.completed_at is None
