"""Profile one page as the load test requests it: the time of its requests in-process
(median of `--runs`), its queries with the time of each and PostgreSQL's plan
(`EXPLAIN ANALYZE`), and cProfile's top functions by cumulative time.

    python -m benchmarks.profile_page /contacts/{busy_contact}/ [--user maria] [--htmx] [--runs 50]
                                      [--explain] [--top 25]

`{busy_contact}` in the path stands for the busy contact's id (`benchmarks.pages`). The first
request is not counted (it warms the caches, as a running server has them warm).
"""

import argparse
import cProfile
import io
import pstats
import statistics
import time

from benchmarks.setup import django_setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--user", default="maria")
    parser.add_argument("--htmx", action="store_true", help="send HX-Request: true")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each query")
    parser.add_argument("--cold", action="store_true", help="clear the fragment cache each run")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="cumulative", help="cProfile order (cumulative)")
    args = parser.parse_args()
    django_setup()

    from django.core.cache import caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from benchmarks.pages import BUSY_CONTACT, client_for

    args.path = args.path.format(busy_contact=BUSY_CONTACT)
    client = client_for(args.user)
    headers = {"HX-Request": "true"} if args.htmx else {}

    def get() -> None:
        if args.cold:
            caches["fragments"].clear()
        response = client.get(args.path, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"GET {args.path}: {response.status_code}")

    get()
    timings, cpu = [], []
    for _ in range(args.runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        get()
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    # On a shared machine the CPU time of this process is the steadier figure.
    print(
        f"GET {args.path} as {args.user}: median {statistics.median(timings):.2f} ms wall, "
        f"{statistics.median(cpu):.2f} ms CPU of this process, {args.runs} runs "
        f"(min {min(timings):.2f} ms wall)"
    )
    with CaptureQueriesContext(connection) as queries:
        get()
    print(f"{len(queries)} queries:")
    for query in queries.captured_queries:
        print(f"  {float(query['time']) * 1000:7.2f} ms  {query['sql'][:300]}")
        if args.explain and query["sql"].lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                for (line,) in cursor.fetchall():
                    print(f"      {line}")
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.runs):
        get()
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
