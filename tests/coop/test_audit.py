"""The append-only audit log: what writes it, who reads it, and that no one edits it."""

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from coop.admin import AuditedAdmin, ReadOnlyAdmin
from coop.audit import audit_record
from coop.models import AuditAction, AuditEvent, Team
from tests.crm.factories import ContactFactory

pytestmark = pytest.mark.django_db

OUR_APPS = {"coop", "crm", "calendar_app", "health", "finance"}


def test_an_entry_names_the_actor_the_action_and_the_object(rep, team):
    event = audit_record(actor=rep, action=AuditAction.EXPORTED, obj=team, detail={"rows": 3})
    event.refresh_from_db()
    assert (event.actor_id, event.actor_name) == (rep.pk, "rep")
    assert (event.object_type, event.object_id, event.object_repr) == (
        "coop.Team",
        str(team.pk),
        "North",
    )
    assert event.detail == {"rows": 3}
    assert event.occurred_at is not None


def test_the_model_refuses_to_change_or_delete_an_entry(rep):
    event = audit_record(actor=rep, action=AuditAction.EXPORTED)
    event.action = AuditAction.DEAL_CLOSED
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    assert AuditEvent.objects.get().action == AuditAction.EXPORTED


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_database_refuses_to_change_or_delete_an_entry(rep):
    audit_record(actor=rep, action=AuditAction.EXPORTED)
    for statement in [
        "UPDATE coop_audit_events SET action = 'deal_closed'",
        "DELETE FROM coop_audit_events",
    ]:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(statement)
    assert AuditEvent.objects.get().action == AuditAction.EXPORTED


def test_an_admin_change_and_an_admin_deletion_are_audited_with_the_request_id(
    client, staff_user, team, other_team
):
    client.force_login(staff_user)
    change_url = reverse("admin:coop_team_change", args=[team.pk])
    response = client.post(
        change_url,
        {
            "name": "North renamed",
            "stale_deal_days": "14",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
        headers={"X-Request-ID": "admin-edit-1"},
    )
    assert response.status_code == 302, response.content
    client.post(
        reverse("admin:coop_team_changelist"),
        {"action": "delete_selected", "_selected_action": [str(other_team.pk)], "post": "yes"},
    )
    changed = AuditEvent.objects.get(action=AuditAction.ADMIN_CHANGED)
    assert (changed.actor_name, changed.object_repr) == ("staff", "North renamed")
    assert changed.request_id == "admin-edit-1"
    deleted = AuditEvent.objects.get(action=AuditAction.ADMIN_DELETED)
    assert deleted.object_id == str(other_team.pk)
    assert not Team.objects.filter(pk=other_team.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_bulk_delete_the_database_refuses_leaves_no_audit_event(client, staff_user, team):
    """A team with contacts: their foreign key has no ON DELETE, so the database refuses to
    delete it. The audit events and the admin's history are written in the delete's
    transaction, so they go with it (it needs real commits: the constraint is deferred)."""
    ContactFactory(team=team)
    client.force_login(staff_user)
    response = client.post(
        reverse("admin:coop_team_changelist"),
        {"action": "delete_selected", "_selected_action": [str(team.pk)], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Nothing was deleted: other records still refer to it" in response.text
    assert Team.objects.filter(pk=team.pk).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.ADMIN_DELETED).exists()
    assert not LogEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_delete_the_database_refuses_on_the_delete_page_is_a_message(client, staff_user, team):
    ContactFactory(team=team)
    client.force_login(staff_user)
    response = client.post(
        reverse("admin:coop_team_delete", args=[team.pk]), {"post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert "Nothing was deleted: other records still refer to it" in response.text
    assert Team.objects.filter(pk=team.pk).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.ADMIN_DELETED).exists()


def test_staff_read_the_log_in_the_admin_but_cannot_add_change_or_delete(client, rep, team):
    staff = type(rep).objects.create_user("auditor", password="x", is_staff=True)
    event = audit_record(actor=rep, action=AuditAction.EXPORTED, obj=team)
    client.force_login(staff)
    changelist = client.get(reverse("admin:coop_auditevent_changelist"))
    assert changelist.status_code == 200
    assert b"Data exported" in changelist.content
    assert client.get(reverse("admin:coop_auditevent_add")).status_code == 403
    detail = client.get(reverse("admin:coop_auditevent_change", args=[event.pk]))
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    delete = client.post(reverse("admin:coop_auditevent_delete", args=[event.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_people_who_are_not_staff_cannot_open_the_log(rep_client):
    response = rep_client.get(reverse("admin:coop_auditevent_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_every_admin_of_our_models_audits_its_changes_or_changes_nothing():
    unaudited = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in OUR_APPS
        and not isinstance(model_admin, AuditedAdmin | ReadOnlyAdmin)
    ]
    assert unaudited == []
