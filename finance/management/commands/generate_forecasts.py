import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext, ngettext

from coop.models import Team
from finance.periods import PeriodType
from finance.services import forecast_generate_scheduled
from finance.tasks import generate_team_forecast


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(
            gettext("%(text)r is not a date: use YYYY-MM-DD.") % {"text": text}
        ) from None


class Command(BaseCommand):
    help = (
        "Generate a whole-team revenue forecast for every team (or one) over a date range, "
        "for cron. Idempotent: a team already forecast today with the same period, range and "
        "currency is skipped. Each team is its own transaction; any failure (e.g. a missing "
        "exchange rate) is reported and the exit status is 1. With --enqueue, one task per "
        "team goes to the task queue instead, for the workers (with retries)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, choices=PeriodType.values)
        parser.add_argument("--start", required=True, help="First day, YYYY-MM-DD.")
        parser.add_argument("--end", required=True, help="Last day, YYYY-MM-DD.")
        parser.add_argument("--team", help="Team name (default: every team).")
        parser.add_argument("--currency", default="EUR", help="Report currency (default EUR).")
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue one task per team for the workers instead of generating here.",
        )

    def handle(self, *args, **options) -> None:
        start, end = _date(options["start"]), _date(options["end"])
        currency = options["currency"].upper()
        teams = Team.objects.order_by("name")
        if options["team"]:
            teams = teams.filter(name=options["team"])
            if not teams.exists():
                raise CommandError(gettext("No team named %(team)r.") % {"team": options["team"]})
        if end < start:
            raise CommandError(gettext("--end must be on or after --start."))
        if options["enqueue"]:
            for team in teams:
                generate_team_forecast.enqueue(
                    str(team.pk), options["period"], start.isoformat(), end.isoformat(), currency
                )
                self.stdout.write(gettext("%(team)s: forecast queued.") % {"team": team})
            return
        failures = 0
        for team in teams:
            try:
                forecast, created = forecast_generate_scheduled(
                    team=team,
                    period_type=options["period"],
                    start=start,
                    end=end,
                    currency=currency,
                )
            except ValidationError as error:
                failures += 1
                self.stderr.write(f"{team}: {' '.join(error.messages)}")
                continue
            if not created:
                self.stdout.write(
                    gettext("%(team)s: already forecast today (%(id)s), skipped.")
                    % {"team": team, "id": forecast.pk}
                )
                continue
            self.stdout.write(
                self.style.SUCCESS(
                    gettext(
                        "%(team)s: forecast %(id)s, %(deals)d deals, expected %(cents)d "
                        "%(currency)s cents."
                    )
                    % {
                        "team": team,
                        "id": forecast.pk,
                        "deals": forecast.deals.count(),
                        "cents": forecast.total_expected_cents,
                        "currency": currency,
                    }
                )
            )
        if failures:
            raise CommandError(
                ngettext(
                    "%(count)d team could not be forecast.",
                    "%(count)d teams could not be forecast.",
                    failures,
                )
                % {"count": failures}
            )
