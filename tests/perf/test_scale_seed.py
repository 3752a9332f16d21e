"""`seed_demo --scale large` builds the benchmark data; far too big to load in the test
suite, so its generators are checked on their own (the small default is covered by the
modules' demo tests)."""

import datetime
import random
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from coop.demo import DEMO_PEOPLE, DEMO_TEAM, _scale_people
from coop.models import User
from crm import demo as crm_demo
from crm.demo import (
    PIPELINES,
    SCALE_CLOSED_EVERY,
    SCALE_PIPELINES,
    _deals,
    _interactions,
    demo_id,
)
from crm.models import (
    Deal,
    DealStatus,
    LostReason,
    Pipeline,
    PipelineStage,
    StageChange,
    StageChangeKind,
)
from health.demo import EXTRA_REPS
from integrations.management.commands.seed_demo import SCALES


def _rng() -> random.Random:
    return random.Random(1)  # noqa: S311 (demo data)


def _pipelines():
    result = []
    for name, currency, specs in PIPELINES + SCALE_PIPELINES:
        pipeline = Pipeline(name=name, currency=currency)
        stages = [
            PipelineStage(
                pipeline=pipeline, name=n, position=i, probability=p, is_won=w, is_lost=lost
            )
            for i, (n, p, w, lost) in enumerate(specs)
        ]
        result.append((pipeline, stages))
    return result


def test_the_large_scale_has_fifty_users_in_ten_teams():
    added = _scale_people()
    assert len(DEMO_PEOPLE) + len(EXTRA_REPS) + len(added) == 50
    teams = {team for team, *_ in added}
    assert len(teams) == 10
    demo_team = [p for p in added if p[0] == "Demo Co-op Sales"]
    # 4 team members of the core, 4 health reps and these make the 10-person team.
    assert len(demo_team) == 2


def test_large_deals_are_one_in_three_closed_over_five_pipelines_open_ones_within_a_year():
    now = timezone.now()
    owners = [User(username="a"), User(username="b")]
    deals = [
        deal
        for deal, _visit in _deals(_rng(), _pipelines(), owners, 100, 3000, now, closed_every=3)
    ]
    open_deals = [d for d in deals if d.status == DealStatus.OPEN]
    assert len(open_deals) == 2000
    assert {d.status for d in deals if d not in open_deals} == {DealStatus.WON, DealStatus.LOST}
    assert len({d.pipeline.name for d in deals}) == 5
    assert all(
        now.date() <= d.expected_close_date <= now.date() + datetime.timedelta(days=330)
        for d in open_deals
    )


def test_the_busy_contact_gets_the_first_interactions():
    rows = list(_interactions(_rng(), [User(username="a")], 50, 400, timezone.now(), busy=100))
    assert all(row.contact_id == demo_id("contact", 0) for row in rows[:100])
    assert {row.contact_id for row in rows[100:]} != {demo_id("contact", 0)}


def test_the_large_scale_sizes_and_an_unknown_scale():
    assert SCALES["large"] == {"contacts": 20_000, "deals": 150_000, "interactions": 1_000_000}
    with pytest.raises(CommandError, match="huge"):
        call_command("seed_demo", "--scale", "huge")


def test_the_xlarge_scale_has_a_million_open_deals_and_fewer_interactions_than_large():
    xlarge = SCALES["xlarge"]
    assert xlarge["deals"] - xlarge["deals"] // SCALE_CLOSED_EVERY == 1_000_000
    assert xlarge["interactions"] < SCALES["large"]["interactions"]


@pytest.mark.django_db
@pytest.mark.usefixtures("debug_on")
def test_the_xlarge_scale_is_refused_on_sqlite_writing_nothing():
    if connection.vendor != "sqlite":
        pytest.skip("on PostgreSQL it would load 1,500,000 deals")
    users = User.objects.count()
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("seed_demo", "--scale", "xlarge", stdout=StringIO())
    assert User.objects.count() == users
    assert not Deal.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("debug_on")
def test_lost_reasons_are_set_in_batches_on_every_lost_deal(monkeypatch):
    """The stage history flushes each reason's lost deals every BATCH_SIZE (so that its
    memory does not grow with the deals): with tiny batches every lost deal still gets a
    reason, the team's reasons in turn."""
    monkeypatch.setattr(crm_demo, "BATCH_SIZE", 3)
    call_command(
        "seed_demo", "--contacts", "20", "--deals", "200", "--interactions", "0", stdout=StringIO()
    )
    lost = Deal.objects.filter(status=DealStatus.LOST)
    assert lost.count() > 3 * LostReason.objects.count()
    assert not lost.filter(lost_reason__isnull=True).exists()
    assert (
        lost.values("lost_reason").distinct().count()
        == LostReason.objects.filter(team__name=DEMO_TEAM, archived=False).count()
    )
    assert StageChange.objects.filter(deal__in=lost, kind=StageChangeKind.LOST).count() == (
        lost.count()
    )


@pytest.mark.django_db(transaction=True)  # seed_demo ends with VACUUM
@pytest.mark.usefixtures("debug_on")
def test_xlarge_deals_past_the_base_are_copies_with_their_visits_and_history(monkeypatch):
    """PostgreSQL: deal i past XLARGE_BASE_DEALS copies deal i mod XLARGE_BASE_DEALS in the
    database (status, stage, value, close date, stage visit, stage history), in batches;
    a second run adds nothing."""
    if connection.vendor != "postgresql":
        pytest.skip("the copies are made by PostgreSQL; SQLite refuses xlarge")
    monkeypatch.setattr(crm_demo, "XLARGE_BASE_DEALS", 30)
    monkeypatch.setattr(crm_demo, "COPY_BATCH_SIZE", 25)
    monkeypatch.setitem(SCALES, "xlarge", {"contacts": 10, "deals": 90, "interactions": 0})
    monkeypatch.setattr("crm.meeting_demo.seed_scale_events", lambda contacts, log: 0, raising=True)
    call_command("seed_demo", "--scale", "xlarge", stdout=StringIO())
    assert Deal.objects.count() == 90
    assert Deal.objects.filter(status=DealStatus.OPEN).count() == 60
    fields = ("status", "stage_id", "value_cents", "expected_close_date", "lost_reason_id")
    for index in (30, 59, 89):
        copy = Deal.objects.get(pk=crm_demo.copy_id(index))
        source = Deal.objects.get(pk=demo_id("deal", index % 30))
        assert [getattr(copy, f) for f in fields] == [getattr(source, f) for f in fields]
        assert copy.title.endswith(f"#{index + 1}")
        assert list(copy.stage_visits.values_list("stage_id", "entered_at")) == list(
            source.stage_visits.values_list("stage_id", "entered_at")
        )
        assert list(copy.stage_changes.values_list("kind", "to_stage_id")) == list(
            source.stage_changes.values_list("kind", "to_stage_id")
        )
    changes = StageChange.objects.count()
    call_command("seed_demo", "--scale", "xlarge", stdout=StringIO())
    assert (Deal.objects.count(), StageChange.objects.count()) == (90, changes)
