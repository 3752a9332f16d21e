import pytest

from coop import demo as coop_demo
from crm import demo as crm_demo
from crm.models import Deal, DealStatus
from finance import demo
from finance import demo as finance_demo
from finance.models import ExchangeRate, RevenueEntry, RevenueForecast, RevenueSource, RevenueTarget
from finance.past_periods import forecast_accuracy
from integrations.management.commands.seed_demo import DEMO_SEEDERS

pytestmark = pytest.mark.django_db

SMALL = {"seed": 7, "contacts": 20, "deals": 60, "interactions": 0}


def _counts():
    return (
        ExchangeRate.objects.count(),
        RevenueTarget.objects.count(),
        RevenueEntry.objects.count(),
        RevenueForecast.objects.count(),
    )


def _seed(lines):
    for seeder in (coop_demo.seed, crm_demo.seed, demo.seed):
        seeder(options=SMALL, log=lines.append)


def test_the_finance_seeder_runs_after_the_crm_one():
    assert DEMO_SEEDERS.index(finance_demo.seed) > DEMO_SEEDERS.index(crm_demo.seed)


def test_seed_adds_rates_targets_revenue_and_past_forecasts_once():
    lines = []
    _seed(lines)
    first = _counts()
    assert all(first)
    won = Deal.objects.filter(status=DealStatus.WON)
    assert won.exists()
    assert RevenueEntry.objects.filter(source=RevenueSource.DEAL).count() == won.count()
    assert RevenueEntry.objects.filter(source=RevenueSource.MANUAL, currency="GBP").exists()
    assert RevenueForecast.objects.filter(scope_user__username="rafael").count() == 4
    latest = RevenueForecast.objects.filter(scope_user=None).order_by("-created_at").first()
    assert forecast_accuracy(latest)["periods"] > 0
    past = RevenueForecast.objects.filter(end_date__lt=latest.forecast_date)
    assert past.count() == 4
    assert all(f.forecast_date < f.start_date for f in past)
    assert f"Finance demo: revenue of {won.count()} won deal(s) booked, 8 new forecast(s)." in lines
    _seed(lines)
    assert _counts() == first
    assert "Finance demo: revenue of 0 won deal(s) booked, 0 new forecast(s)." in lines
