import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext

from coop.models import Team
from crm.exchange import COLUMNS, guess_mapping
from crm.imports import DATE_FORMATS, POLICIES, error_file, read_table, records_import
from crm.models import ImportKind, ImportStatus


class Command(BaseCommand):
    help = (
        "Import contacts, organizations or deals from a CSV or XLSX file into a team, as the "
        "import page does: columns mapped from the headers (or --map), matches skipped, "
        "filled or overwritten (--on-match), all or nothing unless --keep-valid, in which "
        "case the refused rows go to --errors. Prints the counts; exit status 1 when nothing "
        "was imported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file", type=Path, help="A .csv or .xlsx file.")
        parser.add_argument("--team", required=True, help="The team's name.")
        parser.add_argument("--on-match", choices=list(POLICIES), default="skip")
        parser.add_argument("--date-format", choices=list(DATE_FORMATS), default="%Y-%m-%d")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help="Send a column to a field (or to nothing: HEADER=); repeatable.",
        )
        parser.add_argument("--keep-valid", action="store_true")
        parser.add_argument("--errors", type=Path, help="Where to write the refused rows.")

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(gettext("No file %(path)s.") % {"path": path})
        team = Team.objects.filter(name=options["team"]).first()
        if team is None:
            raise CommandError(gettext("No team named %(team)r.") % {"team": options["team"]})
        kind = options["kind"]
        started = time.monotonic()
        try:
            with path.open("rb") as file:
                headers = read_table(file, path.name).headers
            mapping = self._mapping(kind, headers, options["map"])
            with path.open("rb") as file:
                run = records_import(
                    actor=None,
                    team=team,
                    kind=kind,
                    file=file,
                    file_name=path.name,
                    mapping=mapping,
                    policy=options["on_match"],
                    all_or_nothing=not options["keep_valid"],
                    date_format=options["date_format"],
                    on_progress=self._progress,
                )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        if options["errors"] and run.errors:
            with options["errors"].open("wb") as file:
                file.writelines(error_file(run))
        summary = gettext(
            "%(status)s: %(rows)s rows, %(created)s created, %(updated)s updated, "
            "%(skipped)s skipped, %(failed)s refused in %(seconds).1f s (import %(id)s)."
        ) % {
            "status": run.get_status_display(),
            "rows": run.rows,
            "created": run.created,
            "updated": run.updated,
            "skipped": run.skipped,
            "failed": run.failed,
            "seconds": time.monotonic() - started,
            "id": run.pk,
        }
        if run.status == ImportStatus.REFUSED:
            for error in run.errors[:20]:
                self.stderr.write(
                    gettext("row %(row)s: %(reason)s")
                    % {"row": error["row"], "reason": error["reason"]}
                )
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))

    def _progress(self, rows: int) -> None:
        if rows % 10_000 == 0:
            self.stderr.write(gettext("%(rows)s rows read") % {"rows": rows})

    def _mapping(self, kind: str, headers: list[str], overrides: list[str]) -> list[str]:
        mapping = guess_mapping(kind, headers)
        fields = {column.field for column in COLUMNS[kind]}
        for override in overrides:
            header, _, field = override.partition("=")
            if header not in headers:
                raise CommandError(
                    gettext("No column %(header)r in the file.") % {"header": header}
                )
            if field and field not in fields:
                raise CommandError(
                    gettext("Unknown field %(field)r: one of %(fields)s.")
                    % {"field": field, "fields": ", ".join(sorted(fields))}
                )
            mapping[headers.index(header)] = field
        return mapping
