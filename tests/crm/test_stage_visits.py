"""Stage history: each deal's stays in its stages, kept by the deal services."""

import datetime

import pytest
from django.urls import reverse

from crm.models import StageVisit
from crm.services import deal_create, deal_move
from integrations.deal_closing import deal_close

pytestmark = pytest.mark.django_db


def test_a_deals_visits_follow_its_moves_and_end_when_it_closes(rep, pipeline, stages):
    deal = deal_create(
        actor=rep, pipeline=pipeline, stage=stages["Lead"], title="Solar", value_cents=100
    )
    deal = deal_move(actor=rep, deal=deal, stage=stages["Proposal"])
    deal_move(actor=rep, deal=deal, stage=stages["Proposal"])  # no move: no new visit
    deal_close(actor=rep, deal=deal, won=True)
    visits = list(StageVisit.objects.filter(deal=deal).order_by("entered_at", "id"))
    assert [v.stage_name for v in visits] == ["Lead", "Proposal"]
    assert visits[0].left_at == visits[1].entered_at
    deal.refresh_from_db()
    assert visits[1].left_at == deal.closed_at


def test_the_deal_page_lists_the_stage_history(rep_client, rep, pipeline, stages):
    deal = deal_create(
        actor=rep, pipeline=pipeline, stage=stages["Lead"], title="Solar", value_cents=100
    )
    StageVisit.objects.filter(deal=deal).update(
        entered_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    )
    deal_move(actor=rep, deal=deal, stage=stages["Proposal"])
    page = rep_client.get(reverse("crm:deal_detail", args=[deal.pk])).text
    assert 'id="stage-visits"' in page
    assert "Proposal: " in page
    assert "(now)" in page
    assert "Lead: " in page
