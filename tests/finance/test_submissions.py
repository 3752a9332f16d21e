"""Forecast submissions: a rep's number defaulted from their commit, the manager's roll-up
adjusted with a comment, the history kept, and accuracy against what was won."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from coop.models import Role
from crm.models import Deal, ForecastCategory
from finance.charts import bar_pairs, compact
from finance.models import ForecastSubmission, SubmissionLevel
from finance.services import forecast_submit
from finance.submissions import commit_default, submission_accuracy, team_rollup
from tests.coop.factories import MembershipFactory
from tests.finance.factories import RevenueEntryFactory

pytestmark = pytest.mark.django_db

JAN = datetime.date(2026, 1, 1)
FEB = datetime.date(2026, 2, 1)


def _submit(actor, team, amount, level=SubmissionLevel.REP, comment="", first=JAN):
    return forecast_submit(
        actor=actor,
        team=team,
        level=level,
        period_type="monthly",
        first_day=first,
        amount_cents=amount,
        currency="EUR",
        comment=comment,
    )


def test_a_reps_commit_is_won_revenue_plus_open_commit_deals(rep, team, make_deal):
    committed = make_deal(value_cents=300_000)
    make_deal(value_cents=900_000)  # best case: not in the commit
    Deal.objects.filter(pk=committed.pk).update(forecast_category=ForecastCategory.COMMIT)
    Deal.objects.exclude(pk=committed.pk).update(forecast_category=ForecastCategory.BEST_CASE)
    RevenueEntryFactory(team=team, owner=rep, booked_on=JAN, amount_cents=50_000)
    default = commit_default(
        team=team, person=rep, period_type="monthly", first=JAN, currency="EUR"
    )
    assert default == 350_000
    submission = _submit(rep, team, 400_000)
    assert submission.commit_cents == 350_000


def test_every_submission_is_kept(rep, team):
    _submit(rep, team, 100_000)
    _submit(rep, team, 120_000)
    assert list(ForecastSubmission.objects.values_list("amount_cents", flat=True)) == [
        120_000,
        100_000,
    ]
    [row] = team_rollup(team=team, period_type="monthly", first=JAN)
    assert row.submission.amount_cents == 120_000


def test_a_manager_adjusts_the_rollup_only_with_a_comment(rep, manager, team):
    colleague = MembershipFactory(team=team, role=Role.REP, user__username="colleague").user
    _submit(rep, team, 100_000)
    _submit(colleague, team, 50_000)
    _submit(manager, team, 150_000, level=SubmissionLevel.TEAM)  # the reps' total: no comment
    with pytest.raises(ValidationError, match="comment"):
        _submit(manager, team, 130_000, level=SubmissionLevel.TEAM)
    adjusted = _submit(
        manager, team, 130_000, level=SubmissionLevel.TEAM, comment="Acme slips to February"
    )
    assert (adjusted.commit_cents, adjusted.comment) == (150_000, "Acme slips to February")


def test_a_rep_may_not_submit_for_the_team(rep, team):
    with pytest.raises(ValidationError, match="managers"):
        _submit(rep, team, 1, level=SubmissionLevel.TEAM)


def test_accuracy_takes_the_last_call_before_the_period_ended(rep, team):
    RevenueEntryFactory(team=team, owner=rep, booked_on=JAN, amount_cents=100_000)
    RevenueEntryFactory(team=team, booked_on=JAN, amount_cents=999_000)  # not the rep's
    early = _submit(rep, team, 200_000)
    last = _submit(rep, team, 120_000)
    ForecastSubmission.objects.filter(pk=early.pk).update(
        submitted_at=datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC)
    )
    ForecastSubmission.objects.filter(pk=last.pk).update(
        submitted_at=datetime.datetime(2026, 1, 20, tzinfo=datetime.UTC)
    )
    accuracy = submission_accuracy(list(ForecastSubmission.objects.all()))
    assert accuracy["periods"] == 1
    assert accuracy["mape"] == pytest.approx(0.2)
    assert accuracy["bias"] == pytest.approx(0.2)
    assert accuracy["rows"] == [
        {"start": JAN, "submitted_cents": 120_000, "won_cents": 100_000, "currency": "EUR"}
    ]


def test_the_page_lets_a_rep_submit_and_the_manager_roll_up(client, rep, manager, team):
    client.force_login(rep)
    url = reverse("finance:submissions") + "?start=2026-01-15"
    page = client.get(url).text
    assert "Submit my number" in page
    assert "Team roll-up" not in page
    data = {"level": "rep", "amount": "1000", "currency": "EUR", "comment": ""}
    response = client.post(url, data, follow=True)
    assert "Number submitted." in response.text
    client.force_login(manager)
    page = client.get(url).text
    assert 'id="rollup-total">€1,000.00<' in page
    data = {"level": "team", "amount": "900", "currency": "EUR", "comment": "Haircut"}
    response = client.post(url, data, follow=True)
    assert "Number submitted." in response.text
    assert "Haircut" in response.text


def test_the_page_sets_each_ended_months_last_number_against_what_was_won(client, rep, team):
    RevenueEntryFactory(team=team, owner=rep, booked_on=JAN, amount_cents=100_000)
    call = _submit(rep, team, 80_000)
    ForecastSubmission.objects.filter(pk=call.pk).update(
        submitted_at=datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC)
    )
    client.force_login(rep)
    page = client.get(reverse("finance:submissions") + "?start=2026-01-01").text
    assert "Last number of each ended month against what was won" in page
    assert '<td class="num">€800.00</td><td class="num">€1,000.00</td>' in page
    assert "MAPE 20 %, bias -20 %" in page


def test_the_chart_draws_each_months_number_and_won_on_one_axis_from_zero():
    rows = [
        {"start": JAN, "submitted_cents": 80_000, "won_cents": 100_000, "currency": "EUR"},
        {"start": FEB, "submitted_cents": 0, "won_cents": 50_000, "currency": "EUR"},
    ]
    chart = bar_pairs(rows, "submitted_cents", "won_cents", "start", "EUR")
    assert [tick["text"] for tick in chart["ticks"]] == ["0", "250", "500", "750", "1k"]
    (jan_number, jan_won), (feb_number, feb_won) = (g["bars"] for g in chart["groups"])
    assert jan_won["y"] == chart["ticks"][-1]["y"]  # the largest reaches the top tick
    assert jan_number["height"] == pytest.approx(0.8 * jan_won["height"], abs=0.2)
    assert feb_won["height"] == pytest.approx(0.5 * jan_won["height"], abs=0.2)
    assert feb_number["height"] == 0 and feb_number["y"] == chart["baseline"]
    assert jan_won["x"] < feb_number["x"]


def test_the_page_charts_the_numbers_against_what_was_won_beside_the_table(client, rep, team):
    RevenueEntryFactory(team=team, owner=rep, booked_on=JAN, amount_cents=100_000)
    call = _submit(rep, team, 80_000)
    ForecastSubmission.objects.filter(pk=call.pk).update(
        submitted_at=datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC)
    )
    client.force_login(rep)
    page = client.get(reverse("finance:submissions") + "?start=2026-01-01").text
    chart = page[page.index('<figure class="svg-chart">') : page.index("</figure>")]
    assert 'role="img" aria-labelledby="own-history-chart-title"' in chart
    assert "<title>Jan 2026: Last number €800.00</title>" in chart
    assert "<title>Jan 2026: Won €1,000.00</title>" in chart
    assert "style=" not in chart  # the CSP allows no inline styles
    assert page.index("</figure>") < page.index('id="own-history-vs-won"')


def test_axis_labels_are_compact():
    assert [compact(cents, "EUR") for cents in (0, 25_050, 250_000_000, 125_000_000_000)] == [
        "0",
        "250.5",
        "2.5M",
        "1250M",
    ]
    assert compact(1_500_000, "JPY") == "1.5M"


def test_without_an_ended_month_there_is_no_chart(client, rep, team):
    _submit(rep, team, 80_000)
    client.force_login(rep)
    page = client.get(reverse("finance:submissions")).text
    assert "svg-chart" not in page
