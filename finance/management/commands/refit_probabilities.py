from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext, ngettext

from coop.models import Team
from finance.services import learned_probabilities_refit
from finance.tasks import refit_learned_probabilities


class Command(BaseCommand):
    help = (
        "Recount the record behind the learned stage probabilities (closed deals by pipeline, "
        "stage and time in stage) of every team, or one, for cron (nightly). Each team is its "
        "own transaction and locks its pipelines, so two runs never refit a team at once; "
        "re-running recounts the same record. With --enqueue, one task per team goes to the "
        "task queue instead, for the workers (with retries)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--team", help="Team name (default: every team).")
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue one task per team for the workers instead of refitting here.",
        )

    def handle(self, *args, **options) -> None:
        teams = Team.objects.order_by("name")
        if options["team"] is not None:
            teams = teams.filter(name=options["team"])
            if not teams.exists():
                raise CommandError(gettext("No team named %(team)r.") % {"team": options["team"]})
        for team in teams:
            if options["enqueue"]:
                refit_learned_probabilities.enqueue(str(team.pk))
                self.stdout.write(gettext("%(team)s: refit queued.") % {"team": team})
            else:
                count = learned_probabilities_refit(team=team)
                self.stdout.write(
                    self.style.SUCCESS(
                        ngettext(
                            "%(team)s: %(count)d learned record.",
                            "%(team)s: %(count)d learned records.",
                            count,
                        )
                        % {"team": team, "count": count}
                    )
                )
