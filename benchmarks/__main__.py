"""`make bench`: every benchmark, one table on stdout and in `benchmarks/RESULTS.md`.

python -m benchmarks [--runs 20] [--duration 60] [--no-load-test]
python -m benchmarks --only-day     # "My day" and search at two data sizes, printed
"""

import argparse

from benchmarks.provenance import git_commit, load_average, provenance_lines, replace_section
from benchmarks.setup import django_setup


def progress(row):
    """Say each row as soon as it is measured (the table comes at the end)."""
    print(f"  {row.name}: median {row.median_ms:,.1f} ms, {row.queries} queries", flush=True)
    return row


def table_rows(rows) -> list[str]:
    return [
        "| benchmark | runs | median ms | p95 ms | queries | peak MiB | note |",
        "|---|---:|---:|---:|---:|---:|---|",
        *(
            f"| {r.name} | {r.runs} | {r.median_ms:,.1f} | {r.p95_ms:,.1f} | {r.queries} | "
            f"{'—' if r.peak_mib is None else f'{r.peak_mib:,.1f}'} | {r.note} |"
            for r in rows
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs per row (20)")
    parser.add_argument("--forecast-runs", type=int, default=7, help="of the forecast (7)")
    parser.add_argument("--duration", type=int, default=60, help="load test seconds per URL")
    parser.add_argument("--no-load-test", action="store_true")
    parser.add_argument(
        "--only-reports", action="store_true", help="measure the Reports page only; print it"
    )
    parser.add_argument(
        "--only-search", action="store_true", help="the search rows alone, printed, not saved"
    )
    parser.add_argument(
        "--only-board",
        action="store_true",
        help="the pipeline board rows (1,000 and 100,000 deals) alone, printed, not saved",
    )
    parser.add_argument(
        "--only-day",
        action="store_true",
        help='the "My day" and search rows at two sizes, printed, not saved',
    )
    args = parser.parse_args()
    django_setup()

    from django.db import connection
    from django.utils import timezone

    from benchmarks.board import board_work
    from benchmarks.forecast import ForecastWork, rolled_back, vacuum_forecast_rows
    from benchmarks.imports import import_rows
    from benchmarks.learned import learned_accuracy
    from benchmarks.loadtest import format_load, load_test
    from benchmarks.measure import measure, measure_once
    from benchmarks.pages import day_work, page_work
    from benchmarks.reports import report_work
    from benchmarks.search import search_work
    from coop.demo import DEMO_TEAM
    from coop.models import Team, User
    from health.services import rollup_day

    before, commit = load_average(), git_commit()
    if args.only_board:
        boards = [
            progress(measure(name, get, runs=args.runs, warmup=2)) for name, get in board_work()
        ]
        print(f"Load before: {before}; after: {load_average()}")
        print("\n".join(table_rows(boards)))
        return
    if not args.only_reports:
        searches = [
            progress(measure(name, get, runs=args.runs, warmup=2)) for name, get in search_work()
        ]
        if args.only_search:
            print("\n".join(table_rows(searches)))
            return
        if args.only_day:
            days = [
                progress(measure(name, get, runs=args.runs, warmup=2)) for name, get in day_work()
            ]
            print(f"Load before: {before}\nLoad after: {load_average()}")
            print("\n".join(table_rows(days + searches)))
            return
    reports = [
        progress(measure(name, get, runs=args.runs, warmup=2)) for name, get in report_work()
    ]
    if args.only_reports:
        return
    team = Team.objects.get(name=DEMO_TEAM)
    work = ForecastWork(team, User.objects.get(username="fiona"))
    size = f"{work.open_deals:,} open deals, monthly x 12, intervals"
    pages = [
        progress(measure(name, get, runs=args.runs, warmup=2))
        for name, get in [*page_work(), *board_work()]
    ]
    rollup = progress(
        measure(
            "daily rollup, all users",
            rolled_back(lambda: rollup_day(timezone.localdate())),
            runs=args.runs,
        )
    )
    ours = progress(
        measure(
            f"forecast: ours ({size})",
            rolled_back(work.ours),
            runs=args.forecast_runs,
            before_each=vacuum_forecast_rows,
        )
    )
    floor = progress(
        measure(
            "forecast: database floor (1 INSERT ... SELECT)",
            rolled_back(work.floor),
            runs=args.forecast_runs,
            before_each=vacuum_forecast_rows,
        )
    )
    vacuum_forecast_rows()
    baseline = progress(
        measure_once(
            "forecast: per-stage loop baseline, in one transaction", rolled_back(work.baseline)
        )
    )
    vacuum_forecast_rows()
    autocommit = progress(
        measure_once(
            "forecast: per-stage loop baseline, a commit per insert (as the plan's code)",
            work.baseline_in_autocommit,
        )
    )
    ours.note = (
        f"{ours.median_ms / floor.median_ms:.2f}x the floor; the baseline takes "
        f"{baseline.median_ms / ours.median_ms:.0f}x as long in one transaction, "
        f"{autocommit.median_ms / ours.median_ms:.0f}x with a commit per insert"
    )
    imports = import_rows()
    for row in imports:
        progress(row)
    rows = [ours, floor, baseline, autocommit, *pages, *reports, *searches, rollup, *imports]
    table = table_rows(rows)
    learned = learned_accuracy(team)
    print("\n".join(learned), flush=True)
    table += ["", *learned]
    if not args.no_load_test:
        connection.close()
        loads = load_test(targets=None, duration=args.duration, connections=4)
        table += ["", *format_load(loads, duration=args.duration)]
    after = load_average()
    print("\n".join(table))
    database = f"PostgreSQL {connection.cursor().connection.info.server_version}"
    body = [
        *provenance_lines(before=before, commit=commit, after=after, database=database),
        "- Data: `manage.py seed_demo --scale large`; server times are Django's whole stack "
        "in-process (Client with a logged-in session, DEBUG off); peak MiB is Python's "
        "(tracemalloc) of one extra run; the baselines run once, untraced (—).",
        "",
        *table,
    ]
    # Only this section is replaced: the others (`make loadtest`, the notes) stay.
    replace_section("# Benchmark results (latest `make bench`)", "\n".join(body), first=True)


if __name__ == "__main__":
    main()
