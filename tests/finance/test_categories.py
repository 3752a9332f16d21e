"""Forecast categories per period on a forecast: closed + commit, + best case, and the
weighted pipeline, from the categories the deals had when the forecast was made."""

import datetime

import pytest
from django.urls import reverse

from crm.models import Deal, DealStatus, ForecastCategory
from finance.categories import CategoryTotals, category_totals
from finance.models import ForecastDeal
from tests.finance.factories import generate_forecast

pytestmark = pytest.mark.django_db

JAN, FEB = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)


@pytest.fixture
def categorised(make_deal):
    """January: 1,000 won, 2,000 commit and 4,000 best case at 50 %, 8,000 pipeline at 10 %
    and 16,000 omitted at 50 %; February: 500 commit at 50 %."""
    deals = [
        (make_deal(status=DealStatus.WON, value_cents=100_000), None),
        (make_deal(value_cents=200_000), ForecastCategory.COMMIT),
        (make_deal(value_cents=400_000), ForecastCategory.BEST_CASE),
        (make_deal(stage="Lead", value_cents=800_000), ForecastCategory.PIPELINE),
        (make_deal(value_cents=1_600_000), ForecastCategory.OMITTED),
        (
            make_deal(value_cents=50_000, close=datetime.date(2026, 2, 3)),
            ForecastCategory.COMMIT,
        ),
    ]
    for deal, category in deals:
        if category is not None:
            Deal.objects.filter(pk=deal.pk).update(forecast_category=category)


def test_each_period_adds_commit_then_best_case_to_what_is_closed(manager, team, categorised):
    forecast = generate_forecast(manager, team)
    totals = category_totals(forecast)
    assert totals[JAN] == CategoryTotals(
        closed_cents=100_000,
        commit_cents=300_000,
        best_case_cents=700_000,
        # 2,000 x 50 % + 4,000 x 50 % + 8,000 x 10 %; the omitted deal is left out
        weighted_pipeline_cents=100_000 + 200_000 + 80_000,
    )
    assert totals[FEB] == CategoryTotals(0, 50_000, 50_000, 25_000)


def test_a_won_deal_counts_as_closed_whatever_its_category(manager, team, make_deal):
    make_deal(status=DealStatus.WON, value_cents=100_000)
    Deal.objects.update(forecast_category=ForecastCategory.OMITTED)
    forecast = generate_forecast(manager, team)
    assert ForecastDeal.objects.get(forecast=forecast).forecast_category == "closed"
    assert category_totals(forecast)[JAN].commit_cents == 100_000


def test_the_forecast_keeps_the_categories_it_was_made_with(manager, team, categorised):
    forecast = generate_forecast(manager, team)
    Deal.objects.update(forecast_category=ForecastCategory.OMITTED)
    assert category_totals(forecast)[JAN].best_case_cents == 700_000


def test_the_forecast_page_shows_the_category_columns(client, manager, team, categorised):
    forecast = generate_forecast(manager, team)
    client.force_login(manager)
    page = client.get(reverse("finance:detail", args=[forecast.pk])).text
    assert ">Closed + commit</th>" in page
    assert ">+ best case</th>" in page
    assert ">Weighted pipeline</th>" in page
    assert '<td class="num" data-column="commit">€3,000.00</td>' in page
    assert '<td class="num" data-column="best-case">€7,000.00</td>' in page
    assert '<td class="num" data-column="weighted-pipeline">€3,800.00</td>' in page
