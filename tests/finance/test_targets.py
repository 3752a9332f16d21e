"""Revenue targets per team and per person: set by managers, imported from CSV, and their
attainment on the forecast page and the home page."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from crm.models import DealStatus
from finance.models import RevenueTarget
from finance.services import revenue_target_set, revenue_targets_import
from finance.targets import current_attainment, forecast_targets
from tests.finance.factories import (
    RevenueEntryFactory,
    RevenueTargetFactory,
    generate_forecast,
)

pytestmark = pytest.mark.django_db

JAN, FEB = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)
HEADER = "team,person,period_type,period_start,amount,currency\n"


def _set(actor, team, person=None, **changes):
    return revenue_target_set(
        **{
            "actor": actor,
            "team": team,
            "person": person,
            "period_type": "monthly",
            "first_day": JAN,
            "amount_cents": 500_000,
            "currency": "EUR",
            **changes,
        }
    )


def test_a_manager_sets_the_team_target_and_a_reps_quota(manager, rep, team):
    _set(manager, team)
    _set(manager, team, rep, amount_cents=200_000)
    _set(manager, team, rep, amount_cents=250_000)  # replaces
    assert sorted(RevenueTarget.objects.values_list("user__username", "amount_cents"), key=str) == [
        ("rep", 250_000),
        (None, 500_000),
    ]


def test_a_rep_may_not_set_targets(rep, team):
    with pytest.raises(ValidationError, match="managers"):
        _set(rep, team, rep)
    assert not RevenueTarget.objects.exists()


def test_a_target_must_start_its_period_and_name_a_member(manager, team, outsider):
    with pytest.raises(ValidationError, match="starts on 2026-01-01"):
        _set(manager, team, first_day=datetime.date(2026, 1, 2))
    with pytest.raises(ValidationError, match="not a member"):
        _set(manager, team, outsider)


def test_the_csv_import_writes_every_row_or_none(manager, rep, team):
    text = HEADER + "North,,monthly,2026-01-01,5000,EUR\n"
    text += f"North,{rep.username},monthly,2026-01-01,1250.50,EUR\n"
    assert revenue_targets_import(actor=manager, text=text) == 2
    assert RevenueTarget.objects.get(user=rep).amount_cents == 125_050
    bad = HEADER + "North,,monthly,2026-02-01,10,EUR\nNorth,nobody,monthly,2026-02-01,1,EUR\n"
    with pytest.raises(ValidationError, match="Line 3: no user 'nobody'"):
        revenue_targets_import(actor=manager, text=bad)
    assert RevenueTarget.objects.count() == 2


def test_the_csv_import_refuses_a_team_the_actor_does_not_manage(manager, other_team):
    text = HEADER + "South,,monthly,2026-01-01,5000,EUR\n"
    with pytest.raises(ValidationError, match="Line 2: no team 'South' that you manage"):
        revenue_targets_import(actor=manager, text=text)


def test_the_forecast_page_shows_attainment_per_period(client, manager, team, make_deal):
    make_deal(status=DealStatus.WON, value_cents=100_000)
    RevenueTargetFactory(team=team, period_start=JAN, amount_cents=400_000)
    forecast = generate_forecast(manager, team)
    assert forecast_targets(forecast) == {JAN: 400_000}
    client.force_login(manager)
    page = client.get(reverse("finance:detail", args=[forecast.pk])).text
    assert '<td class="num" data-column="target">€4,000.00</td>' in page
    assert '<td class="num" data-column="attainment">25 %</td>' in page


def test_a_reps_forecast_measures_the_reps_quota(client, rep, team, make_deal):
    make_deal(status=DealStatus.WON, value_cents=100_000)
    RevenueTargetFactory(team=team, period_start=JAN, amount_cents=400_000)
    RevenueTargetFactory(team=team, user=rep, period_start=JAN, amount_cents=200_000)
    forecast = generate_forecast(rep, team, scope_user=rep)
    assert forecast_targets(forecast) == {JAN: 200_000}


def test_the_home_page_panel_shows_the_current_periods_attainment(client, manager, rep, team):
    today = timezone.localdate(timezone=manager.zone)
    first = today.replace(day=1)
    RevenueTargetFactory(team=team, period_start=first, amount_cents=1_000_000)
    RevenueTargetFactory(team=team, user=rep, period_start=first, amount_cents=100_000)
    RevenueEntryFactory(team=team, owner=rep, booked_on=today, amount_cents=50_000)
    assert [(r.target.user, r.won_cents) for r in current_attainment(rep)] == [(rep, 50_000)]
    assert {r.attainment for r in current_attainment(manager)} == {0.05, 0.5}
    client.force_login(manager)
    assert 'hx-get="/forecasts/attainment/"' in client.get(reverse("dashboard")).text
    panel = client.get(reverse("finance:attainment")).text
    assert "Targets this period" in panel
    assert "5 %" in panel
    assert "50 %" in panel


def test_the_targets_page_sets_and_imports(client, manager, rep, team):
    client.force_login(manager)
    response = client.post(
        reverse("finance:targets"),
        {
            "team": team.pk,
            "person": rep.pk,
            "period_type": "monthly",
            "period_start": "2026-02-01",
            "amount": "3000",
            "currency": "EUR",
        },
        follow=True,
    )
    assert "Target set" in response.text
    upload = SimpleUploadedFile(
        "targets.csv", (HEADER + "North,,quarterly,2026-01-01,9000,EUR\n").encode()
    )
    response = client.post(reverse("finance:targets_import"), {"file": upload}, follow=True)
    assert "1 target imported." in response.text
    assert RevenueTarget.objects.filter(period_start=FEB, user=rep).exists()


def test_a_rep_sees_their_quota_but_no_forms(client, rep, team):
    RevenueTargetFactory(team=team, user=rep, period_start=JAN, amount_cents=100_000)
    RevenueTargetFactory(team=team, period_start=JAN, amount_cents=900_000)
    client.force_login(rep)
    page = client.get(reverse("finance:targets")).text
    assert "€1,000.00" in page
    assert "€9,000.00" not in page
    assert "Set target" not in page
    assert client.post(reverse("finance:targets"), {}).status_code == 404


def test_a_target_without_a_rate_is_named_not_a_failure(client, manager, team, make_deal):
    make_deal(value_cents=100_000)
    RevenueTargetFactory(team=team, period_start=JAN, amount_cents=400_000, currency="USD")
    forecast = generate_forecast(manager, team)
    client.force_login(manager)
    response = client.get(reverse("finance:detail", args=[forecast.pk]))
    assert response.status_code == 200
    assert "need a rate" in response.text
    assert '<td class="num" data-column="target">—</td>' in response.text


def _targets_file(tmp_path, body: str):
    path = tmp_path / "targets.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_import_targets_command_imports_as_the_manager_and_reruns_idempotently(
    tmp_path, manager, rep, team
):
    path = _targets_file(
        tmp_path,
        f"North,,quarterly,2026-01-01,15000,EUR\nNorth,{rep.username},monthly,2026-02-01,2500.25,EUR\n",
    )
    out = io.StringIO()
    call_command("import_targets", path, "--as", manager.username, stdout=out)
    call_command("import_targets", path, "--as", manager.username, stdout=out)
    assert out.getvalue().count("Imported 2 targets") == 2
    assert RevenueTarget.objects.count() == 2
    quota = RevenueTarget.objects.get(user=rep)
    assert (quota.period_start, quota.amount_cents, quota.currency) == (FEB, 250_025, "EUR")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("South,,monthly,2026-01-01,10,EUR", "Line 3: no team 'South' that you manage"),
        ("North,ghost,monthly,2026-01-01,10,EUR", "Line 3: no user 'ghost'"),
        ("North,,monthly,2026-01-02,10,EUR", "Line 3: A month period starts on 2026-01-01"),
        ("North,,fortnightly,2026-01-01,10,EUR", "Line 3: Unknown period type"),
        ("North,,monthly,2026-01-01,10.005,EUR", "Line 3: .* whole number of EUR's smallest"),
        ("North,,monthly,2026-01-01,10,EURO", "Line 3: unknown currency 'EURO'"),
        ("North,,monthly,2026-01-01,-5,EUR", "Line 3: .* must be a positive number"),
        ("North,,monthly,2026-03-01,20,EUR", "Line 3: the same target is already on line 2"),
    ],
)
def test_import_targets_command_names_the_bad_line_and_imports_nothing(
    tmp_path, manager, team, other_team, bad, message
):
    path = _targets_file(tmp_path, f"North,,monthly,2026-03-01,10,EUR\n{bad}\n")
    with pytest.raises(CommandError, match=message):
        call_command("import_targets", path, "--as", manager.username)
    assert not RevenueTarget.objects.exists()


def test_import_targets_command_refuses_an_unknown_user_a_rep_and_a_missing_file(
    tmp_path, rep, team
):
    path = _targets_file(tmp_path, "North,,monthly,2026-01-01,10,EUR\n")
    with pytest.raises(CommandError, match="No active user 'nobody'"):
        call_command("import_targets", path, "--as", "nobody")
    with pytest.raises(CommandError, match="no team 'North' that you manage"):
        call_command("import_targets", path, "--as", rep.username)
    with pytest.raises(CommandError, match="No file"):
        call_command("import_targets", tmp_path / "nope.csv", "--as", rep.username)
    assert not RevenueTarget.objects.exists()
