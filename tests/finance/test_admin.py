import datetime

import pytest
from django.contrib import admin

from finance.models import ExchangeRate, ForecastDeal, RevenueEntry, RevenueForecast, RevenueTarget
from tests.finance.factories import (
    ExchangeRateFactory,
    RevenueEntryFactory,
    RevenueTargetFactory,
    generate_forecast,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [RevenueForecast, ExchangeRate, RevenueEntry, RevenueTarget])
def test_finance_models_are_in_the_admin_with_search_and_filters(model):
    model_admin = admin.site._registry[model]
    assert model_admin.search_fields and model_admin.list_filter


def test_forecast_deals_stay_out_of_the_admin_because_of_their_composite_key():
    assert ForecastDeal not in admin.site._registry


def test_admin_pages_list_search_and_show_a_forecast(client, staff_user, manager, team, make_deal):
    make_deal(value_cents=10_000)
    forecast = generate_forecast(manager, team, end=datetime.date(2026, 1, 31))
    ExchangeRateFactory()
    RevenueEntryFactory(team=team)
    RevenueTargetFactory(team=team)
    client.force_login(staff_user)
    for url in ["revenueforecast", "exchangerate", "revenueentry", "revenuetarget"]:
        response = client.get(f"/admin/finance/{url}/", {"q": "North"})
        assert response.status_code == 200, url
    page = client.get(f"/admin/finance/revenueforecast/{forecast.pk}/change/").text
    assert f"/forecasts/{forecast.pk}/" in page
    assert "1 deal on the forecast page" in page


def test_a_target_must_start_on_its_periods_first_day(team):
    from django.core.exceptions import ValidationError

    target = RevenueTargetFactory.build(
        team=team, period_type="quarterly", period_start=datetime.date(2026, 2, 1)
    )
    with pytest.raises(ValidationError, match="starts on 2026-01-01"):
        target.full_clean()
