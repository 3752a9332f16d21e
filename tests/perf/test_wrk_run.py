"""The load test's wrk runner, shared by `make loadtest` and `make bench-peer`: the timeout is
on wrk's command line, the Lua script gets its environment, and the reports of several URLs
are combined (requests and errors summed, latencies the worst). A stand-in `wrk` records
its arguments and prints a report, so no server is needed."""

import json
import stat

import pytest

from benchmarks import loadtest

FAKE_WRK = """#!/bin/sh
echo "$@" >> "{log}"
echo "cookie=$BENCH_COOKIE" >> "{log}"
echo 'progress line wrk prints first'
echo '{report}'
"""


@pytest.fixture
def fake_wrk(tmp_path):
    log = tmp_path / "calls.txt"
    report = {
        "requests": 300,
        "duration_us": 60_000_000,
        "connect": 0,
        "read": 1,
        "write": 0,
        "status": 2,
        "timeout": 3,
        "p50_us": 4_500,
        "p95_us": 9_000,
        "p99_us": 12_000,
    }
    wrk = tmp_path / "wrk"
    wrk.write_text(FAKE_WRK.format(log=log, report=json.dumps(report)))
    wrk.chmod(wrk.stat().st_mode | stat.S_IXUSR)
    return str(wrk), log


def test_the_timeout_and_the_cookie_reach_wrk(fake_wrk):
    wrk, log = fake_wrk
    loadtest.wrk_run(wrk, ["http://peer/a"], {"BENCH_COOKIE": "s=1"}, 60, 4, timeout_s=30)
    lines = log.read_text().splitlines()
    assert "--timeout=30s" in lines[0].split()
    assert lines[0].split()[-1] == "http://peer/a"
    assert lines[1] == "cookie=s=1"


def test_the_default_timeout_is_wrks_own(fake_wrk):
    wrk, log = fake_wrk
    loadtest.wrk_run(wrk, ["http://app/"], {"BENCH_COOKIE": "s=1"}, 60, 4)
    assert f"--timeout={loadtest.WRK_TIMEOUT_S}s" in log.read_text().split()
    assert loadtest.WRK_TIMEOUT_S == 2


def test_the_reports_of_several_urls_are_combined(fake_wrk):
    wrk, _log = fake_wrk
    figures = loadtest.wrk_run(wrk, ["http://a/", "http://b/"], {"BENCH_COOKIE": "s"}, 60, 4)
    assert figures == {
        "requests_per_s": 10.0,  # 300 requests in 60 s, twice
        "errors": 12,  # read, status and timeout errors of both
        "p50_us": 4.5,  # milliseconds, despite the key's name
        "p95_us": 9.0,
        "p99_us": 12.0,
    }
