"""The forecast three ways, over the demo team's open deals, monthly over twelve months:
ours (`finance.services.forecast_record`: the work of `forecast_generate` without its own
durable transaction, so that it can be rolled back), the plan's per-stage loop (the baseline)
and one INSERT ... SELECT (the database's floor). Each run is rolled back, so every run does
the same work on the same data."""

import argparse
import datetime
import json
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable

if __name__ == "__main__":  # `python -m benchmarks.forecast`: Django first, then the models
    from benchmarks.setup import django_setup

    # Without DATABASE_URL, the first database named on the command line.
    _urls = [arg for arg in sys.argv[1:] if arg.startswith("postgres")]
    if _urls:
        os.environ.setdefault("DATABASE_URL", _urls[0])
    django_setup()

from django.db import connection, transaction
from django.utils import timezone

from coop.models import Team, User
from crm.models import Deal, DealStatus, PipelineStage
from finance.forecasting import Line
from finance.intervals import revenue_interval
from finance.models import RevenueForecast
from finance.periods import PeriodType, next_period_start, period_start
from finance.rates import RateTable, convert_minor
from finance.services import forecast_deal_row, forecast_record

CURRENCY = "EUR"
MONTHS = 12


class Rollback(Exception):
    pass


def rolled_back(work: Callable[[], object]) -> Callable[[], object]:
    """`work` in a transaction that is always rolled back; returns what `work` returned."""

    def run() -> object:
        result = None
        try:
            with transaction.atomic():
                result = work()
                raise Rollback
        except Rollback:
            pass
        return result

    return run


def vacuum_forecast_rows() -> None:
    """VACUUM `forecast_deals`: every rolled-back run leaves ~100,000 dead rows (and their
    index entries) behind, which would slow each later run; this gives every run the same
    table to insert into. Outside any transaction (VACUUM cannot run in one)."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM forecast_deals")


def window(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    start = period_start(today, PeriodType.MONTHLY)
    end = start
    for _ in range(MONTHS):
        end = next_period_start(end, PeriodType.MONTHLY)
    return start, end - datetime.timedelta(days=1)


class ForecastWork:
    def __init__(self, team: Team, actor: User) -> None:
        self.team, self.actor = team, actor
        self.start, self.end = window(timezone.localdate())
        self.open_deals = Deal.objects.filter(
            pipeline__team=team,
            status=DealStatus.OPEN,
            expected_close_date__range=(self.start, self.end),
        ).count()

    def _forecast_row(self, name: str) -> RevenueForecast:
        return RevenueForecast.objects.create(
            name=name,
            user=self.actor,
            team=self.team,
            forecast_date=timezone.localdate(),
            period_type=PeriodType.MONTHLY,
            start_date=self.start,
            end_date=self.end,
            currency=CURRENCY,
            time_zone="UTC",
            total_expected_cents=0,
            confidence_interval={},
        )

    def ours(self) -> int:
        forecast = forecast_record(
            actor=self.actor,
            team=self.team,
            scope_user=None,
            period_type=PeriodType.MONTHLY,
            start=self.start,
            end=self.end,
            currency=CURRENCY,
            name="Benchmark",
            time_zone="UTC",
        )
        return forecast.deals.count()

    def baseline_in_autocommit(self) -> int:
        """`baseline` as the plan's code runs it, with no transaction: every insert commits
        on its own. The forecast is deleted afterwards (its rows cascade)."""
        earlier = RevenueForecast.objects.filter(name="Baseline")
        with transaction.atomic():
            before = set(earlier.values_list("pk", flat=True))
        try:
            return self.baseline()
        finally:
            RevenueForecast.objects.filter(name="Baseline").exclude(pk__in=before).delete()

    def baseline(self) -> int:
        """The plan's loop: per stage, one query for its deals; per deal, one insert."""
        forecast = self._forecast_row("Baseline")
        rates = RateTable.load(["USD", "GBP", "CHF"], CURRENCY, self.end)
        lines: dict[datetime.date, list[Line]] = defaultdict(list)
        begin = datetime.datetime.combine(self.start, datetime.time.min, datetime.UTC)
        finish = datetime.datetime.combine(self.end, datetime.time.max, datetime.UTC)
        for stage in PipelineStage.objects.filter(pipeline__team=self.team, is_lost=False):
            if stage.is_won:
                deals = Deal.objects.filter(
                    stage=stage, status=DealStatus.WON, closed_at__range=(begin, finish)
                )
            else:
                deals = Deal.objects.filter(
                    stage=stage,
                    status=DealStatus.OPEN,
                    expected_close_date__range=(self.start, self.end),
                )
            for deal in deals:
                on_date = deal.closed_at.date() if stage.is_won else deal.expected_close_date
                rate = rates.rate(deal.currency, CURRENCY, on_date)
                line = Line(
                    deal_id=deal.pk,
                    title=deal.title,
                    stage_id=stage.pk,
                    stage_name=stage.name,
                    realized=stage.is_won,
                    on_date=on_date,
                    deal_value_cents=deal.value_cents,
                    deal_currency=deal.currency,
                    rate=rate,
                    value_cents=convert_minor(deal.value_cents, deal.currency, CURRENCY, rate),
                    probability=100 if stage.is_won else stage.probability,
                    forecast_category="closed" if stage.is_won else deal.forecast_category,
                )
                month = period_start(line.on_date, PeriodType.MONTHLY)
                forecast_deal_row(forecast, line, month).save(force_insert=True)
                lines[month].append(line)
        for members in lines.values():
            revenue_interval(
                realized_cents=sum(line.value_cents for line in members if line.realized),
                values_cents=[line.value_cents for line in members if not line.realized],
                probabilities=[line.probability for line in members if not line.realized],
            )
        return sum(len(members) for members in lines.values())

    def floor(self) -> int:
        """One statement: insert the forecast's deal rows from the deals and aggregate them."""
        forecast = self._forecast_row("Floor")
        with connection.cursor() as cursor:
            cursor.execute(
                FLOOR_SQL,
                {
                    "forecast": forecast.pk,
                    "team": self.team.pk,
                    "start": self.start,
                    "end": self.end,
                    "currency": CURRENCY,
                },
            )
            return sum(count for _month, _expected, count in cursor.fetchall())


# The rate of each deal's currency in effect on its day (the latest on or before it), the
# converted value and the expected value rounded as numeric, then the monthly sums.
FLOOR_SQL = """
WITH chosen AS (
    SELECT d.id, d.title, d.stage_id, s.name AS stage_name, d.value_cents, d.currency,
           d.status = 'won' AS realized,
           CASE WHEN d.status = 'won' THEN 100 ELSE s.probability END AS probability,
           CASE WHEN d.status = 'won' THEN 'closed' ELSE d.forecast_category END
               AS forecast_category,
           CASE WHEN d.status = 'won' THEN (d.closed_at AT TIME ZONE 'UTC')::date
                ELSE d.expected_close_date END AS on_date
    FROM crm_deals d
    JOIN crm_pipelines p ON p.id = d.pipeline_id
    JOIN crm_pipeline_stages s ON s.id = d.stage_id
    WHERE p.team_id = %(team)s AND (
        (d.status = 'open' AND d.expected_close_date BETWEEN %(start)s AND %(end)s)
        OR (d.status = 'won' AND d.closed_at >= %(start)s::date AT TIME ZONE 'UTC'
            AND d.closed_at < (%(end)s::date + 1) AT TIME ZONE 'UTC'))
), counted AS (
    SELECT c.*, CASE WHEN c.currency = %(currency)s THEN 1 ELSE r.rate END AS rate
    FROM chosen c
    LEFT JOIN LATERAL (
        SELECT x.rate FROM finance_exchange_rates x
        WHERE x.base = c.currency AND x.quote = %(currency)s AND x.date <= c.on_date
        ORDER BY x.date DESC LIMIT 1
    ) r ON true
), inserted AS (
    INSERT INTO forecast_deals (
        forecast_id, deal_id, expected_value_cents, probability, realized, on_date,
        period_start, deal_value_cents, deal_currency, rate, value_cents, stage_id,
        stage_name, title, forecast_category
    )
    SELECT %(forecast)s, id, round(round(value_cents * rate) * probability / 100.0),
           probability, realized, on_date, date_trunc('month', on_date)::date, value_cents,
           currency, rate, round(value_cents * rate), stage_id, stage_name, title,
           forecast_category
    FROM counted
    RETURNING period_start, expected_value_cents
)
SELECT period_start, sum(expected_value_cents), count(*) FROM inserted
GROUP BY period_start ORDER BY period_start
"""


def scale_point(runs: int) -> dict:
    """Ours and the floor on this process's database (the demo team, its finance user):
    medians of `runs` rolled-back runs each, and the peak Python memory of one more run of
    ours (tracemalloc)."""
    from benchmarks.measure import measure
    from coop.demo import DEMO_TEAM

    work = ForecastWork(Team.objects.get(name=DEMO_TEAM), User.objects.get(username="fiona"))
    ours = measure("ours", rolled_back(work.ours), runs=runs, before_each=vacuum_forecast_rows)
    floor = measure("floor", rolled_back(work.floor), runs=runs, before_each=vacuum_forecast_rows)
    vacuum_forecast_rows()
    return {
        "open_deals": work.open_deals,
        "ours_ms": ours.median_ms,
        "floor_ms": floor.median_ms,
        "peak_mib": ours.peak_mib,
        "queries": ours.queries,
    }


def scale_table(points: list[dict]) -> list[str]:
    """The forecast's growth with the number of deals: one row per database."""
    return [
        "| open deals | ours ms | floor ms | ratio | ms per 1k deals | peak MiB | queries |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {p['open_deals']:,} | {p['ours_ms']:,.0f} | {p['floor_ms']:,.0f} | "
            f"{p['ours_ms'] / p['floor_ms']:.2f}x | "
            f"{1000 * p['ours_ms'] / max(p['open_deals'], 1):.2f} | {p['peak_mib']:.2f} | "
            f"{p['queries']} |"
            for p in points
        ),
    ]


def main() -> None:
    """`python -m benchmarks.forecast [--runs 5] [DATABASE_URL ...]`: the forecast, ours and
    the floor, on each database (default: $DATABASE_URL), each measured in a process of its
    own; prints the scale table (e.g. databases seeded with 15,000, 150,000 and 1,500,000
    deals by `seed_demo --scale xlarge --deals N`: 10k, 100k and 1M open deals)."""
    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each (5)")
    parser.add_argument("--point", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("databases", nargs="*", help="PostgreSQL URLs (default: DATABASE_URL)")
    args = parser.parse_args()
    if args.point:
        print(json.dumps(scale_point(args.runs)), flush=True)
        return
    points = []
    for url in args.databases or [os.environ["DATABASE_URL"]]:
        command = [sys.executable, "-m", "benchmarks.forecast", "--point", f"--runs={args.runs}"]
        done = subprocess.run(  # noqa: S603 (this module, another database)
            command,
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise SystemExit(f"{url}: {done.stderr.strip().splitlines()[-1]}")
        points.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"  {url.rsplit('/', 1)[-1]}: {points[-1]}", flush=True)
    load = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout  # noqa: S607
    print("\n".join(scale_table(points)))
    print(f"load: {load.strip()}")


if __name__ == "__main__":
    main()
