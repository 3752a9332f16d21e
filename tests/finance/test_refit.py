"""Learned probabilities are refit nightly (cron, through the task queue) and on demand (the
probabilities page's button, the command); forecasts and deal pages read the last refit."""

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from crm.models import Deal, DealStatus, StageVisit
from finance.learned import deal_explanation
from finance.models import LearnedRecord
from finance.services import learned_probabilities_refit
from finance.tasks import refit_learned_probabilities
from tests.crm.factories import DealFactory

pytestmark = pytest.mark.django_db

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
CLOSED = datetime.datetime(2026, 5, 1, 12, tzinfo=datetime.UTC)


def _closed_in(pipeline, stage_name, won, days=3):
    stage = pipeline.stages.get(name=stage_name)
    deal = Deal.objects.create(
        pipeline=pipeline,
        stage=pipeline.stages.get(is_won=won, is_lost=not won),
        title="Past",
        value_cents=100,
        currency=pipeline.currency,
        status=DealStatus.WON if won else DealStatus.LOST,
        closed_at=CLOSED,
    )
    StageVisit.objects.create(
        deal=deal,
        stage_id=stage.pk,
        stage_name=stage.name,
        entered_at=CLOSED - datetime.timedelta(days=days),
        left_at=CLOSED,
    )


def test_the_deal_page_keeps_the_last_refit_until_the_next(pipeline):
    for index in range(10):
        _closed_in(pipeline, "Proposal", won=index < 2)
    deal = DealFactory(pipeline=pipeline, stage=pipeline.stages.get(name="Proposal"))
    assert deal_explanation(deal, now=deal.stage_entered_at).closed == 0  # never refit
    learned_probabilities_refit(team=pipeline.team)
    before = deal_explanation(deal, now=deal.stage_entered_at)
    assert (before.wins, before.closed, before.probability) == (2, 10, 40)  # (2 + 10) / 30
    for _ in range(10):
        _closed_in(pipeline, "Proposal", won=True)
    assert deal_explanation(deal, now=deal.stage_entered_at).closed == 10
    learned_probabilities_refit(team=pipeline.team)
    after = deal_explanation(deal, now=deal.stage_entered_at)
    assert (after.wins, after.closed) == (12, 20)
    assert after.fitted_at > before.fitted_at


def test_a_refit_again_counts_the_same_record(pipeline):
    for index in range(6):
        _closed_in(pipeline, "Lead", won=index == 0, days=20)
    first = learned_probabilities_refit(team=pipeline.team)
    rows = list(LearnedRecord.objects.values_list("stage_id", "band_days", "wins", "closed"))
    assert first == learned_probabilities_refit(team=pipeline.team) == 3  # bands 0+, 7+, 14+
    assert sorted(rows) == sorted(
        LearnedRecord.objects.values_list("stage_id", "band_days", "wins", "closed")
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_a_refit_first_locks_the_teams_pipelines(pipeline):
    with CaptureQueriesContext(connection) as queries:
        learned_probabilities_refit(team=pipeline.team)
    locking = [q["sql"] for q in queries.captured_queries if "FOR NO KEY UPDATE" in q["sql"]]
    assert locking and '"crm_pipelines"' in locking[0]
    first_read = next(q["sql"] for q in queries.captured_queries if "SELECT" in q["sql"])
    assert first_read == locking[0]


def test_the_command_refits_every_team_or_one(pipeline, other_team, capsys):
    _closed_in(pipeline, "Lead", won=True)
    call_command("refit_probabilities")
    out = capsys.readouterr().out
    assert "North: 1 learned record." in out
    assert "South: 0 learned records." in out
    call_command("refit_probabilities", "--team", "North")
    assert LearnedRecord.objects.count() == 1
    with pytest.raises(CommandError, match="No team named 'Nowhere'"):
        call_command("refit_probabilities", "--team", "Nowhere")


@override_settings(TASKS=DATABASE_QUEUE)
def test_the_nightly_command_queues_one_task_per_team_and_refits_nothing_here(
    pipeline, other_team, capsys
):
    _closed_in(pipeline, "Lead", won=True)
    call_command("refit_probabilities", "--enqueue")
    queued = DBTaskResult.objects.filter(task_path="finance.tasks.refit_learned_probabilities")
    assert sorted(result.args_kwargs["args"][0] for result in queued) == sorted(
        [str(pipeline.team_id), str(other_team.pk)]
    )
    assert not LearnedRecord.objects.exists()
    assert "refit queued" in capsys.readouterr().out


def test_the_task_refits(pipeline):
    _closed_in(pipeline, "Lead", won=False)
    assert refit_learned_probabilities.enqueue(str(pipeline.team_id)).return_value == 1
    assert LearnedRecord.objects.get().closed == 1


def test_a_manager_refits_on_demand_from_the_probabilities_page(client, manager, pipeline):
    _closed_in(pipeline, "Lead", won=True)
    client.force_login(manager)
    page = client.get(reverse("finance:probabilities")).text
    assert "Learned probabilities not fitted yet" in page
    response = client.post(reverse("finance:probabilities_refit"), follow=True)
    assert "Learned probabilities refit: 1 record for North." in response.text
    assert "Learned probabilities last refit" in response.text


def test_a_rep_may_not_refit(rep_client, pipeline):
    assert rep_client.post(reverse("finance:probabilities_refit")).status_code == 404
    assert (
        "Refit learned probabilities now"
        not in rep_client.get(reverse("finance:probabilities")).text
    )
    assert not LearnedRecord.objects.exists()
