"""The CRM admin writes through the CRM services and keeps their rules: a closed deal cannot be
edited, an open deal's edit keeps the stages' expected values, and a service's refusal shows on
the form with nothing written."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from coop.models import AuditAction, AuditEvent
from crm.models import Deal, PipelineStage
from crm.services import deal_create
from finance.models import RevenueEntry
from integrations.deal_closing import deal_close
from tests.crm.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def open_deal(rep, pipeline, stages, contact):
    """An open deal of €1,000 in Lead (10 %), opened through the service."""
    return deal_create(
        actor=rep,
        pipeline=pipeline,
        stage=stages["Lead"],
        title="Solar roof",
        value_cents=100_000,
        contact=contact,
    )


def deal_post(deal: Deal, **changes) -> dict:
    data = {
        "title": deal.title,
        "contact": deal.contact_id or "",
        "owner": deal.owner_id or "",
        "value_cents": deal.value_cents,
        "expected_close_date": deal.expected_close_date or "",
    }
    return {**data, **changes}


def change_url(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def admin_writes() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action__startswith="admin_"))


def test_a_closed_deal_is_read_only_in_the_admin_and_a_forged_post_changes_nothing(
    staff_client, open_deal, rep, manager, team
):
    deal = deal_close(actor=rep, deal=open_deal, won=True)
    other_contact = ContactFactory(team=team)
    page = staff_client.get(change_url(deal)).text
    for field in ("title", "owner", "value_cents", "contact", "expected_close_date"):
        assert f'name="{field}"' not in page
    assert "Solar roof" in page and "€1,000.00" in page

    forged = deal_post(deal, owner=manager.pk, value_cents=1, contact=other_contact.pk)
    assert staff_client.post(change_url(deal), forged).status_code == 403
    unchanged = Deal.objects.get(pk=deal.pk)
    assert (unchanged.owner, unchanged.value_cents, unchanged.contact_id) == (
        rep,
        100_000,
        deal.contact_id,
    )
    assert RevenueEntry.objects.get(deal=deal).amount_cents == 100_000
    assert admin_writes() == []


def test_an_admin_edit_of_an_open_deal_goes_through_the_service_and_its_stage_follows(
    staff_client, open_deal, stages, manager
):
    assert PipelineStage.objects.get(pk=stages["Lead"].pk).expected_value_cents == 10_000
    response = staff_client.post(
        change_url(open_deal), deal_post(open_deal, value_cents=250_000, owner=manager.pk)
    )
    assert response.status_code == 302, response.text
    deal = Deal.objects.get(pk=open_deal.pk)
    assert (deal.value_cents, deal.owner) == (250_000, manager)
    assert PipelineStage.objects.get(pk=stages["Lead"].pk).expected_value_cents == 25_000
    assert [event.action for event in admin_writes()] == [AuditAction.ADMIN_CHANGED]


def test_adding_a_deal_in_the_admin_gives_its_stage_an_expected_value(
    staff_client, pipeline, stages, rep
):
    data = {"title": "Admin deal", "pipeline": pipeline.pk, "stage": stages["Proposal"].pk}
    response = staff_client.post(
        reverse("admin:crm_deal_add"), {**data, "owner": rep.pk, "value_cents": "5000"}
    )
    assert response.status_code == 302, response.text
    assert Deal.objects.get().owner == rep
    assert PipelineStage.objects.get(pk=stages["Proposal"].pk).expected_value_cents == 2_500
    assert [event.action for event in admin_writes()] == [AuditAction.ADMIN_ADDED]


def test_a_service_refusal_shows_on_the_admin_form_and_writes_nothing(
    staff_client, open_deal, outsider
):
    response = staff_client.post(
        change_url(open_deal),
        deal_post(open_deal, title="Renamed", value_cents=1, owner=outsider.pk),
    )
    assert response.status_code == 200
    assert "The owner must be a member of the pipeline&#x27;s team." in response.text
    deal = Deal.objects.get(pk=open_deal.pk)
    assert (deal.title, deal.value_cents, deal.owner_id) == (
        "Solar roof",
        100_000,
        open_deal.owner_id,
    )
    assert admin_writes() == []
    assert not LogEntry.objects.exists()
