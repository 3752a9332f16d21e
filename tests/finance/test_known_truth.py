"""Learned probabilities proven on demo data with a known truth (`crm.demo.TRUE_WIN_PERCENT`):
the demo's closed deals were won with stated probabilities per pipeline, stage and time in
stage that differ from the configured ones, and the learned probabilities must find them.

The stated tolerance, per (stage, band) cell of n closed deals whose true win rate is t: three
standard errors of a proportion, 3 x sqrt(t(1 - t) / n), plus the prior's pull toward the
configured probability c, PRIOR_WEIGHT / (n + PRIOR_WEIGHT) x |c - t|."""

import datetime
import math

import numpy as np
import pytest
from django.utils import timezone

from coop import demo as coop_demo
from crm import demo as crm_demo
from crm.models import DealStatus, Pipeline, StageVisit
from finance.intervals import revenue_interval, simulate_totals
from finance.learned import (
    DAY_BANDS,
    PRIOR_WEIGHT,
    forecast_probabilities,
    pipeline_calibration,
    shrunk_percent,
    stage_band_records,
)
from finance.models import ProbabilityChoice
from finance.services import learned_probabilities_refit

pytestmark = pytest.mark.django_db

# A moderate demo: about 3,500 closed deals in two pipelines (seconds, not minutes).
DEMO = {"seed": 2026, "contacts": 40, "deals": 6000, "interactions": 0}
HELD_OUT_DAYS = 180


@pytest.fixture
def demo_team():
    coop_demo.seed(options=DEMO, log=lambda _line: None)
    crm_demo.seed(options=DEMO, log=lambda _line: None)
    pipelines = list(Pipeline.objects.filter(team__name=coop_demo.DEMO_TEAM))
    team = pipelines[0].team
    for pipeline in pipelines:
        ProbabilityChoice.objects.create(pipeline=pipeline, use_learned=True)
    learned_probabilities_refit(team=team)
    return team


def _truth_per_cell(team) -> dict[tuple, tuple[float, int, int, str]]:
    """(stage id, band) -> (true win rate of the closed deals in it, their number, the
    stage's configured percent, a label), from the stated truth of each demo deal."""
    visits = StageVisit.objects.filter(
        deal__pipeline__team=team, deal__status__in=[DealStatus.WON, DealStatus.LOST]
    ).values_list("deal__pipeline__name", "stage_id", "stage_name", "entered_at", "left_at")
    configured = dict(team.pipelines.values_list("stages__pk", "stages__probability"))
    sums: dict[tuple, list] = {}
    for pipeline, stage_id, stage, entered, left in visits:
        days = (left - entered).days
        truth = crm_demo.true_win_percent(pipeline, stage, days) / 100
        for bound in DAY_BANDS:
            if days >= bound:
                cell = sums.setdefault((stage_id, bound), [0.0, 0, f"{pipeline}/{stage} {bound}+"])
                cell[0] += truth
                cell[1] += 1
    return {
        key: (total / count, count, configured[key[0]], label)
        for key, (total, count, label) in sums.items()
    }


def test_the_truth_uses_the_learned_bands():
    assert crm_demo.TRUTH_DAY_BANDS == DAY_BANDS


def test_learned_probabilities_recover_the_stated_truth(demo_team):
    learned = forecast_probabilities(demo_team.pk, timezone.now()).learned
    cells = _truth_per_cell(demo_team)
    assert len(cells) == 7 * len(DAY_BANDS)  # 4 + 3 open stages, every band filled
    errors, configured_errors = [], []
    for key, (truth, count, configured, label) in cells.items():
        tolerance = 3 * math.sqrt(truth * (1 - truth) / count) + PRIOR_WEIGHT / (
            count + PRIOR_WEIGHT
        ) * abs(configured / 100 - truth)
        error = abs(learned[key] / 100 - truth)
        assert error <= tolerance + 0.005, (label, learned[key], round(100 * truth, 1), count)
        errors.append(error)
        configured_errors.append(abs(configured / 100 - truth))
    # Far closer than the configured probabilities: a few points against about fifteen.
    assert np.mean(errors) < 0.04
    assert np.mean(configured_errors) > 0.12


def test_learned_probabilities_score_better_on_the_held_out_months(demo_team):
    cutoff = timezone.localdate() - datetime.timedelta(days=HELD_OUT_DAYS)
    scores = {
        pipeline.name: pipeline_calibration(pipeline, cutoff)
        for pipeline in demo_team.pipelines.all()
    }
    for name, calibration in scores.items():
        assert calibration.held_out > 200, name
        assert calibration.months >= 6, name
        assert calibration.brier_learned < calibration.brier_configured, name
    # The monthly forecast of Sales (about 140 closed deals a month) errs by less than half as
    # much. Partnerships closes about 30 deals a month, whose values span a factor of 500:
    # its monthly error is noise whichever probabilities are used (`make bench` measures it
    # on the large demo).
    sales = scores["Sales"]
    assert sales.mape_learned < sales.mape_configured / 2


def test_the_interval_made_with_learned_probabilities_holds_the_true_outcomes(demo_team):
    """Each held-out month of Sales: the P10-P90 interval of its closed deals' revenue, made
    with each deal's probability when it entered its stage (learned from the deals closed
    before the cutoff, or configured), against totals drawn from the deals' true
    probabilities. Learned: about 80 % of the draws inside; configured: far fewer."""
    pipeline = demo_team.pipelines.get(name="Sales")
    cutoff = timezone.now() - datetime.timedelta(days=HELD_OUT_DAYS)
    records = stage_band_records([pipeline.pk], closed_before=cutoff)
    configured = dict(pipeline.stages.values_list("pk", "probability"))
    months: dict[tuple, list] = {}
    for stage_id, stage, entered, left, value in StageVisit.objects.filter(
        deal__pipeline=pipeline,
        deal__status__in=[DealStatus.WON, DealStatus.LOST],
        deal__closed_at__gte=cutoff,
    ).values_list("stage_id", "stage_name", "entered_at", "left_at", "deal__value_cents"):
        learned = shrunk_percent(*records.get((stage_id, 0), (0, 0)), configured[stage_id])
        truth = crm_demo.true_win_percent("Sales", stage, (left - entered).days)
        months.setdefault((left.year, left.month), []).append(
            (value, learned, configured[stage_id], truth)
        )
    coverage = {"learned": [], "configured": []}
    for deals in months.values():
        values, learned, stage_configured, truth = (
            list(column) for column in zip(*deals, strict=True)
        )
        draws = simulate_totals(
            np.array(values, dtype=float), np.array(truth) / 100, draws=4000, seed=11
        )
        for name, probabilities in (("learned", learned), ("configured", stage_configured)):
            interval = revenue_interval(
                realized_cents=0, values_cents=values, probabilities=probabilities
            )
            inside = (draws >= interval["p10"]) & (draws <= interval["p90"])
            coverage[name].append(float(inside.mean()))
    assert len(months) >= 6
    assert np.mean(coverage["learned"]) == pytest.approx(0.80, abs=0.08)
    assert np.mean(coverage["configured"]) < 0.3
