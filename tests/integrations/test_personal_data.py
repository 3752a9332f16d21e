import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from calendar_app.models import Attendee, Event, Notification
from coop.audit import audit_record
from coop.models import AuditAction, AuditEvent
from crm.meeting_scheduling import meeting_schedule
from crm.merging import contacts_merge
from crm.models import Contact, Deal, Interaction, Note, Task
from finance.models import RevenueEntry
from integrations.deal_closing import deal_close
from integrations.personal_data import personal_data_erase
from tests.crm.factories import (
    ContactFactory,
    DealFactory,
    InteractionFactory,
    NoteFactory,
    PipelineFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(team, rep):
    """A contact with a timeline entry, a meeting, an open deal and a won one."""
    pipeline = PipelineFactory(team=team)
    contact = ContactFactory(team=team, owner=rep, name="Ann Archer", email="ann@x.example")
    InteractionFactory(contact=contact, summary="Called Ann about the roof")
    start = timezone.now() + datetime.timedelta(days=2)
    meeting_schedule(
        organizer=rep,
        contact=contact,
        title="Visit Ann Archer",
        start_time=start,
        end_time=start + datetime.timedelta(hours=1),
    )
    DealFactory(pipeline=pipeline, contact=contact, owner=rep, title="Ann's roof")
    won = DealFactory(
        pipeline=pipeline, contact=contact, owner=rep, title="Ann's panels", value_cents=90_000
    )
    deal_close(actor=rep, deal=won, won=True)
    NoteFactory(deal=None, contact=contact, author=rep, body="Ann prefers mornings")
    TaskFactory(deal=None, contact=contact, assignee=rep, title="Send Ann the quote")
    return contact


def test_the_export_holds_everything_about_the_person_and_is_audited(client, manager, person):
    client.force_login(manager)
    url = reverse("integrations:contact_personal_data", args=[person.pk])
    data = json.loads(client.get(url, {"format": "json"}).content)
    assert data["contact"]["email"] == "ann@x.example"
    assert [entry["summary"] for entry in data["interactions"]][:1] == ["Called Ann about the roof"]
    assert [meeting["title"] for meeting in data["meetings"]] == ["Visit Ann Archer"]
    assert sorted(deal["title"] for deal in data["deals"]) == ["Ann's panels", "Ann's roof"]
    assert [entry["amount_cents"] for entry in data["revenue"]] == [90_000]
    assert [note["body"] for note in data["notes"]] == ["Ann prefers mornings"]
    assert [task["title"] for task in data["tasks"]] == ["Send Ann the quote"]
    text = client.get(url, {"format": "txt"}).content.decode()
    assert "Personal data held by Co-op CRM about Ann Archer" in text
    assert "Visit Ann Archer" in text and "Ann's panels" in text
    assert "Ann prefers mornings" in text and "Send Ann the quote" in text
    assert AuditEvent.objects.filter(action=AuditAction.PERSONAL_DATA_EXPORTED).count() == 2


def test_reps_cannot_export_or_erase(client, rep, person):
    client.force_login(rep)
    url = reverse("integrations:contact_personal_data", args=[person.pk])
    assert client.get(url, {"format": "json"}).status_code == 404
    erase = reverse("integrations:contact_erase", args=[person.pk])
    assert client.post(erase, {"confirm": "yes"}).status_code == 404
    with pytest.raises(ValidationError):
        personal_data_erase(actor=rep, contact=person)
    assert Contact.objects.filter(pk=person.pk).exists()


def test_erasure_removes_the_person_and_keeps_booked_revenue(client, manager, rep, person):
    url = reverse("crm:contact_detail", args=[person.pk])
    event = Attendee.objects.get(guest_url=url).event
    Notification.objects.create(user=rep, event=event, title="Reminder: Visit Ann Archer")
    client.force_login(manager)
    response = client.post(
        reverse("integrations:contact_erase", args=[person.pk]), {"confirm": "yes"}
    )
    assert response.status_code == 302
    assert not Contact.objects.filter(pk=person.pk).exists()
    assert not Interaction.objects.filter(summary__contains="Ann").exists()
    assert not Note.objects.filter(body__contains="Ann").exists()
    assert not Task.objects.filter(title__contains="Ann").exists()
    assert not Attendee.objects.filter(guest_url=url).exists()
    assert not Event.objects.filter(title__contains="Ann").exists()
    assert not Notification.objects.filter(title__contains="Ann").exists()
    deals = Deal.objects.filter(title="Deal (erased contact)")
    assert deals.count() == 2 and not deals.filter(contact__isnull=False).exists()
    revenue = RevenueEntry.objects.get()
    assert (revenue.amount_cents, revenue.description) == (90_000, "Won deal (erased contact)")
    event = AuditEvent.objects.get(action=AuditAction.PERSONAL_DATA_ERASED)
    assert "Ann" not in json.dumps(event.detail) and event.object_repr == ""
    assert event.detail["deals_anonymised"] == 2


def test_erasure_needs_the_confirmation(client, manager, person):
    client.force_login(manager)
    client.post(reverse("integrations:contact_erase", args=[person.pk]), {})
    assert Contact.objects.filter(pk=person.pk).exists()


def test_erasure_scrubs_the_person_from_earlier_audit_entries_and_keeps_them(
    client, manager, rep, person
):
    twin = ContactFactory(team=person.team, name="Ann Archer (old)", email="ann@old.example")
    contacts_merge(actor=manager, keep=person, remove=twin, picks={"email": "keep"})
    client.force_login(manager)
    client.get(reverse("integrations:contact_personal_data", args=[person.pk]), {"format": "json"})
    other = ContactFactory(team=person.team, name="Bob Baker")
    audit_record(actor=manager, action=AuditAction.EXPORTED, obj=other, detail={"n": 1})
    before = {
        entry.pk: (entry.occurred_at, entry.actor_id, entry.action, entry.object_id)
        for entry in AuditEvent.objects.all()
    }

    personal_data_erase(actor=manager, contact=person)

    label = f"erased contact #{person.pk}"
    entries = AuditEvent.objects.exclude(action=AuditAction.PERSONAL_DATA_ERASED)
    assert {
        entry.pk: (entry.occurred_at, entry.actor_id, entry.action, entry.object_id)
        for entry in entries
    } == before, "every entry stays, with who did what and when"
    for entry in entries:
        text = entry.object_repr + json.dumps(entry.detail)
        for identity in ("Ann", "ann@", "Archer"):
            assert identity not in text, (entry.action, text)
    merge = entries.get(action=AuditAction.MERGED)
    assert merge.object_repr == label and merge.detail["removed"]["name"] == label
    assert merge.detail["removed"]["id"] == str(twin.pk)
    closed = entries.get(action=AuditAction.DEAL_CLOSED)
    assert closed.object_repr == f"deal of {label}"
    assert entries.get(object_id=str(other.pk)).object_repr == "Bob Baker"
    erased = AuditEvent.objects.get(action=AuditAction.PERSONAL_DATA_ERASED)
    assert erased.detail["audit_entries_scrubbed"] >= 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_database_still_refuses_any_other_change_to_the_log(manager, person):
    audit_record(actor=manager, action=AuditAction.EXPORTED, obj=person)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT set_config('coop.audit_redaction', 'on', true)")
        cursor.execute("UPDATE coop_audit_events SET action = 'deal_closed'")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE coop_audit_events SET object_repr = 'x'")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT set_config('coop.audit_redaction', 'on', true)")
        cursor.execute("DELETE FROM coop_audit_events")
