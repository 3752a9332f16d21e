"""Lost reasons are required when closing as lost; a manager may reopen a closed deal, which
removes a won deal's booked revenue in the same transaction."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from coop.models import AuditAction, AuditEvent
from crm.models import DEFAULT_LOST_REASONS, Deal, DealStatus, LostReason, StageChange
from crm.services import deal_create, deal_move
from finance.models import RevenueEntry
from integrations.deal_closing import deal_close, deal_reopen
from tests.coop.factories import TeamFactory
from tests.crm.factories import PipelineFactory, lost_reason_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(team):
    return PipelineFactory(team=team, name="Sales")


@pytest.fixture
def open_deal(pipeline, rep):
    stages = {stage.name: stage for stage in pipeline.stages.all()}
    deal = deal_create(
        actor=rep, pipeline=pipeline, stage=stages["Lead"], title="Solar roof", value_cents=90_000
    )
    return deal_move(actor=rep, deal=deal, stage=stages["Proposal"])


def test_a_new_team_starts_with_the_default_lost_reasons():
    team = TeamFactory()
    names = list(LostReason.objects.filter(team=team).values_list("name", flat=True))
    assert names == list(DEFAULT_LOST_REASONS)


def test_closing_as_lost_without_a_reason_is_refused_and_writes_nothing(rep, open_deal):
    with pytest.raises(ValidationError, match="Choose why the deal was lost"):
        deal_close(actor=rep, deal=open_deal, won=False)
    open_deal.refresh_from_db()
    assert open_deal.status == DealStatus.OPEN
    assert not AuditEvent.objects.filter(action=AuditAction.DEAL_CLOSED).exists()


def test_another_teams_reason_is_refused(rep, open_deal):
    foreign = LostReason.objects.filter(team=TeamFactory()).first()
    with pytest.raises(ValidationError, match="one of the team's lost reasons"):
        deal_close(actor=rep, deal=open_deal, won=False, lost_reason=foreign)


def test_closing_as_lost_keeps_the_reason_and_comment(rep, open_deal):
    reason = lost_reason_for(open_deal)
    deal = deal_close(
        actor=rep, deal=open_deal, won=False, lost_reason=reason, lost_comment=" Too dear "
    )
    assert (deal.lost_reason, deal.lost_comment) == (reason, "Too dear")
    event = AuditEvent.objects.get(action=AuditAction.DEAL_CLOSED)
    assert event.detail["lost_reason"] == reason.name


def test_the_close_form_without_a_reason_says_so(rep_client, open_deal):
    url = reverse("integrations:deal_close", args=[open_deal.pk])
    response = rep_client.post(url, {"outcome": "lost", "lost_reason": "nonsense"}, follow=True)
    assert "Choose why the deal was lost." in response.text
    assert Deal.objects.get(pk=open_deal.pk).status == DealStatus.OPEN


def test_the_deal_page_shows_the_reason_of_a_lost_deal(rep_client, rep, open_deal):
    reason = lost_reason_for(open_deal)
    deal_close(actor=rep, deal=open_deal, won=False, lost_reason=reason, lost_comment="Budget cut")
    page = rep_client.get(reverse("crm:deal_detail", args=[open_deal.pk])).text
    assert "Budget cut" in page and reason.name in page
    assert "Reopen deal" not in page  # a rep may not reopen


def test_a_manager_reopens_a_won_deal_and_its_revenue_goes(manager, rep, open_deal):
    deal_close(actor=rep, deal=open_deal, won=True)
    assert RevenueEntry.objects.filter(deal=open_deal).exists()
    deal = deal_reopen(actor=manager, deal=open_deal)
    assert (deal.status, deal.closed_at, deal.stage.name) == (DealStatus.OPEN, None, "Proposal")
    assert not RevenueEntry.objects.filter(deal=open_deal).exists()
    assert AuditEvent.objects.get(action=AuditAction.DEAL_REOPENED).detail == {"was": "won"}
    kinds = list(StageChange.objects.filter(deal=deal).values_list("kind", flat=True))
    assert kinds == ["created", "moved", "won", "reopened"]


def test_a_reopened_lost_deal_loses_its_reason_and_can_be_closed_again(manager, rep, open_deal):
    deal_close(actor=rep, deal=open_deal, won=False, lost_reason=lost_reason_for(open_deal))
    deal = deal_reopen(actor=manager, deal=open_deal)
    assert (deal.lost_reason, deal.lost_comment) == (None, "")
    assert deal_close(actor=rep, deal=deal, won=True).status == DealStatus.WON


def test_a_rep_may_not_reopen(rep, open_deal):
    deal_close(actor=rep, deal=open_deal, won=True)
    with pytest.raises(ValidationError, match="Only a manager"):
        deal_reopen(actor=rep, deal=open_deal)
    assert RevenueEntry.objects.filter(deal=open_deal).exists()


def test_an_open_deal_cannot_be_reopened(manager, open_deal):
    with pytest.raises(ValidationError, match="open already"):
        deal_reopen(actor=manager, deal=open_deal)


def test_the_reopen_button_works_for_a_manager(client, manager, rep, open_deal):
    deal_close(actor=rep, deal=open_deal, won=True)
    client.force_login(manager)
    page = client.get(reverse("crm:deal_detail", args=[open_deal.pk])).text
    assert "Reopen deal" in page
    response = client.post(reverse("integrations:deal_reopen", args=[open_deal.pk]), follow=True)
    assert "Solar roof is open again, in Proposal." in response.text


def test_the_admin_closes_as_lost_with_the_reason_typed(client, staff_user, open_deal):
    client.force_login(staff_user)
    data = {"action": "close_as_lost", "_selected_action": [open_deal.pk], "lost_reason": "price"}
    response = client.post("/admin/crm/deal/", data, follow=True)
    assert "1 deal closed as lost." in response.text
    assert Deal.objects.get(pk=open_deal.pk).lost_reason.name == "Price"
