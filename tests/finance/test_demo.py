import io

import pytest
from django.core.management import call_command

from coop.demo import DEMO_TEAM
from coop.models import Team
from finance.models import ExchangeRate, RevenueEntry, RevenueForecast, RevenueTarget
from finance.selectors import forecast_accuracy
from tests.crm.factories import PipelineFactory

pytestmark = pytest.mark.django_db


def _counts():
    return (
        ExchangeRate.objects.count(),
        RevenueTarget.objects.count(),
        RevenueEntry.objects.count(),
        RevenueForecast.objects.count(),
    )


def test_seed_demo_adds_rates_revenue_history_and_past_forecasts_once():
    team, _ = Team.objects.get_or_create(name=DEMO_TEAM)
    PipelineFactory(team=team, name="Demo sales")
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = _counts()
    assert all(first)
    assert RevenueForecast.objects.filter(scope_user__username="rafael").exists()
    assert RevenueEntry.objects.filter(source="manual", currency="GBP").exists()
    latest = RevenueForecast.objects.filter(scope_user=None).order_by("-created_at").first()
    assert forecast_accuracy(latest)["periods"] > 0
    past = RevenueForecast.objects.filter(end_date__lt=latest.forecast_date)
    assert past.count() == 4
    assert all(f.forecast_date < f.start_date for f in past)
    call_command("seed_demo", stdout=out)
    assert _counts() == first
    assert "8 new forecast(s)" in out.getvalue()
    assert "0 new forecast(s)" in out.getvalue()


def test_seed_demo_without_a_pipeline_seeds_what_it_can_and_says_why():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert ExchangeRate.objects.exists() and RevenueEntry.objects.exists()
    assert not RevenueForecast.objects.exists()
    assert "no pipeline yet" in out.getvalue()
