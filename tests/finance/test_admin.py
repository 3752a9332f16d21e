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


@pytest.fixture
def recorded_rows(team, other_team, manager, outsider):
    """North's monthly EUR team call by the manager and one learned record of its Sales
    pipeline (what the searches and filters below match); South's quarterly USD rep call and a
    learned record of its Export pipeline (what none matches)."""
    from django.utils import timezone

    from finance.models import ForecastSubmission, LearnedRecord
    from tests.crm.factories import PipelineFactory

    def call(**fields):
        return ForecastSubmission.objects.create(period_start=datetime.date(2026, 1, 1), **fields)

    sales = PipelineFactory(team=team, name="Sales")
    export = PipelineFactory(team=other_team, name="Export")
    proposal = sales.stages.get(name="Proposal")
    return SimpleNamespace(
        team=team,
        sales=sales,
        proposal=proposal,
        calls=(
            call(
                team=team,
                submitted_by=manager,
                level="team",
                period_type="monthly",
                amount_cents=120_000,
                commit_cents=100_000,
                currency="EUR",
            ),
            call(
                team=other_team,
                submitted_by=outsider,
                level="rep",
                period_type="quarterly",
                amount_cents=50_000,
                currency="USD",
            ),
        ),
        learned=(
            LearnedRecord.objects.create(
                pipeline=sales,
                stage_id=proposal.pk,
                band_days=0,
                wins=3,
                closed=7,
                fitted_at=timezone.now(),
            ),
            LearnedRecord.objects.create(
                pipeline=export,
                stage_id=export.stages.get(name="Lead").pk,
                band_days=30,
                wins=1,
                closed=2,
                fitted_at=timezone.now(),
            ),
        ),
    )


def test_forecast_submissions_and_learned_records_are_listed_searched_and_filtered(
    admin_list, recorded_rows
):
    from finance.models import ForecastSubmission, LearnedRecord

    rows = recorded_rows
    north_call, north_record = rows.calls[0], rows.learned[0]
    admin_list(
        ForecastSubmission,
        [
            ({"q": "manager"}, [north_call]),
            ({"level__exact": "team"}, [north_call]),
            ({"period_type__exact": "monthly"}, [north_call]),
            ({"team__id__exact": rows.team.pk}, [north_call]),
            ({"currency__exact": "EUR"}, [north_call]),
        ],
    )
    admin_list(
        LearnedRecord,
        [
            ({"q": "sales"}, [north_record]),
            ({"pipeline__id__exact": rows.sales.pk}, [north_record]),
            ({"band_days": "0"}, [north_record]),
        ],
    )


@pytest.mark.parametrize(
    ("model_name", "shown"),
    [("forecastsubmission", ["€1,200.00", "€1,000.00"]), ("learnedrecord", ["Proposal"])],
)
def test_forecast_submissions_and_learned_records_are_read_only_in_the_admin(
    client, staff_user, recorded_rows, model_name, shown
):
    from finance.models import ForecastSubmission, LearnedRecord

    model = {"forecastsubmission": ForecastSubmission, "learnedrecord": LearnedRecord}[model_name]
    row = {ForecastSubmission: recorded_rows.calls[0], LearnedRecord: recorded_rows.learned[0]}[
        model
    ]
    before = list(model.objects.order_by("pk").values())
    client.force_login(staff_user)
    base = f"/admin/finance/{model_name}/"
    listing = client.get(base).text
    for text in shown:
        assert text in listing
    assert f"{base}add/" not in listing
    assert client.get(f"{base}add/").status_code == 403
    page = client.get(f"{base}{row.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    assert client.post(f"{base}{row.pk}/change/", {}).status_code == 403
    assert client.post(f"{base}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert list(model.objects.order_by("pk").values()) == before
