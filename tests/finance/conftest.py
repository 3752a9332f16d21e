import datetime
import re

import pytest
from django.urls import reverse

from crm.models import Deal, DealStatus
from tests.crm.factories import PipelineFactory


@pytest.fixture
def pipeline(team):
    return PipelineFactory(team=team, name="Sales")


@pytest.fixture
def usd_pipeline(team):
    return PipelineFactory(team=team, name="Export", currency="USD")


@pytest.fixture
def make_deal(pipeline, rep):
    """A deal written directly (set-up, not the flow under test): open in a stage, or won/lost
    at noon UTC on its close date."""

    def make(
        stage="Proposal",
        value_cents=100_000,
        close=datetime.date(2026, 1, 15),
        status=DealStatus.OPEN,
        closed_at=None,
        owner=None,
        title="Deal",
        in_pipeline=None,
    ):
        target = in_pipeline or pipeline
        if status != DealStatus.OPEN and closed_at is None:
            closed_at = datetime.datetime.combine(close, datetime.time(12), tzinfo=datetime.UTC)
        if status != DealStatus.OPEN:
            stage = "Won" if status == DealStatus.WON else "Lost"
        return Deal.objects.create(
            pipeline=target,
            stage=target.stages.get(name=stage),
            owner=owner or rep,
            title=title,
            value_cents=value_cents,
            currency=target.currency,
            expected_close_date=close,
            status=status,
            closed_at=closed_at,
        )

    return make


@pytest.fixture
def stages_of():
    """Stage name -> stage id of the what-if probability fields the forecast page offers the
    signed-in client (one per stage of the forecast's open deals)."""

    def stages(client, forecast):
        page = client.get(reverse("finance:detail", args=[forecast.pk])).text
        fields = re.findall(r'<label for="id_stage_([0-9a-f-]+)">([^<]+?) \(\d+ deals?\)', page)
        return {name: stage_id for stage_id, name in fields}

    return stages
