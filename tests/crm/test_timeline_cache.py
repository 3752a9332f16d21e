"""The contact page's timeline comes from a cache (crm/timeline.py), yet every viewer sees what
the database holds now, and only the organizer of a meeting sees its actions."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.meeting_scheduling import meeting_cancel, meeting_schedule, meeting_update
from crm.models import Contact, Interaction, InteractionType
from crm.selectors import TIMELINE_PAGE_SIZE
from crm.services import contact_timelines_touch, interaction_log
from tests.crm.factories import ContactFactory, InteractionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(manager):
    client = Client()
    client.force_login(manager)
    return client


def _timeline(client, contact) -> str:
    page = client.get(reverse("crm:contact_detail", args=[contact.pk])).text
    return page[page.index('<div id="timeline"') : page.index('<aside class="contact-facts"')]


def _meeting(rep, contact, *, starts_in=datetime.timedelta(days=1), title="Roof survey"):
    start = timezone.now() + starts_in
    return meeting_schedule(
        organizer=rep,
        contact=contact,
        title=title,
        start_time=start,
        end_time=start + datetime.timedelta(hours=1),
    )


def test_a_logged_call_shows_on_the_next_view(manager_client, rep, contact):
    assert "Nothing on the timeline yet" in _timeline(manager_client, contact)
    interaction_log(actor=rep, contact=contact, interaction_type=InteractionType.CALL, summary="Hi")
    assert "<strong>Hi</strong>" in _timeline(manager_client, contact)


def test_only_the_organizer_sees_the_meeting_actions_whoever_looked_first(
    rep_client, manager_client, rep, contact
):
    _meeting(rep, contact)
    for _ in range(2):
        assert "Cancel meeting" not in _timeline(manager_client, contact)
        organizer_view = _timeline(rep_client, contact)
        assert "Cancel meeting" in organizer_view
        assert 'name="csrfmiddlewaretoken"' in organizer_view


def test_a_cancelled_or_moved_meeting_shows_so_at_once(manager_client, rep, contact):
    interaction = _meeting(rep, contact)
    assert "Cancelled" not in _timeline(manager_client, contact)
    start = interaction.calendar_event.start_time + datetime.timedelta(days=1)
    meeting_update(
        actor=rep,
        interaction=interaction,
        title="Moved survey",
        start_time=start,
        end_time=start + datetime.timedelta(hours=1),
    )
    assert "Moved survey" in _timeline(manager_client, contact)
    meeting_cancel(actor=rep, interaction=interaction)
    assert "Cancelled" in _timeline(manager_client, contact)


def test_a_meeting_leaves_the_pinned_list_when_it_ends_without_any_write(
    manager_client, rep, contact, monkeypatch
):
    interaction = _meeting(rep, contact, starts_in=datetime.timedelta(minutes=10))
    assert 'id="upcoming-heading"' in _timeline(manager_client, contact)
    after_it = interaction.calendar_event.end_time + datetime.timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: after_it)
    timeline = _timeline(manager_client, contact)
    assert 'id="upcoming-heading"' not in timeline
    assert "Roof survey" in timeline


def test_a_deleted_meeting_leaves_a_plain_entry(manager_client, rep, contact):
    interaction = _meeting(rep, contact, starts_in=-datetime.timedelta(days=2))
    meeting_entry = f'id="meeting-{interaction.pk}"'
    assert meeting_entry in _timeline(manager_client, contact)
    interaction.calendar_event.delete()
    timeline = _timeline(manager_client, contact)
    assert meeting_entry not in timeline
    assert "Roof survey" in timeline


def test_an_author_renamed_or_deleted_shows_so(manager_client, team, rep, contact):
    InteractionFactory(contact=contact, author=rep, summary="Call")
    rep.display_name = "Rita Rep"
    rep.save()
    assert "· Rita Rep" in _timeline(manager_client, contact)
    rep.delete()
    assert "· Rita Rep" not in _timeline(manager_client, contact)


def test_an_entry_moved_to_another_contact_leaves_the_first(manager_client, team, rep, contact):
    other = ContactFactory(team=team, owner=rep)
    entry = InteractionFactory(contact=contact, summary="Misfiled call")
    assert "Misfiled call" in _timeline(manager_client, contact)
    assert "Misfiled call" not in _timeline(manager_client, other)
    entry.contact = other
    entry.save()
    assert "Misfiled call" not in _timeline(manager_client, contact)
    assert "Misfiled call" in _timeline(manager_client, other)


def test_each_viewer_sees_times_in_their_own_time_zone(
    rep_client, manager_client, manager, contact
):
    InteractionFactory(
        contact=contact, timestamp=datetime.datetime(2026, 1, 5, 12, tzinfo=datetime.UTC)
    )
    assert "Mon 5 Jan 2026, 13:00" in _timeline(rep_client, contact)  # Europe/Paris
    manager.time_zone = "America/New_York"
    manager.save(update_fields=["time_zone"])
    assert "Mon 5 Jan 2026, 07:00" in _timeline(manager_client, contact)


def test_the_htmx_refresh_after_logging_shows_the_new_entry(rep_client, contact):
    url = reverse("crm:contact_timeline", args=[contact.pk])
    assert "Nothing on the timeline yet" in rep_client.get(url, HTTP_HX_REQUEST="true").text
    rep_client.post(
        reverse("crm:contact_log_interaction", args=[contact.pk]),
        {"interaction_type": "email", "summary": "Sent the quote"},
        HTTP_HX_REQUEST="true",
    )
    assert Interaction.objects.filter(contact=contact).count() == 1
    assert "Sent the quote" in rep_client.get(url, HTTP_HX_REQUEST="true").text


def test_saving_a_contact_loaded_before_a_new_entry_keeps_the_entry_shown(
    manager_client, rep, contact
):
    stale = Contact.objects.get(pk=contact.pk)
    assert "Nothing on the timeline yet" in _timeline(manager_client, contact)
    interaction_log(actor=rep, contact=contact, interaction_type=InteractionType.CALL, summary="Hi")
    stale.notes = "Edited meanwhile"
    stale.save()
    assert "<strong>Hi</strong>" in _timeline(manager_client, contact)


def test_a_password_change_leaves_the_timelines_alone(rep, contact):
    InteractionFactory(contact=contact, author=rep)
    version = Contact.objects.get(pk=contact.pk).timeline_version
    rep.set_password("another-long-passphrase")
    rep.save()
    assert Contact.objects.get(pk=contact.pk).timeline_version == version


def _older_entries(contact, author, n=TIMELINE_PAGE_SIZE + 5):
    """`n` calls, a day apart, the newest yesterday: more than the first page holds."""
    now = timezone.now()
    return [
        InteractionFactory(
            contact=contact,
            author=author,
            summary=f"Old call {i:02d}",
            timestamp=now - datetime.timedelta(days=1 + i),
        )
        for i in range(n)
    ]


def _second_page(client, contact, first_page) -> str:
    url = reverse("crm:contact_timeline", args=[contact.pk])
    response = client.get(url, {"after": first_page[TIMELINE_PAGE_SIZE - 1].pk})
    assert response.status_code == 200
    return response.text


def test_a_later_page_seen_again_comes_from_the_cache_with_its_edits(
    manager_client, rep, contact, django_assert_max_num_queries
):
    entries = _older_entries(contact, rep)
    last = entries[-1]
    assert "Old call 24" in _second_page(manager_client, contact, entries)
    # Session, user, unread notifications and the contact: no timeline query, no cursor one.
    with django_assert_max_num_queries(4):
        assert "Old call 24" in _second_page(manager_client, contact, entries)
    last.summary = "Corrected call"
    last.save()
    page = _second_page(manager_client, contact, entries)
    assert "Corrected call" in page
    assert "Old call 24" not in page


def test_a_meeting_that_ends_joins_a_later_page_without_any_write(
    manager_client, rep, contact, monkeypatch
):
    entries = _older_entries(contact, rep)
    interaction = _meeting(rep, contact, starts_in=datetime.timedelta(minutes=10))
    # Its entry, once over, falls between the older calls on the second page.
    Interaction.objects.filter(pk=interaction.pk).update(
        timestamp=entries[TIMELINE_PAGE_SIZE + 1].timestamp + datetime.timedelta(hours=1)
    )
    contact_timelines_touch(contacts=Contact.objects.filter(pk=contact.pk))
    assert "Roof survey" not in _second_page(manager_client, contact, entries)
    after_it = interaction.calendar_event.end_time + datetime.timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: after_it)
    assert "Roof survey" in _second_page(manager_client, contact, entries)


def test_a_later_page_of_another_contacts_entry_is_not_found_even_once_cached(
    manager_client, team, rep, contact
):
    entries = _older_entries(contact, rep)
    other = ContactFactory(team=team, owner=rep)
    _second_page(manager_client, contact, entries)
    url = reverse("crm:contact_timeline", args=[other.pk])
    response = manager_client.get(url, {"after": entries[TIMELINE_PAGE_SIZE - 1].pk})
    assert response.status_code == 404


def test_the_organizer_of_a_meeting_on_a_later_page_sees_its_actions(
    rep_client, manager_client, rep, contact
):
    entries = _older_entries(contact, rep)
    interaction = _meeting(rep, contact, starts_in=-datetime.timedelta(days=3))
    Interaction.objects.filter(pk=interaction.pk).update(
        timestamp=entries[TIMELINE_PAGE_SIZE + 1].timestamp + datetime.timedelta(hours=1)
    )
    contact_timelines_touch(contacts=Contact.objects.filter(pk=contact.pk))
    for _ in range(2):
        assert "Roof survey" in _second_page(manager_client, contact, entries)
        assert "Cancel meeting" not in _second_page(manager_client, contact, entries)
        assert "Cancel meeting" in _second_page(rep_client, contact, entries)
