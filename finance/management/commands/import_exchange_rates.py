from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext, ngettext

from coop.spreadsheets import command_csv_text
from finance.services import exchange_rates_import


class Command(BaseCommand):
    help = (
        "Import exchange rates from a CSV file with the header date,base,quote,rate (on that "
        "date one unit of base is worth rate units of quote). All or nothing: a bad row is an "
        "error naming its line and nothing is imported. A rate already stored for the same "
        "date and pair is replaced, so re-running the same file changes nothing. At most 5 MB."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV file (UTF-8).")

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        text = command_csv_text(path)
        try:
            count = exchange_rates_import(text=text)
        except ValidationError as error:
            raise CommandError(
                gettext("%(path)s: %(problem)s Nothing imported.")
                % {"path": path, "problem": " ".join(error.messages)}
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                ngettext(
                    "Imported %(count)d exchange rate from %(path)s.",
                    "Imported %(count)d exchange rates from %(path)s.",
                    count,
                )
                % {"count": count, "path": path}
            )
        )
