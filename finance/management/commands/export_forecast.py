from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext

from finance.models import RevenueForecast
from finance.services import forecast_export


class Command(BaseCommand):
    help = (
        "Write a forecast (summary, periods with their intervals, deals) to a CSV or XLSX "
        "file. Cells a spreadsheet would run as formulas are neutralised."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("forecast_id", help="The forecast's id (a UUID).")
        parser.add_argument("--format", required=True, choices=["csv", "xlsx"], dest="file_format")
        parser.add_argument("--output", required=True, type=Path, help="File to write.")

    def handle(self, *args, **options) -> None:
        try:
            forecast = RevenueForecast.objects.get(pk=options["forecast_id"])
        except (RevenueForecast.DoesNotExist, ValidationError):
            raise CommandError(
                gettext("No forecast with id %(id)r.") % {"id": options["forecast_id"]}
            ) from None
        output: Path = options["output"]
        if not output.parent.is_dir():
            raise CommandError(
                gettext("The folder %(folder)s does not exist.") % {"folder": output.parent}
            )
        pieces = forecast_export(actor=None, forecast=forecast, file_format=options["file_format"])
        with output.open("wb") as file:
            file.writelines(pieces)
        self.stdout.write(
            self.style.SUCCESS(
                gettext("Wrote %(name)r to %(path)s.") % {"name": forecast.name, "path": output}
            )
        )
