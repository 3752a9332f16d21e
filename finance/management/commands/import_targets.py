from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext, ngettext

from coop.models import User
from coop.spreadsheets import command_csv_text
from finance.services import TARGET_COLUMNS, revenue_targets_import


class Command(BaseCommand):
    help = (
        "Import revenue targets (quotas) from a CSV file with the header "
        f"{','.join(TARGET_COLUMNS)} (team by name; person by username, or empty for the "
        "team's own target; period_type monthly or quarterly...; period_start the period's first "
        "day; amount in major units; an ISO 4217 currency), as the manager --as USERNAME, who "
        "must manage every team named (a staff user manages all). The same service as the "
        "targets page: all or nothing, a bad row is an error naming its line and nothing is "
        "imported; a target already set for the same team, person and period is replaced, so "
        "re-running the same file changes nothing. At most 5 MB."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV file (UTF-8).")
        parser.add_argument(
            "--as",
            dest="username",
            required=True,
            help="The manager the targets are set by (their teams are the ones allowed).",
        )

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        actor = User.objects.filter(username=options["username"], is_active=True).first()
        if actor is None:
            raise CommandError(
                gettext("No active user %(username)r. Nothing imported.")
                % {"username": options["username"]}
            )
        text = command_csv_text(path)
        try:
            count = revenue_targets_import(actor=actor, text=text)
        except ValidationError as error:
            raise CommandError(
                gettext("%(path)s: %(problem)s Nothing imported.")
                % {"path": path, "problem": " ".join(error.messages)}
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                ngettext(
                    "Imported %(count)d target from %(path)s.",
                    "Imported %(count)d targets from %(path)s.",
                    count,
                )
                % {"count": count, "path": path}
            )
        )
