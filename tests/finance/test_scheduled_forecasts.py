"""Scheduled forecasts: once a day per team and range, inline or queued for the workers."""

import datetime

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from finance.models import RevenueForecast
from finance.services import forecast_generate_scheduled
from finance.tasks import generate_team_forecast

pytestmark = pytest.mark.django_db

JAN1, MAR31 = datetime.date(2026, 1, 1), datetime.date(2026, 3, 31)
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_a_scheduled_forecast_is_made_once_a_day(team, make_deal):
    make_deal(value_cents=100_000)
    first, created = forecast_generate_scheduled(
        team=team, period_type="monthly", start=JAN1, end=MAR31, currency="EUR"
    )
    again, created_again = forecast_generate_scheduled(
        team=team, period_type="monthly", start=JAN1, end=MAR31, currency="EUR"
    )
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert first.user is None and first.scope_user is None
    assert RevenueForecast.objects.count() == 1


def test_the_task_makes_the_forecast_and_a_second_run_returns_the_same(team, make_deal):
    make_deal(value_cents=100_000)
    arguments = (str(team.pk), "monthly", JAN1.isoformat(), MAR31.isoformat(), "EUR")
    first = generate_team_forecast.enqueue(*arguments)
    second = generate_team_forecast.enqueue(*arguments)
    assert first.return_value == second.return_value
    assert RevenueForecast.objects.get().pk.hex == first.return_value.replace("-", "")


@override_settings(TASKS=DATABASE_QUEUE)
def test_generate_forecasts_enqueue_queues_one_task_per_team_and_generates_nothing_here(
    team, other_team, make_deal, capsys
):
    make_deal(value_cents=100_000)
    call_command(
        "generate_forecasts",
        "--period",
        "monthly",
        "--start",
        JAN1.isoformat(),
        "--end",
        MAR31.isoformat(),
        "--enqueue",
    )
    queued = DBTaskResult.objects.filter(task_path="finance.tasks.generate_team_forecast")
    assert sorted(result.args_kwargs["args"][0] for result in queued) == sorted(
        [str(team.pk), str(other_team.pk)]
    )
    assert not RevenueForecast.objects.exists()
    assert "forecast queued" in capsys.readouterr().out


@override_settings(TASKS=DATABASE_QUEUE)
def test_send_reminders_and_the_rollup_can_be_queued_for_the_workers():
    call_command("send_reminders", "--enqueue", "--quiet")
    call_command("rollup_sales_health", "--since", "2026-11-20", "--enqueue")
    reminders = DBTaskResult.objects.filter(task_path="calendar_app.tasks.send_due_reminders")
    assert reminders.count() == 1
    days = sorted(
        result.args_kwargs["args"][0]
        for result in DBTaskResult.objects.filter(task_path="health.tasks.rollup_sales_health")
    )
    first, today = datetime.date(2026, 11, 20), timezone.localdate()
    assert days == [
        (first + datetime.timedelta(days=offset)).isoformat()
        for offset in range((today - first).days + 1)
    ]
