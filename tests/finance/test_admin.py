import datetime
from types import SimpleNamespace

import pytest
from django.contrib import admin

from finance.forecasting import WhatIf
from finance.models import (
    ExchangeRate,
    ForecastDeal,
    RevenueEntry,
    RevenueForecast,
    RevenueSource,
    RevenueTarget,
)
from finance.services import scenario_save
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


@pytest.fixture
def finance_rows(team, other_team, manager, outsider):
    """Rows the searches and filters below match (North's monthly EUR forecast, manual EUR
    entry and monthly target; a USD to EUR rate) and rows none does (South's quarterly USD
    forecast, entry from a deal in USD and quarterly target; a CHF to GBP rate), but for
    South's scenario, which only the baseline filter finds."""
    wind = generate_forecast(
        outsider,
        other_team,
        scope_user=outsider,
        period_type="quarterly",
        currency="USD",
        name="Wind plan",
    )
    return SimpleNamespace(
        team=team,
        forecasts=(
            generate_forecast(manager, team, name="North plan"),
            wind,
            scenario_save(actor=outsider, baseline=wind, what_if=WhatIf(), name="Wind what-if"),
        ),
        rates=(ExchangeRateFactory(base="USD"), ExchangeRateFactory(base="CHF", quote="GBP")),
        entries=(
            RevenueEntryFactory(team=team, description="North retainer"),
            RevenueEntryFactory(
                team=other_team,
                description="Wind fee",
                source=RevenueSource.DEAL,
                currency="USD",
            ),
        ),
        targets=(
            RevenueTargetFactory(team=team),
            RevenueTargetFactory(team=other_team, period_type="quarterly"),
        ),
    )


def _cases(rows) -> dict:
    """Per model: (query parameters, the rows the changelist must show) for its search and
    each of its list filters."""
    (forecast, _, scenario), (rate, _), (entry, _), (target, _) = (
        rows.forecasts,
        rows.rates,
        rows.entries,
        rows.targets,
    )
    return {
        RevenueForecast: [
            ({"q": "north"}, [forecast]),
            ({"period_type__exact": "monthly"}, [forecast]),
            ({"team__id__exact": rows.team.pk}, [forecast]),
            ({"currency__exact": "EUR"}, [forecast]),
            ({"baseline__isempty": "0"}, [scenario]),
        ],
        ExchangeRate: [
            ({"q": "usd"}, [rate]),
            ({"base__exact": "USD"}, [rate]),
            ({"quote__exact": "EUR"}, [rate]),
        ],
        RevenueEntry: [
            ({"q": "north"}, [entry]),
            ({"source__exact": "manual"}, [entry]),
            ({"team__id__exact": rows.team.pk}, [entry]),
            ({"currency__exact": "EUR"}, [entry]),
        ],
        RevenueTarget: [
            ({"q": "north"}, [target]),
            ({"period_type__exact": "monthly"}, [target]),
            ({"team__id__exact": rows.team.pk}, [target]),
        ],
    }


@pytest.mark.parametrize("model", [RevenueForecast, ExchangeRate, RevenueEntry, RevenueTarget])
def test_finance_changelists_show_only_what_the_search_and_each_filter_match(
    admin_list, finance_rows, model
):
    admin_list(model, _cases(finance_rows)[model])


def test_the_forecast_admin_page_links_the_forecast_page(
    client, staff_user, manager, team, make_deal
):
    make_deal(value_cents=10_000)
    forecast = generate_forecast(manager, team, end=datetime.date(2026, 1, 31))
    client.force_login(staff_user)
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
