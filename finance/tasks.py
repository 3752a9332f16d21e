"""Background tasks of the finance module (Django's `django.tasks`, retried after transient
failures by coop.tasks.with_retries)."""

import datetime

from django.tasks import task

from coop.models import Team
from coop.tasks import with_retries
from finance.services import forecast_generate_scheduled, learned_probabilities_refit


@task()
@with_retries()
def generate_team_forecast(
    team_id: str, period_type: str, start: str, end: str, currency: str
) -> str:
    """Make today's whole-team forecast (once a day: a retry or a second run returns the same
    one); returns its id. A missing exchange rate fails the task, which is not retried."""
    forecast, _created = forecast_generate_scheduled(
        team=Team.objects.get(pk=team_id),
        period_type=period_type,
        start=datetime.date.fromisoformat(start),
        end=datetime.date.fromisoformat(end),
        currency=currency,
    )
    return str(forecast.pk)


@task()
@with_retries()
def refit_learned_probabilities(team_id: str) -> int:
    """Recount the record behind the team's learned stage probabilities (nightly from cron,
    or on demand); returns the records stored. Two runs for one team never overlap (the
    service locks the team's pipelines), and a retry simply recounts."""
    return learned_probabilities_refit(team=Team.objects.get(pk=team_id))
