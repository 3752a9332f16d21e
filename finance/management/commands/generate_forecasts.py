import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from coop.models import Team
from finance.models import RevenueForecast
from finance.periods import PeriodType
from finance.services import forecast_generate


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date: use YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = (
        "Generate a whole-team revenue forecast for every team (or one) over a date range, "
        "for cron. Idempotent: a team already forecast today with the same period, range and "
        "currency is skipped. Each team is its own transaction; any failure (e.g. a missing "
        "exchange rate) is reported and the exit status is 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, choices=PeriodType.values)
        parser.add_argument("--start", required=True, help="First day, YYYY-MM-DD.")
        parser.add_argument("--end", required=True, help="Last day, YYYY-MM-DD.")
        parser.add_argument("--team", help="Team name (default: every team).")
        parser.add_argument("--currency", default="EUR", help="Report currency (default EUR).")

    def handle(self, *args, **options) -> None:
        start, end = _date(options["start"]), _date(options["end"])
        currency = options["currency"].upper()
        teams = Team.objects.order_by("name")
        if options["team"]:
            teams = teams.filter(name=options["team"])
            if not teams.exists():
                raise CommandError(f"No team named {options['team']!r}.")
        failures = 0
        for team in teams:
            already = RevenueForecast.objects.filter(
                team=team,
                scope_user=None,
                baseline=None,
                user=None,
                period_type=options["period"],
                start_date=start,
                end_date=end,
                currency=currency,
                forecast_date=timezone.localdate(timezone=datetime.UTC),
            ).first()
            if already is not None:
                self.stdout.write(f"{team}: already forecast today ({already.pk}), skipped.")
                continue
            try:
                forecast = forecast_generate(
                    actor=None,
                    team=team,
                    scope_user=None,
                    period_type=options["period"],
                    start=start,
                    end=end,
                    currency=currency,
                )
            except ValidationError as error:
                failures += 1
                self.stderr.write(f"{team}: {' '.join(error.messages)}")
                continue
            self.stdout.write(
                self.style.SUCCESS(
                    f"{team}: forecast {forecast.pk}, {forecast.deals.count()} deals, "
                    f"expected {forecast.total_expected_cents} {currency} cents."
                )
            )
        if failures:
            raise CommandError(f"{failures} team(s) could not be forecast.")
