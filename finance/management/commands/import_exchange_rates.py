from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from finance.services import exchange_rates_import

# A year of daily rates for every pair of the supported currencies is far below this.
MAX_FILE_BYTES = 5 * 1024 * 1024


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
        try:
            if not path.is_file():
                raise CommandError(f"No file {path}.")
            if path.stat().st_size > MAX_FILE_BYTES:
                raise CommandError(
                    f"{path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; split it. "
                    "Nothing imported."
                )
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise CommandError(f"{path} is not UTF-8 text. Nothing imported.") from None
        except OSError as error:
            raise CommandError(f"{path} cannot be read: {error.strerror}.") from None
        try:
            count = exchange_rates_import(text=text)
        except ValidationError as error:
            raise CommandError(f"{path}: {' '.join(error.messages)} Nothing imported.") from None
        self.stdout.write(self.style.SUCCESS(f"Imported {count} exchange rate(s) from {path}."))
