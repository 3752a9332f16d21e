"""What the finance work adds to the CRM deal flows: stage expected values kept up to date
and revenue booked when a deal is won, both inside the deal services' transactions."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from crm import services as crm
from crm.models import PipelineStage
from finance.models import RevenueEntry, RevenueSource
from integrations import deal_closing
from integrations.deal_closing import deal_close
from tests.crm.factories import lost_reason_for

pytestmark = pytest.mark.django_db


def _stage_values(pipeline):
    return {
        stage.name: (stage.expected_value_cents, stage.expected_value_currency)
        for stage in PipelineStage.objects.filter(pipeline=pipeline)
    }


def _create(rep, pipeline, stage, value_cents, title="Deal"):
    return crm.deal_create(
        actor=rep,
        pipeline=pipeline,
        stage=pipeline.stages.get(name=stage),
        title=title,
        value_cents=value_cents,
        expected_close_date=datetime.date(2026, 2, 1),
    )


def test_creating_deals_sets_each_stage_to_its_weighted_open_value(rep, pipeline):
    _create(rep, pipeline, "Proposal", 12_345)
    _create(rep, pipeline, "Proposal", 10_000)
    _create(rep, pipeline, "Lead", 1_235)
    values = _stage_values(pipeline)
    assert values["Proposal"] == (11_172, "EUR")  # 22345 x 50 % = 11172.5 -> 11172 (even)
    assert values["Lead"] == (124, "EUR")  # 123.5 -> 124 (even)
    assert values["Negotiation"] == (0, "EUR")
    assert values["Won"] == (0, "EUR")


def test_updating_a_deal_value_refreshes_its_stage(rep, pipeline):
    deal = _create(rep, pipeline, "Negotiation", 10_000)
    crm.deal_update(
        actor=rep,
        deal=deal,
        title=deal.title,
        value_cents=20_001,
        contact=None,
        expected_close_date=deal.expected_close_date,
    )
    assert _stage_values(pipeline)["Negotiation"] == (16_001, "EUR")  # 16000.8


def test_moving_a_deal_moves_its_weight_between_stages(rep, pipeline):
    deal = _create(rep, pipeline, "Lead", 10_000)
    crm.deal_move(actor=rep, deal=deal, stage=pipeline.stages.get(name="Negotiation"))
    values = _stage_values(pipeline)
    assert values["Lead"][0] == 0
    assert values["Negotiation"][0] == 8_000


def test_closing_a_deal_takes_it_out_of_the_open_value(rep, pipeline):
    deal = _create(rep, pipeline, "Proposal", 10_000)
    deal_close(actor=rep, deal=deal, won=False, lost_reason=lost_reason_for(deal))
    assert _stage_values(pipeline)["Proposal"][0] == 0


def test_winning_a_deal_books_its_revenue_on_the_owners_closing_day(rep, pipeline, team):
    rep.time_zone = "Pacific/Auckland"
    rep.save(update_fields=["time_zone"])
    deal = _create(rep, pipeline, "Proposal", 25_000, title="Solar roof")
    deal = deal_close(actor=rep, deal=deal, won=True)
    entry = RevenueEntry.objects.get(deal=deal)
    assert entry.source == RevenueSource.DEAL
    assert (entry.amount_cents, entry.currency, entry.team_id) == (25_000, "EUR", team.pk)
    assert entry.owner == rep
    assert entry.booked_on == deal.closed_at.astimezone(rep.zone).date()
    assert entry.description == "Won deal: Solar roof"


def test_losing_a_deal_books_no_revenue(rep, pipeline):
    deal = _create(rep, pipeline, "Proposal", 25_000)
    deal_close(actor=rep, deal=deal, won=False, lost_reason=lost_reason_for(deal))
    assert not RevenueEntry.objects.exists()


def test_a_deal_closed_twice_books_its_revenue_once(rep, pipeline):
    deal = _create(rep, pipeline, "Proposal", 25_000)
    deal_close(actor=rep, deal=deal, won=True)
    with pytest.raises(ValidationError, match="already closed"):
        deal_close(actor=rep, deal=deal, won=True)
    assert RevenueEntry.objects.count() == 1


def test_a_failing_revenue_booking_rolls_the_closure_back(rep, pipeline, monkeypatch):
    deal = _create(rep, pipeline, "Proposal", 25_000)

    def broken(**kwargs):
        raise RuntimeError("finance is down")

    monkeypatch.setattr(deal_closing, "revenue_book_won_deal", broken)
    with pytest.raises(RuntimeError):
        deal_close(actor=rep, deal=deal, won=True)
    deal.refresh_from_db()
    assert deal.is_open
