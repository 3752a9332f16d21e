import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import DealStatus
from finance.models import ForecastDeal, RevenueEntry, RevenueForecast
from finance.past_periods import actual_revenue_by_bucket, pipeline_vs_actual
from tests.finance.factories import ExchangeRateFactory, RevenueEntryFactory, generate_forecast

pytestmark = pytest.mark.django_db

JAN1, MAR31 = datetime.date(2026, 1, 1), datetime.date(2026, 3, 31)


@pytest.fixture
def forecast(manager, team, make_deal):
    make_deal(value_cents=100_000, title="Solar roof")
    make_deal(stage="Lead", value_cents=50_000, close=datetime.date(2026, 2, 10), title="Heat pump")
    return generate_forecast(manager, team)


def _generate_data(scope, **changes):
    return {
        "scope": scope,
        "period_type": "monthly",
        "start": "2026-01-01",
        "end": "2026-03-31",
        "currency": "EUR",
        "name": "",
        **changes,
    }


def test_the_dashboard_lists_visible_forecasts_and_offers_the_scopes(
    client, manager, team, forecast
):
    client.force_login(manager)
    page = client.get(reverse("finance:index")).text
    assert forecast.name in page
    assert f'value="{team.pk}:team"' in page
    assert "North — whole team" in page


def test_generating_through_htmx_redirects_to_the_new_forecast(client, manager, team, make_deal):
    make_deal(value_cents=10_000)
    client.force_login(manager)
    response = client.post(
        reverse("finance:generate"),
        _generate_data(f"{team.pk}:team"),
        headers={"HX-Request": "true"},
    )
    forecast = RevenueForecast.objects.get()
    assert response["HX-Redirect"] == reverse("finance:detail", args=[forecast.pk])
    assert forecast.total_expected_cents == 5_000


def test_a_bad_generate_form_comes_back_with_messages_and_writes_nothing(client, manager, team):
    client.force_login(manager)
    response = client.post(
        reverse("finance:generate"),
        _generate_data(f"{team.pk}:team", end="2025-12-01"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert '<div class="form-errors" role="alert">' in response.text
    assert "The end date must be on or after the start date." in response.text
    assert "<html" not in response.text
    assert not RevenueForecast.objects.exists()


def test_a_missing_rate_is_shown_on_the_form(client, manager, team, make_deal, usd_pipeline):
    make_deal(in_pipeline=usd_pipeline)
    client.force_login(manager)
    response = client.post(reverse("finance:generate"), _generate_data(f"{team.pk}:team"))
    assert response.status_code == 422
    assert "No exchange rate from USD to EUR on or before 2026-01-15" in response.text


def test_a_rep_may_only_choose_their_own_deals(client, rep, team, manager):
    client.force_login(rep)
    page = client.get(reverse("finance:index")).text
    assert f'value="{team.pk}:{rep.pk}"' in page
    assert f'value="{team.pk}:team"' not in page
    assert f'value="{team.pk}:{manager.pk}"' not in page
    response = client.post(reverse("finance:generate"), _generate_data(f"{team.pk}:team"))
    assert response.status_code == 422
    assert not RevenueForecast.objects.exists()


def test_reps_see_only_forecasts_of_their_own_deals(client, rep, team, forecast):
    own = generate_forecast(rep, team, scope_user=rep)
    client.force_login(rep)
    listing = client.get(reverse("finance:index")).text
    assert own.name in listing and forecast.name not in listing
    assert client.get(reverse("finance:detail", args=[forecast.pk])).status_code == 404
    assert client.get(reverse("finance:export", args=[forecast.pk, "csv"])).status_code == 404
    assert client.get(reverse("finance:detail", args=[own.pk])).status_code == 200


def test_finance_staff_and_managers_see_team_forecasts_outsiders_do_not(
    client, finance_user, outsider, forecast
):
    client.force_login(finance_user)
    assert client.get(reverse("finance:detail", args=[forecast.pk])).status_code == 200
    client.force_login(outsider)
    assert client.get(reverse("finance:detail", args=[forecast.pk])).status_code == 404
    assert client.post(reverse("finance:whatif", args=[forecast.pk]), {}).status_code == 404
    scenario = {"name": "Mine now", "value_change_percent": "0", "slip_percent": "0"}
    response = client.post(reverse("finance:scenario_save", args=[forecast.pk]), scenario)
    assert response.status_code == 404
    assert not RevenueForecast.objects.filter(baseline=forecast).exists()


def test_the_forecast_page_shows_periods_chart_data_deals_and_actual_revenue(
    client, manager, team, forecast
):
    RevenueEntryFactory(team=team, booked_on=datetime.date(2026, 1, 20), amount_cents=70_000)
    client.force_login(manager)
    page = client.get(reverse("finance:detail", args=[forecast.pk])).text
    assert 'id="forecast-chart-data" type="application/json"' in page
    assert '<canvas id="forecast-chart"' in page
    assert "Jan 2026" in page and "Mar 2026" in page
    assert "Solar roof" in page and "Heat pump" in page
    solar = ForecastDeal.objects.get(forecast=forecast, title="Solar roof")
    assert f'<a href="/deals/{solar.deal_id}/">Solar roof</a>' in page
    assert "€700.00" in page  # actual revenue of January
    assert "€550.00" in page  # 50 % of 1000 + 10 % of 500
    assert "exact convolution" in page
    assert not re.search(r"<script(?![^>]*(src=|application/json))", page)


def test_what_if_returns_the_result_and_delta_and_writes_nothing(
    client, manager, forecast, stages_of
):
    client.force_login(manager)
    stages = stages_of(client, forecast)
    data = {
        f"stage_{stages['Proposal']}": 100,
        f"stage_{stages['Lead']}": 10,
        "value_change_percent": "0",
        "slip_percent": "0",
        "shock_percent": "0",
    }
    before = (RevenueForecast.objects.count(), ForecastDeal.objects.count())
    response = client.post(
        reverse("finance:whatif", args=[forecast.pk]), data, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert 'id="whatif-total">€1,050.00<' in response.text
    assert 'id="whatif-delta" class="positive">+€500.00<' in response.text
    assert (RevenueForecast.objects.count(), ForecastDeal.objects.count()) == before


def test_the_what_if_waits_for_a_pause_in_typing_and_drops_a_stale_request(
    client, manager, forecast
):
    client.force_login(manager)
    page = client.get(reverse("finance:detail", args=[forecast.pk])).text
    assert 'hx-trigger="input changed delay:400ms" hx-sync="this:replace"' in page


def test_what_if_rejects_a_probability_over_100(client, manager, forecast, stages_of):
    client.force_login(manager)
    lead = stages_of(client, forecast)["Lead"]
    response = client.post(
        reverse("finance:whatif", args=[forecast.pk]),
        {
            f"stage_{lead}": 150,
            "value_change_percent": "0",
            "slip_percent": "0",
            "shock_percent": "0",
        },
    )
    assert "less than or equal to 100" in response.text


def test_saving_a_scenario_stores_a_named_forecast_linked_to_its_baseline(
    client, manager, forecast, stages_of
):
    client.force_login(manager)
    stages = stages_of(client, forecast)
    data = {
        f"stage_{stages['Proposal']}": 50,
        f"stage_{stages['Lead']}": 10,
        "value_change_percent": "-10",
        "slip_percent": "0",
        "shock_percent": "0",
        "name": "Prices down 10 %",
    }
    response = client.post(reverse("finance:scenario_save", args=[forecast.pk]), data)
    scenario = RevenueForecast.objects.get(baseline=forecast)
    assert response["Location"] == reverse("finance:detail", args=[scenario.pk])
    assert scenario.name == "Prices down 10 %"
    assert scenario.total_expected_cents == 49_500
    assert scenario.scenario["value_change_percent"] == "-10"
    assert scenario.deals.count() == 2
    assert hasattr(scenario, "imported")
    page = client.get(response["Location"]).text
    assert "Open deal values changed by -10 %" in page
    assert f'Scenario of <a href="/forecasts/{forecast.pk}/">' in page


def test_a_scenario_needs_a_name(client, manager, forecast, stages_of):
    client.force_login(manager)
    stages = stages_of(client, forecast)
    data = {
        f"stage_{stages['Proposal']}": 50,
        f"stage_{stages['Lead']}": 10,
        "value_change_percent": "0",
        "slip_percent": "0",
        "shock_percent": "0",
        "name": " ",
    }
    response = client.post(reverse("finance:scenario_save", args=[forecast.pk]), data, follow=True)
    assert "Give the scenario a name." in response.text
    assert not RevenueForecast.objects.filter(baseline=forecast).exists()


def test_finance_staff_enter_revenue_and_see_it_listed(client, finance_user, team):
    client.force_login(finance_user)
    response = client.post(
        reverse("finance:revenue"),
        {
            "team": team.pk,
            "booked_on": "2026-02-03",
            "amount": "1234.56",
            "currency": "EUR",
            "description": "Consulting retainer",
        },
        follow=True,
    )
    entry = RevenueEntry.objects.get()
    assert (entry.amount_cents, entry.booked_on) == (123_456, datetime.date(2026, 2, 3))
    assert entry.created_by == finance_user
    assert "Consulting retainer" in response.text and "€1,234.56" in response.text


def test_the_revenue_list_is_paginated(client, finance_user, team):
    RevenueEntryFactory.create_batch(31, team=team)
    client.force_login(finance_user)
    first = client.get(reverse("finance:revenue")).text
    assert "Page 1 of 2" in first and 'rel="next" href="?page=2"' in first
    assert first.count('<td class="num">') == 30
    second = client.get(reverse("finance:revenue"), {"page": 2}).text
    assert "Page 2 of 2" in second and 'rel="prev" href="?page=1"' in second
    assert second.count('<td class="num">') == 1


def test_bad_revenue_input_is_explained_and_nothing_written(client, finance_user, team):
    client.force_login(finance_user)
    response = client.post(
        reverse("finance:revenue"),
        {
            "team": team.pk,
            "booked_on": "2026-02-30",
            "amount": "-5",
            "currency": "EUR",
            "description": "",
        },
    )
    assert response.status_code == 422
    assert "Enter a valid date." in response.text
    assert "greater than or equal to 0.01" in response.text
    assert "Please correct the fields marked below." in response.text
    assert not RevenueEntry.objects.exists()


def test_managers_and_reps_cannot_enter_revenue(client, manager, rep, team):
    for user in (manager, rep):
        client.force_login(user)
        assert "Enter revenue" not in client.get(reverse("finance:revenue")).text
        response = client.post(
            reverse("finance:revenue"),
            {
                "team": team.pk,
                "booked_on": "2026-02-03",
                "amount": "10",
                "currency": "EUR",
                "description": "x",
            },
        )
        assert response.status_code == 404
    assert not RevenueEntry.objects.exists()


def test_a_forecast_in_another_currency_shows_a_missing_past_rate_as_a_notice(
    client, manager, team, make_deal
):
    ExchangeRateFactory(date=datetime.date(2026, 1, 1), base="EUR", quote="USD", rate="1.1")
    make_deal(value_cents=10_000)
    forecast = generate_forecast(manager, team, currency="USD")
    last_month = forecast.forecast_date.replace(day=1) - datetime.timedelta(days=1)
    RevenueEntryFactory(team=team, booked_on=last_month, currency="GBP")
    client.force_login(manager)
    response = client.get(reverse("finance:detail", args=[forecast.pk]))
    assert response.status_code == 200
    assert "No exchange rate from GBP to USD" in response.text


def test_times_are_shown_in_the_viewers_time_zone(client, manager, forecast):
    RevenueForecast.objects.filter(pk=forecast.pk).update(
        created_at=datetime.datetime(2026, 1, 1, 23, 30, tzinfo=datetime.UTC)
    )
    manager.time_zone = "Asia/Tokyo"
    manager.save(update_fields=["time_zone"])
    client.force_login(manager)
    assert "2 Jan 2026 08:30" in client.get(reverse("finance:index")).text


def test_a_plain_form_post_redirects_to_the_forecast(client, manager, team):
    client.force_login(manager)
    response = client.post(reverse("finance:generate"), _generate_data(f"{team.pk}:team"))
    forecast = RevenueForecast.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("finance:detail", args=[forecast.pk])


def test_the_deal_list_pages_in_place(client, manager, team, make_deal):
    for index in range(55):
        make_deal(value_cents=1_000 + index, title=f"Deal {index:02d}")
    forecast = generate_forecast(manager, team)
    client.force_login(manager)
    first = client.get(reverse("finance:detail", args=[forecast.pk])).text
    assert "Deal 49" in first and "Deal 50" not in first
    assert "Page 1 of 2" in first
    assert (
        '<a class="button small" rel="next" href="?page=2" hx-get="?page=2" '
        'hx-target="#forecast-deals" hx-swap="outerHTML" hx-push-url="true">Next</a>'
    ) in first
    response = client.get(
        reverse("finance:detail", args=[forecast.pk]),
        {"page": 2},
        headers={"HX-Request": "true", "HX-Target": "forecast-deals"},
    )
    assert "Deal 54" in response.text and "Deal 00" not in response.text
    assert "<html" not in response.text


def test_the_forecast_list_is_paginated(client, manager, team):
    for _ in range(21):
        generate_forecast(manager, team, end=JAN1)
    client.force_login(manager)
    page = client.get(reverse("finance:index")).text
    assert "Page 1 of 2" in page
    assert 'rel="next" href="?page=2"' in page
    assert "Page 2 of 2" in client.get(reverse("finance:index"), {"page": 2}).text


def test_the_page_shows_the_same_past_and_actual_figures_as_the_selectors(
    client, manager, team, forecast
):
    """The page reads revenue once for both windows (which may overlap); its figures must be
    those of the selectors reading each window on its own."""
    for day, cents in [(datetime.date(2025, 11, 3), 40_000), (datetime.date(2026, 1, 20), 70_000)]:
        RevenueEntryFactory(team=team, booked_on=day, amount_cents=cents)
    today = datetime.date.today()
    last_month = today.replace(day=1) - datetime.timedelta(days=20)
    for day in (today.replace(day=1), last_month):
        RevenueEntryFactory(team=team, booked_on=day, amount_cents=9_000)
    client.force_login(manager)
    context = client.get(reverse("finance:detail", args=[forecast.pk])).context
    assert context["actual"] == actual_revenue_by_bucket(forecast)
    assert context["past"] == pipeline_vs_actual(forecast)
    assert any(period["actual_cents"] for period in context["past"])


def test_the_page_shows_the_financial_kpis_of_the_past_periods(client, manager, team, make_deal):
    last_month = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    make_deal(status=DealStatus.WON, close=last_month, value_cents=30_000, title="Won before")
    make_deal(status=DealStatus.LOST, close=last_month, title="Lost before")
    forecast = generate_forecast(manager, team)
    client.force_login(manager)
    page = client.get(reverse("finance:detail", args=[forecast.pk])).text
    kpis = page[page.index('id="kpis-heading">Financial KPIs<') : page.index('id="what-if"')]
    assert "<dt>Win rate</dt><dd>50 %</dd>" in kpis
    assert "1 won of 2 closed" in kpis
    assert "<dt>Average deal size</dt><dd>€300.00</dd>" in kpis


def test_the_page_names_the_cornish_fisher_method_and_its_parameters(
    client, manager, forecast, monkeypatch
):
    from finance import intervals

    monkeypatch.setattr(intervals, "EXACT_MAX_DEALS", 0)
    monkeypatch.setattr(intervals, "NORMAL_MAX_ERROR", 0.0)
    monkeypatch.setattr(intervals, "MONTE_CARLO_MAX_DEALS", 0)
    monkeypatch.setattr(intervals, "CORNISH_FISHER_MAX_BOUND", 10.0)
    again = generate_forecast(manager, forecast.team)
    assert again.confidence_interval["method"] == "cornish_fisher"
    client.force_login(manager)
    page = client.get(reverse("finance:detail", args=[again.pk])).text
    assert "corrected for skewness (Cornish" in page
    assert "berry_esseen_bound:" in page and "skewness:" in page


def test_a_forecast_name_on_two_lines_is_refused_by_the_form(client, manager, team):
    client.force_login(manager)
    data = _generate_data(f"{team.pk}:team", name="Q1\nBcc: x@example.com")
    response = client.post(reverse("finance:generate"), data)
    assert response.status_code == 422
    assert "without line breaks, tabs or other control characters" in response.text
    assert not RevenueForecast.objects.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"period_type": "daily", "start": "0001-01-01", "end": "9999-12-30"},
            "Forecasts and revenue cover the years 2000 to 2100",
        ),
        ({"end": "9999-12-31"}, "Forecasts and revenue cover the years 2000 to 2100"),
        (
            {"period_type": "daily", "start": "2026-01-01", "end": "2027-12-31"},
            "That range has more than 400 periods (730 days)",
        ),
    ],
)
def test_a_forecast_range_out_of_bounds_is_refused_by_the_form(
    client, manager, team, changes, message
):
    client.force_login(manager)
    response = client.post(
        reverse("finance:generate"), _generate_data(f"{team.pk}:team", **changes)
    )
    assert response.status_code == 422
    assert message in response.text
    assert not RevenueForecast.objects.exists()


def test_revenue_booked_outside_the_supported_years_is_refused(client, finance_user, team):
    client.force_login(finance_user)
    data = {"team": team.pk, "amount": "5", "currency": "EUR", "description": "Retainer"}
    for day in ("1999-12-31", "2101-01-01", "9999-12-31"):
        response = client.post(reverse("finance:revenue"), {**data, "booked_on": day})
        assert response.status_code == 422
        assert "Forecasts and revenue cover the years 2000 to 2100" in response.text
    assert not RevenueEntry.objects.exists()
