"""`seed_demo --scale large` builds the benchmark data; far too big to load in the test
suite, so its generators are checked on their own (the small default is covered by the
modules' demo tests)."""

import datetime
import random

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from coop.demo import DEMO_PEOPLE, _scale_people
from coop.models import User
from crm.demo import PIPELINES, SCALE_PIPELINES, _deals, _interactions, demo_id
from crm.models import DealStatus, Pipeline, PipelineStage
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
