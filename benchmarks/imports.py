"""The import benchmark: a CSV of 100,000 new contacts (in 1,000 organizations) imported
into a scratch team by `records_import`, then undone by `import_undo`, which also leaves
the database as it was."""

import csv
import resource
import tempfile
import time
from pathlib import Path

from benchmarks.measure import Row

TEAM = "Import benchmark"


def _write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["Name", "Email", "Phone", "Organization", "Job title", "Notes"])
        for n in range(rows):
            writer.writerow(
                [
                    f"Person {n}",
                    f"person{n}@bench{n % 1000}.example",
                    f"+33 1 00 {n:06d}",
                    f"Bench organization {n % 1000}",
                    "Buyer",
                    "",
                ]
            )


def import_rows(rows: int = 100_000) -> list[Row]:
    from django.db import connection

    from benchmarks.measure import _counter
    from coop.models import Team
    from crm.exchange import guess_mapping
    from crm.imports import import_undo, read_table, records_import

    team, _ = Team.objects.get_or_create(name=TEAM)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "contacts.csv"
        _write_csv(path, rows)
        with path.open("rb") as file:
            mapping = guess_mapping("contacts", read_table(file, path.name).headers)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
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
        rss_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
        size = f"{path.stat().st_size / 2**20:.1f} MiB"
    undo_queries: list = []
    started = time.perf_counter()
    with connection.execute_wrapper(_counter(undo_queries)):
        import_undo(actor=None, run=run)
    undo = (time.perf_counter() - started) * 1000
    note = (
        f"{run.created:,} contacts in 1,000 new organizations from a {size} CSV; the process's "
        f"peak RSS grew {rss_growth:,.0f} MiB (batches of 1,000 rows; the match index holds "
        "an email and a name per contact of the team)"
    )
    return [
        Row(f"import: {rows:,} new contacts (CSV)", 1, took, took, len(queries), None, note),
        Row(f"import: undo of those {rows:,} contacts", 1, undo, undo, len(undo_queries), None, ""),
    ]
