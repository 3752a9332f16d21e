"""The import benchmark: 100,000 new contacts (in 1,000 organizations), as a CSV and as an
XLSX workbook, each imported into a scratch team by `records_import`, then undone by
`import_undo`, which also leaves the database as it was.

Memory is the process's peak resident set during the import above what it held before
(Linux: the peak is reset through /proc/self/clear_refs and read from VmHWM), so both
formats are measured alike in one process.

python -m benchmarks.imports [--rows 100000] [--format csv|xlsx|both]
"""

import argparse
import csv
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

from benchmarks.measure import Row

TEAM = "Import benchmark"
HEADERS = ["Name", "Email", "Phone", "Organization", "Job title", "Notes"]


def _people(rows: int) -> Iterator[list[str]]:
    for n in range(rows):
        yield [
            f"Person {n}",
            f"person{n}@bench{n % 1000}.example",
            f"+33 1 00 {n:06d}",
            f"Bench organization {n % 1000}",
            "Buyer",
            "",
        ]


def _write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADERS)
        writer.writerows(_people(rows))


def _write_xlsx(path: Path, rows: int) -> None:
    """As a spreadsheet program saves it: every text cell in the shared strings table."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADERS)
    for row in _people(rows):
        sheet.append(row)
    workbook.save(path)


def _kib(field: str) -> int:
    line = next(
        line
        for line in Path("/proc/self/status").read_text().splitlines()
        if line.startswith(field)
    )
    return int(line.split()[1])


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # peak RSS := current RSS


def _import_once(rows: int, file_format: str) -> list[Row]:
    from django.db import connection

    from benchmarks.measure import _counter
    from coop.models import Team
    from crm.exchange import guess_mapping
    from crm.imports import import_undo, read_table, records_import

    team, _ = Team.objects.get_or_create(name=TEAM)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"contacts.{file_format}"
        (_write_xlsx if file_format == "xlsx" else _write_csv)(path, rows)
        size = f"{path.stat().st_size / 2**20:.1f} MiB"
        if file_format == "xlsx":
            with zipfile.ZipFile(path) as archive:
                strings = archive.getinfo("xl/sharedStrings.xml").file_size
            size += f" (its shared strings {strings / 2**20:.1f} MiB unpacked)"
        with path.open("rb") as file:
            mapping = guess_mapping("contacts", read_table(file, path.name).headers)
        rss_before = _kib("VmRSS")
        _reset_peak()
        queries: list = []
        started = time.perf_counter()
        with connection.execute_wrapper(_counter(queries)), path.open("rb") as file:
            run = records_import(
                actor=None,
                team=team,
                kind="contacts",
                file=file,
                file_name=path.name,
                mapping=mapping,
            )
        took = (time.perf_counter() - started) * 1000
        growth = (_kib("VmHWM") - rss_before) / 1024
    undo_queries: list = []
    started = time.perf_counter()
    with connection.execute_wrapper(_counter(undo_queries)):
        import_undo(actor=None, run=run)
    undo = (time.perf_counter() - started) * 1000
    label = file_format.upper()
    note = (
        f"{run.created:,} contacts in 1,000 new organizations from a {size} {label}; the "
        f"process's peak RSS grew {growth:,.0f} MiB (batches of 1,000 rows; the match index "
        "holds an email and a name per contact of the team"
        + ("; openpyxl holds the shared strings table)" if file_format == "xlsx" else ")")
    )
    return [
        Row(f"import: {rows:,} new contacts ({label})", 1, took, took, len(queries), None, note),
        Row(
            f"import: undo of those {rows:,} contacts ({label})",
            1,
            undo,
            undo,
            len(undo_queries),
            None,
            "",
        ),
    ]


def import_rows(rows: int = 100_000, formats: tuple[str, ...] = ("csv", "xlsx")) -> list[Row]:
    return [row for file_format in formats for row in _import_once(rows, file_format)]


def main() -> None:
    parser = argparse.ArgumentParser(description="The import benchmark alone.")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=["csv", "xlsx", "both"], default="both")
    args = parser.parse_args()
    from benchmarks.setup import django_setup

    django_setup()
    formats = ("csv", "xlsx") if args.format == "both" else (args.format,)
    for row in import_rows(args.rows, formats):
        print(f"| {row.name} | {row.median_ms / 1000:,.1f} s | {row.queries} | {row.note} |")


if __name__ == "__main__":
    main()
