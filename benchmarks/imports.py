"""The import benchmark: 100,000 new contacts (in 1,000 organizations), as a CSV and as XLSX
workbooks (inline strings, and a shared strings table), each imported into a scratch team by
`records_import`, then undone by `import_undo`, which also leaves the database as it was.

Memory is the process's peak resident set during the import above what it held before
(Linux: the peak is reset through /proc/self/clear_refs and read from VmHWM), so both
formats are measured alike in one process.

python -m benchmarks.imports [--rows 100000] [--format csv|xlsx|xlsx-shared|all]
"""

import argparse
import csv
import dataclasses
import json
import subprocess
import sys
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
    """As openpyxl (and so our own export) saves it: text in inline strings."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADERS)
    for row in _people(rows):
        sheet.append(row)
    workbook.save(path)


_SHARED_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SHARED_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def _write_xlsx_shared(path: Path, rows: int) -> None:
    """As Excel and LibreOffice save it: each distinct text once in xl/sharedStrings.xml, the
    cells holding its index (openpyxl's reader keeps that whole table in memory)."""
    from xml.sax.saxutils import escape

    skeleton = path.with_suffix(".skeleton.xlsx")
    _write_xlsx(skeleton, 0)
    strings: dict[str, int] = {}
    sheet = ['<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">']
    sheet.append("<sheetData>")
    for number, row in enumerate([HEADERS, *_people(rows)], start=1):
        cells = "".join(
            f'<c t="s"><v>{strings.setdefault(value, len(strings))}</v></c>'
            for value in row
            if value
        )
        sheet.append(f'<row r="{number}">{cells}</row>')
    sheet.append("</sheetData></worksheet>")
    table = "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
    with (
        zipfile.ZipFile(skeleton) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = "".join(sheet).encode()
            elif item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SHARED_TYPE}"/>'
                    "</Types>".encode(),
                )
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    f'<Relationship Id="rIdShared" Type="{_SHARED_REL}" '
                    'Target="sharedStrings.xml"/></Relationships>'.encode(),
                )
            out.writestr(item, data)
        out.writestr(
            "xl/sharedStrings.xml",
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(strings)}" uniqueCount="{len(strings)}">{table}</sst>',
        )
    skeleton.unlink()


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
        path = Path(folder) / f"contacts.{file_format.split('-')[0]}"
        WRITERS[file_format](path, rows)
        size = f"{path.stat().st_size / 2**20:.1f} MiB"
        if file_format == "xlsx-shared":
            with zipfile.ZipFile(path) as archive:
                strings = archive.getinfo("xl/sharedStrings.xml").file_size
            size += f" (shared strings table {strings / 2**20:.1f} MiB unpacked)"
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
    label = LABELS[file_format]
    note = (
        f"{run.created:,} contacts in {min(rows, 1000):,} new organizations from a {size} "
        f"{label}; the process's peak RSS grew {growth:,.0f} MiB (batches of 1,000 rows; "
        "the match index holds an email and a name per contact of the team"
        + ("; openpyxl holds the shared strings table)" if file_format == "xlsx-shared" else ")")
    )
    return [
        Row(
            f"import: {rows:,} new contacts ({SHORT[file_format]})",
            1,
            took,
            took,
            len(queries),
            None,
            note,
        ),
        Row(
            f"import: undo of those {rows:,} contacts ({SHORT[file_format]})",
            1,
            undo,
            undo,
            len(undo_queries),
            None,
            "",
        ),
    ]


WRITERS = {"csv": _write_csv, "xlsx": _write_xlsx, "xlsx-shared": _write_xlsx_shared}
SHORT = {"csv": "CSV", "xlsx": "XLSX, inline strings", "xlsx-shared": "XLSX, shared strings"}
LABELS = {
    "csv": "CSV",
    "xlsx": "XLSX with inline strings (as openpyxl and our export save)",
    "xlsx-shared": "XLSX with shared strings (as Excel and LibreOffice save)",
}


def import_rows(rows: int = 100_000, formats: tuple[str, ...] = tuple(WRITERS)) -> list[Row]:
    """Each format measured in a process of its own, so that no earlier work's memory, kept
    by the allocator, hides what an import needs."""
    measured = []
    for file_format in formats:
        command = [sys.executable, "-m", "benchmarks.imports", "--rows", str(rows)]
        done = subprocess.run(  # noqa: S603
            [*command, "--format", file_format, "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        measured += [Row(**row) for row in json.loads(done.stdout.splitlines()[-1])]
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description="The import benchmark alone.")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=[*WRITERS, "all"], default="all")
    parser.add_argument("--json", action="store_true", help="one format's rows as JSON")
    args = parser.parse_args()
    if args.json:
        from benchmarks.setup import django_setup

        django_setup()
        rows = _import_once(args.rows, args.format)
        print(json.dumps([dataclasses.asdict(row) for row in rows]))
        return
    formats = tuple(WRITERS) if args.format == "all" else (args.format,)
    for row in import_rows(args.rows, formats):
        print(f"| {row.name} | {row.median_ms / 1000:,.1f} s | {row.queries} | {row.note} |")


if __name__ == "__main__":
    main()
