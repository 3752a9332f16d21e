"""Repeated runs of one piece of work: median and p95 wall time, queries, peak memory."""

import dataclasses
import statistics
import time
import tracemalloc
from collections.abc import Callable

from django.db import connection


@dataclasses.dataclass
class Row:
    name: str
    runs: int
    median_ms: float
    p95_ms: float
    queries: int
    peak_mib: float | None  # None: not measured (a single run, see `measure_once`)
    note: str = ""


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 20 runs is the 19th fastest)."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def _counter(seen: list) -> Callable:
    """An execute wrapper that counts statements (no cap, unlike Django's query log)."""

    def count(execute, sql, params, many, context):
        seen.append(1)
        return execute(sql, params, many, context)

    return count


def measure(
    name: str,
    work: Callable[[], object],
    *,
    runs: int,
    warmup: int = 1,
    before_each: Callable[[], object] | None = None,
) -> Row:
    """Time `runs` calls of `work` (after `warmup` untimed ones), count the queries of one
    call and its peak Python memory (tracemalloc, in one extra call so that tracing never
    slows the timed ones). `before_each` runs untimed before every timed call."""
    for _ in range(warmup):
        work()
    timings = []
    for _ in range(runs):
        if before_each is not None:
            before_each()
        started = time.perf_counter()
        work()
        timings.append((time.perf_counter() - started) * 1000)
    queries = []
    with connection.execute_wrapper(_counter(queries)):
        tracemalloc.start()
        try:
            work()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return Row(
        name=name,
        runs=runs,
        median_ms=statistics.median(timings),
        p95_ms=percentile(timings, 0.95),
        queries=len(queries),
        peak_mib=peak / 2**20,
    )


def measure_once(name: str, work: Callable[[], object]) -> Row:
    """One timed call of `work`, its queries counted in that same call (a few microseconds
    each) and no memory tracing, which would slow it: for work that takes minutes."""
    queries = []
    with connection.execute_wrapper(_counter(queries)):
        started = time.perf_counter()
        work()
        elapsed = (time.perf_counter() - started) * 1000
    return Row(
        name=name, runs=1, median_ms=elapsed, p95_ms=elapsed, queries=len(queries), peak_mib=None
    )
