import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from calendar_app.models import Attendee
from coop.models import AuditAction, AuditEvent
from crm.meeting_scheduling import meeting_schedule
from crm.merging import (
    contact_duplicates,
    contacts_merge,
    organization_duplicates,
    organizations_merge,
)
from crm.models import Contact, Deal, Interaction, Note, Organization, Task
from tests.crm.factories import (
    ContactFactory,
    DealFactory,
    InteractionFactory,
    NoteFactory,
    OrganizationFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db


def test_the_database_keeps_one_contact_per_email_in_a_team_whatever_the_case(team, other_team):
    ContactFactory(team=team, email="ann@x.example")
    ContactFactory(team=other_team, email="ann@x.example")
    ContactFactory(team=team, email="")
    ContactFactory(team=team, email="")
    with pytest.raises(IntegrityError):
        ContactFactory(team=team, email="ANN@x.example")


def test_duplicates_are_same_phone_or_similar_names_in_one_organization(team):
    acme = OrganizationFactory(team=team, name="Acme", domain="acme.example")
    OrganizationFactory(team=team, name="ACME Ltd.", domain="acme.example")
    a = ContactFactory(team=team, name="Jean Dupont", organization=acme, phone="")
    b = ContactFactory(team=team, name="Jean Dupond", organization=acme, phone="")
    c = ContactFactory(team=team, name="Ann", phone="+33 6 12 34 56 78")
    d = ContactFactory(team=team, name="Anne B", phone="06 12 34 56 78")
    ContactFactory(team=team, name="Jean Dupont", phone="")  # no organization: not compared
    pairs = {
        (frozenset({p.first.pk, p.second.pk}), p.reason) for p in contact_duplicates(team=team)
    }
    assert pairs == {
        (frozenset({c.pk, d.pk}), "same phone number"),
        (frozenset({a.pk, b.pk}), "similar names in the same organization"),
    }
    assert [p.reason for p in organization_duplicates(team=team)] == ["same domain"]


def test_merging_contacts_keeps_every_interaction_deal_meeting_and_picked_field(
    rep, team, pipeline
):
    keep = ContactFactory(team=team, owner=rep, name="Ann", email="", phone="+1")
    remove = ContactFactory(team=team, owner=rep, name="Ann Archer", email="ann@x.example")
    InteractionFactory.create_batch(2, contact=keep)
    InteractionFactory.create_batch(3, contact=remove)
    deal = DealFactory(pipeline=pipeline, contact=remove)
    start = timezone.now() + datetime.timedelta(days=2)
    meeting = meeting_schedule(
        organizer=rep,
        contact=remove,
        title="Visit",
        start_time=start,
        end_time=start + datetime.timedelta(hours=1),
    )
    merged = contacts_merge(
        actor=rep, keep=keep, remove=remove, picks={"name": "remove", "email": "remove"}
    )
    assert (merged.name, merged.email, merged.phone) == ("Ann Archer", "ann@x.example", "+1")
    assert not Contact.objects.filter(pk=remove.pk).exists()
    assert Interaction.objects.filter(contact=keep).count() == 6
    assert Deal.objects.get(pk=deal.pk).contact == keep
    guest = Attendee.objects.get(event=meeting.calendar_event, user__isnull=True)
    assert guest.guest_url == reverse("crm:contact_detail", args=[keep.pk])
    assert guest.guest_name == "Ann Archer"
    event = AuditEvent.objects.get(action=AuditAction.MERGED)
    assert event.detail["removed"]["name"] == "Ann Archer"
    assert event.detail["moved"] == {
        "interactions": 4,
        "deals": 1,
        "meeting_attendances": 1,
        "tasks": 0,
        "notes": 0,
        "tags": 0,
    }


def test_contacts_of_two_teams_or_invisible_ones_are_not_merged(rep, team, other_team):
    mine = ContactFactory(team=team)
    theirs = ContactFactory(team=other_team)
    with pytest.raises(ValidationError):
        contacts_merge(actor=rep, keep=mine, remove=theirs, picks={})
    assert Contact.objects.count() == 2


def test_the_merge_page_lets_the_user_pick_and_merges(rep_client, rep, team):
    keep = ContactFactory(team=team, owner=rep, name="Ann", phone="")
    remove = ContactFactory(team=team, owner=rep, name="Ann A.", phone="+1 555")
    url = reverse("crm:contact_merge", args=[keep.pk, remove.pk])
    page = rep_client.get(url)
    assert page.status_code == 200
    assert "Ann A." in page.text and "+1 555" in page.text
    assert page.context["form"]["phone"].initial == "remove", "an empty value is not offered first"
    response = rep_client.post(url, {"name": "keep", "phone": "remove", "email": "keep"})
    assert response.status_code == 302
    keep.refresh_from_db()
    assert (keep.name, keep.phone) == ("Ann", "+1 555")


def test_merging_organizations_moves_their_contacts(rep_client, team):
    keep = OrganizationFactory(team=team, name="Acme")
    remove = OrganizationFactory(team=team, name="Acme Ltd", industry="Bakery")
    contact = ContactFactory(team=team, organization=remove)
    url = reverse("crm:organization_merge", args=[keep.pk, remove.pk])
    response = rep_client.post(url, {"name": "keep", "industry": "remove"})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.organization == keep
    assert Organization.objects.get().industry == "Bakery"


def test_merging_keeps_the_removed_records_tasks_and_notes(rep, team):
    keep, remove = ContactFactory.create_batch(2, team=team)
    task = TaskFactory(deal=None, contact=remove, assignee=rep)
    note = NoteFactory(deal=None, contact=remove, author=rep)
    contacts_merge(actor=rep, keep=keep, remove=remove, picks={})
    assert Task.objects.get(pk=task.pk).contact == keep
    assert Note.objects.get(pk=note.pk).contact == keep

    kept_org, removed_org = OrganizationFactory.create_batch(2, team=team)
    task = TaskFactory(deal=None, organization=removed_org, assignee=rep)
    note = NoteFactory(deal=None, organization=removed_org, author=rep)
    organizations_merge(actor=rep, keep=kept_org, remove=removed_org, picks={})
    assert Task.objects.get(pk=task.pk).organization == kept_org
    assert Note.objects.get(pk=note.pk).organization == kept_org


def test_the_duplicates_page_lists_pairs_with_a_merge_link(rep_client, team, other_team):
    a = ContactFactory(team=team, name="Bo", phone="+44 20 7946 0000")
    b = ContactFactory(team=team, name="Bob", phone="020 7946 0000")
    ContactFactory(team=other_team, name="Hidden", phone="+44 20 7946 0000")
    response = rep_client.get(reverse("crm:duplicates"))
    assert "same phone number" in response.text
    assert "Hidden" not in response.text
    assert (
        reverse("crm:contact_merge", args=[a.pk, b.pk]) in response.text
        or reverse("crm:contact_merge", args=[b.pk, a.pk]) in response.text
    )
    assert rep_client.get(reverse("crm:duplicates"), {"team": other_team.pk}).status_code == 404
