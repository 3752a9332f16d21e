"""Learned stage probabilities: the record of closed deals by time in stage, shrunk toward
the configured probability with a Beta prior worth PRIOR_WEIGHT deals, explained per deal."""

import datetime
import random

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import Deal, DealStatus, StageVisit
from finance.learned import (
    PRIOR_WEIGHT,
    band_start,
    deal_explanation,
    pipeline_calibration,
    shrunk_percent,
)
from finance.services import learned_probabilities_refit
from tests.crm.factories import DealFactory
from tests.finance.factories import generate_forecast

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC)


def _closed_visit(pipeline, stage, days, won):
    entered = NOW - datetime.timedelta(days=200)
    deal = Deal.objects.create(
        pipeline=pipeline,
        stage=pipeline.stages.get(is_won=won, is_lost=not won),
        title="Past",
        value_cents=100,
        currency=pipeline.currency,
        status=DealStatus.WON if won else DealStatus.LOST,
        closed_at=entered + datetime.timedelta(days=days + 1),
    )
    StageVisit.objects.create(
        deal=deal,
        stage_id=stage.pk,
        stage_name=stage.name,
        entered_at=entered,
        left_at=entered + datetime.timedelta(days=days),
    )


def test_the_prior_weighs_as_twenty_deals():
    assert PRIOR_WEIGHT == 20
    assert shrunk_percent(0, 0, 50) == 50  # no record: the configured probability
    assert shrunk_percent(20, 20, 50) == 75  # as many deals as the prior: halfway
    assert shrunk_percent(2_000, 2_000, 50) == 100  # a long record wins: 99.5 %, rounded


def test_days_fall_in_their_band():
    assert [band_start(d) for d in (-1, 0, 6, 7, 13, 14, 29, 30, 400)] == [
        0,
        0,
        0,
        7,
        7,
        14,
        14,
        30,
        30,
    ]


def test_an_open_deal_is_measured_against_deals_that_stayed_as_long(pipeline):
    proposal = pipeline.stages.get(name="Proposal")  # configured 50 %
    for _ in range(60):
        _closed_visit(pipeline, proposal, days=3, won=True)  # left early: not counted
    for index in range(40):
        _closed_visit(pipeline, proposal, days=20, won=index < 10)  # stayed 14+: 10 of 40
    learned_probabilities_refit(team=pipeline.team)
    deal = DealFactory(pipeline=pipeline, stage=proposal)
    Deal.objects.filter(pk=deal.pk).update(stage_entered_at=NOW - datetime.timedelta(days=15))
    deal.refresh_from_db()
    explanation = deal_explanation(deal, now=NOW)
    assert (explanation.band_days, explanation.wins, explanation.closed) == (14, 10, 40)
    # (10 + 20 x 0.5) / (40 + 20) = 33.3 %
    assert explanation.probability == 33
    assert explanation.configured == 50


def test_the_deal_page_loads_the_explanation_by_url(rep_client, pipeline):
    proposal = pipeline.stages.get(name="Proposal")
    for index in range(4):
        _closed_visit(pipeline, proposal, days=1, won=index == 0)
    learned_probabilities_refit(team=pipeline.team)
    deal = DealFactory(pipeline=pipeline, stage=proposal, stage_entered_at=timezone.now())
    page = rep_client.get(reverse("crm:deal_detail", args=[deal.pk])).text
    url = reverse("finance:deal_probability", args=[deal.pk])
    assert f'hx-get="{url}"' in page
    row = rep_client.get(url).text
    # (1 + 10) / (4 + 20) = 45.8 %
    assert (
        "<strong>46 %</strong> — deals in Proposal for 0+ days in this pipeline won 1 of 4" in row
    )


def test_a_deal_of_another_team_is_a_404(client, outsider, pipeline):
    deal = DealFactory(pipeline=pipeline)
    client.force_login(outsider)
    assert client.get(reverse("finance:deal_probability", args=[deal.pk])).status_code == 404


TRUTH = {"Lead": 30, "Proposal": 20, "Negotiation": 60}  # configured: 10, 50 and 80 %
CUTOFF = datetime.date(2026, 3, 1)


def _history_with_known_truth(pipeline, per_stage=300, seed=7):
    """Deals closed before and after CUTOFF, each won with its stage's true probability."""
    rng = random.Random(seed)  # noqa: S311 - test data
    won_stage = pipeline.stages.get(is_won=True)
    lost_stage = pipeline.stages.get(is_lost=True)
    deals, visits = [], []
    for name, truth in TRUTH.items():
        stage = pipeline.stages.get(name=name)
        for index in range(2 * per_stage):
            closed = datetime.datetime.combine(
                CUTOFF + datetime.timedelta(days=-60 if index % 2 else 30),
                datetime.time(12),
                datetime.UTC,
            )
            won = rng.random() < truth / 100
            deal = Deal(
                pipeline=pipeline,
                stage=won_stage if won else lost_stage,
                title=f"{name} {index}",
                value_cents=100,
                currency=pipeline.currency,
                status=DealStatus.WON if won else DealStatus.LOST,
                closed_at=closed,
            )
            deals.append(deal)
            visits.append(
                StageVisit(
                    deal=deal,
                    stage_id=stage.pk,
                    stage_name=name,
                    entered_at=closed - datetime.timedelta(days=10),
                    left_at=closed,
                )
            )
    Deal.objects.bulk_create(deals)
    StageVisit.objects.bulk_create(visits)
    learned_probabilities_refit(team=pipeline.team)


def test_learned_probabilities_recover_the_truth_and_score_better(pipeline):
    _history_with_known_truth(pipeline)
    for name, truth in TRUTH.items():
        deal = DealFactory(pipeline=pipeline, stage=pipeline.stages.get(name=name))
        learned = deal_explanation(deal, now=deal.stage_entered_at).probability
        assert abs(learned - truth) <= 5, (name, learned, truth)  # the stated tolerance
    calibration = pipeline_calibration(pipeline, CUTOFF)
    assert (calibration.trained_on, calibration.held_out) == (900, 900)
    assert calibration.brier_learned < calibration.brier_configured - 0.03
    rows = {row["low"]: row for row in calibration.reliability}
    # Configured Negotiation deals (80 %) were won about 60 % of the time.
    assert rows[80]["configured"][0] == 300
    assert abs(rows[80]["configured"][2] - 0.6) < 0.08


def test_the_calibration_page_shows_both_brier_scores(client, manager, pipeline):
    _history_with_known_truth(pipeline, per_stage=30)
    client.force_login(manager)
    page = client.get(reverse("finance:probabilities") + "?cutoff=2026-03-01").text
    assert 'data-brier="configured"' in page
    assert 'data-brier="learned"' in page
    assert "Reliability" in page


def test_a_rep_sees_no_calibration(client, rep, pipeline):
    client.force_login(rep)
    page = client.get(reverse("finance:probabilities")).text
    assert "Calibration is shown to the managers and finance staff" in page


def test_a_manager_chooses_learned_and_the_forecast_uses_and_records_it(
    client, manager, rep, team, pipeline
):
    _history_with_known_truth(pipeline, per_stage=100)
    negotiation = pipeline.stages.get(name="Negotiation")
    deal = DealFactory(
        pipeline=pipeline,
        stage=negotiation,
        owner=rep,
        value_cents=100_000,
        expected_close_date=datetime.date(2026, 1, 15),
    )
    client.force_login(manager)
    response = client.post(
        reverse("finance:probabilities"),
        {"pipeline": pipeline.pk, "source": "learned"},
        follow=True,
    )
    assert "Sales: forecasts now use learned probabilities." in response.text
    forecast = generate_forecast(manager, team)
    assert forecast.probability_sources["pipelines"] == {"Sales": "learned"}
    learned = deal_explanation(deal).probability
    assert forecast.deals.get(deal_id=deal.pk).probability == learned != 80
    page = client.get(reverse("finance:detail", args=[forecast.pk])).text
    assert "Stage probabilities used: Sales — learned" in page


def test_a_rep_may_not_choose(client, rep, pipeline):
    client.force_login(rep)
    data = {"pipeline": pipeline.pk, "source": "learned"}
    assert client.post(reverse("finance:probabilities"), data).status_code == 404


def test_without_a_record_the_row_says_it_is_the_configured_probability(rep_client, pipeline):
    deal = DealFactory(pipeline=pipeline, stage=pipeline.stages.get(name="Proposal"))
    row = rep_client.get(reverse("finance:deal_probability", args=[deal.pk])).text
    assert "<strong>50 %</strong> — no deal that was in Proposal for 0+ days" in row
