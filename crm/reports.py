"""The sales manager's reports: funnel, win/loss, velocity, activity and pipeline changes.

Every report reads only what the viewer sees (the one visibility rule: a deal is visible with
its pipeline's team, an entry with its contact's team, a task with its team), filtered by
pipeline, owner and a period of whole days in the viewer's time zone, and runs a fixed number
of queries whatever the number of deals. Durations come from `crm_deal_stage_changes`, whose
times are aware UTC datetimes, so a stay across a daylight-saving change lasts what it really
lasted (23 or 25 hours for a "day").

What the reports read is partly kept at write time, so that a year of a large team stays a
read of pre-grouped or indexed rows: each stage change carries its deal's pipeline and the end
of the stay it began (`crm.services.stage_history_refresh`), and the activity totals are kept
per team, person and UTC hour (`crm.activity_totals`). `manage.py rebuild_report_history`
recomputes both. The straightforward computations (`_funnel_in_python`, `_velocity_in_python`,
`_activity_counted`) stay as the definitions the tests hold the fast paths to.

Definitions:
- funnel: a deal *entered* a stage when it was created in it, moved into it or reopened in it
  within the period; it *converted* when, any time after that entry, it moved to a stage placed
  after it on the board or was won. Conversion rate = converted / entered.
- win/loss: deals closed (won or lost) within the period, counted and summed per currency, by
  owner, by lost reason and by the stage the deal was in when it was lost.
- velocity: a stay in a stage lasts from the change into it to the deal's next stage change;
  stays that ended within the period count, per stage: median and P90 (nearest rank) in days.
  The sales cycle of a deal won within the period runs from its creation to its win.
- activity: timeline entries per author per week (weeks start on Monday, in the viewer's time
  zone): calls, emails and messages; meetings (meetings and calendar events); and tasks done,
  per person who ticked them.
- pipeline changes: within the period, deals that entered (were created), moved between open
  stages, slipped (their expected close date was pushed later) and closed.
"""

import contextlib
import itertools
import math
import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncWeek

from coop.models import User
from coop.visibility import visible_team_q
from crm.activity_totals import MEETING_TYPES
from crm.models import (
    ActivityHour,
    CloseDateChange,
    Deal,
    DealStatus,
    Interaction,
    Pipeline,
    StageChange,
    StageChangeKind,
    Task,
)

REPORTS = {
    "funnel": "Funnel",
    "winloss": "Win/loss",
    "velocity": "Velocity",
    "activity": "Activity",
    "changes": "Pipeline changes",
}
ENTRY_KINDS = (StageChangeKind.CREATED, StageChangeKind.MOVED, StageChangeKind.REOPENED)
# The longest period a report covers (a year and a bit: a quarter-on-quarter comparison fits).
MAX_DAYS = 400
# Rows listed under "pipeline changes", per kind (the counts cover everything).
CHANGE_ROWS = 50


@dataclass(frozen=True)
class ReportFilters:
    start: date
    end: date  # inclusive
    zone: ZoneInfo
    pipeline: Pipeline | None = None
    owner: User | None = None

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), self.zone)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(), self.zone)


def report_deals(*, viewer: User, filters: ReportFilters) -> QuerySet[Deal]:
    """The deals a report covers: visible to the viewer, of the pipeline and owner chosen."""
    deals = Deal.objects.visible_to(viewer)
    if filters.pipeline is not None:
        deals = deals.filter(pipeline=filters.pipeline)
    if filters.owner is not None:
        deals = deals.filter(owner=filters.owner)
    return deals


def report_pipelines(*, viewer: User, filters: ReportFilters) -> QuerySet[Pipeline]:
    """The pipelines a report covers: visible to the viewer (the visibility rule for deals is
    their pipeline's team), the one chosen if any."""
    pipelines = Pipeline.objects.visible_to(viewer)
    if filters.pipeline is not None:
        pipelines = pipelines.filter(pk=filters.pipeline.pk)
    return pipelines


def report_changes(*, viewer: User, filters: ReportFilters) -> QuerySet[StageChange]:
    """The stage changes of the deals a report covers (`report_deals`), found by the changes'
    own copy of their deal's pipeline: the visibility rule and the pipeline filter read the
    history's indexes alone instead of a semi-join with every visible deal."""
    changes = StageChange.objects.filter(
        pipeline__in=report_pipelines(viewer=viewer, filters=filters).values("pk")
    )
    if filters.owner is not None:
        changes = changes.filter(deal__in=Deal.objects.filter(owner=filters.owner).values("pk"))
    return changes.order_by()


def _changes_condition(viewer: User, filters: ReportFilters, alias: str) -> tuple[str, tuple]:
    """`report_changes` as a condition on the stage changes aliased `alias`, for raw SQL."""
    pipelines = report_pipelines(viewer=viewer, filters=filters).order_by().values("pk")
    sql, params = pipelines.query.sql_with_params()
    condition = f"{alias}.pipeline_id IN ({sql})"
    if filters.owner is not None:
        owned = Deal.objects.filter(owner=filters.owner).order_by().values("pk")
        owned_sql, owned_params = owned.query.sql_with_params()
        condition += f" AND {alias}.deal_id IN ({owned_sql})"
        params = (*params, *owned_params)
    return condition, tuple(params)


# What one report query may sort in memory (PostgreSQL's default, 4 MB, sends a year of a large
# team's stays, about 100,000 rows, to disk). Set for the query's own transaction only.
REPORT_WORK_MEM = "32MB"


@contextlib.contextmanager
def _report_cursor() -> Iterator:
    """A cursor for one of the reports' big PostgreSQL queries: in a transaction of its own
    (a savepoint inside one already open) whose sorts may use `REPORT_WORK_MEM`."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
        yield cursor


def _changes_of_deals_active_in(deals: QuerySet[Deal], filters: ReportFilters) -> list[tuple]:
    """(deal, kind, from stage, to stage id and name, time) of every stage change of the deals
    that changed stage within the period, in order: one query."""
    active = StageChange.objects.filter(
        changed_at__gte=filters.since, changed_at__lt=filters.until, deal__in=deals.values("pk")
    ).values("deal_id")
    return list(
        StageChange.objects.filter(deal_id__in=active)
        .order_by("deal_id", "changed_at", "id")
        .values_list("deal_id", "kind", "to_stage_id", "to_stage_name", "changed_at")
    )


def _by_deal(changes: list[tuple]) -> dict[UUID, list[tuple]]:
    grouped: dict[UUID, list[tuple]] = defaultdict(list)
    for row in changes:
        grouped[row[0]].append(row)
    return grouped


@dataclass
class FunnelRow:
    stage: str
    entered: int = 0
    converted: int = 0

    @property
    def rate(self) -> float | None:
        return self.converted / self.entered * 100 if self.entered else None


def funnel(*, viewer: User, filters: ReportFilters) -> list[FunnelRow]:
    """Per open stage of the pipeline, in board order: deals that entered it in the period and
    how many of them went on. Needs a pipeline (stages are a pipeline's). Two queries."""
    if filters.pipeline is None:
        return []
    stages = list(
        filters.pipeline.stages.filter(is_won=False, is_lost=False, archived_at__isnull=True)
        .order_by("position")
        .values_list("pk", "name", "position")
    )
    rows = {pk: FunnelRow(stage=name) for pk, name, _ in stages}
    if connection.vendor == "postgresql":
        counts = _funnel_in_sql(viewer, filters, stages)
    else:
        counts = _funnel_in_python(report_deals(viewer=viewer, filters=filters), filters, stages)
    for stage_id, (entered, converted) in counts.items():
        rows[stage_id].entered, rows[stage_id].converted = entered, converted
    return list(rows.values())


def _funnel_in_python(deals: QuerySet[Deal], filters: ReportFilters, stages) -> dict:
    positions = {pk: position for pk, _, position in stages}
    counts = {pk: [0, 0] for pk in positions}
    since, until = filters.since, filters.until
    for deal_changes in _by_deal(_changes_of_deals_active_in(deals, filters)).values():
        for stage_id, count in counts.items():
            entry = next(
                (
                    at
                    for _, kind, to_id, _, at in deal_changes
                    if to_id == stage_id and kind in ENTRY_KINDS and since <= at < until
                ),
                None,
            )
            if entry is None:
                continue
            count[0] += 1
            if any(
                at > entry
                and (kind == StageChangeKind.WON or positions.get(to_id, -1) > positions[stage_id])
                for _, kind, to_id, _, at in deal_changes
            ):
                count[1] += 1
    return {pk: tuple(count) for pk, count in counts.items()}


# The pipeline's changes since the period began, read once (an index range scan of its
# cover) with how far each went (its stage's place on the board; a win beyond every stage).
# Each deal's first entry into each stage within the period (GROUP BY); it converted when a
# change of the same deal strictly later in time went further: a hash join on the deal, the
# later changes being among those read (a deal never leaves its pipeline).
FUNNEL_SQL = """
WITH board(stage_id, position) AS (SELECT * FROM unnest(%s::uuid[], %s::int[])),
changes AS MATERIALIZED (
    SELECT c.deal_id, c.to_stage_id, c.kind, c.changed_at,
           CASE WHEN c.kind = %s THEN 2147483647 ELSE COALESCE(b.position, -1) END AS reach
    FROM crm_deal_stage_changes c LEFT JOIN board b ON b.stage_id = c.to_stage_id
    WHERE {changes} AND c.changed_at >= %s
),
entries AS (
    SELECT c.deal_id, c.to_stage_id AS stage_id, MIN(c.changed_at) AS entered_at
    FROM changes c
    WHERE c.kind = ANY(%s) AND c.changed_at < %s
      AND c.to_stage_id IN (SELECT stage_id FROM board)
    GROUP BY c.deal_id, c.to_stage_id
),
converted AS (
    SELECT DISTINCT e.deal_id, e.stage_id
    FROM entries e
    JOIN board b ON b.stage_id = e.stage_id
    JOIN changes n ON n.deal_id = e.deal_id AND n.changed_at > e.entered_at
                  AND n.reach > b.position
)
SELECT e.stage_id, COUNT(*), COUNT(v.deal_id)
FROM entries e LEFT JOIN converted v ON v.deal_id = e.deal_id AND v.stage_id = e.stage_id
GROUP BY e.stage_id
"""


def _funnel_in_sql(viewer: User, filters: ReportFilters, stages) -> dict:
    changes_sql, changes_params = _changes_condition(viewer, filters, "c")
    params = (
        [pk for pk, _, _ in stages],
        [position for _, _, position in stages],
        StageChangeKind.WON,
        *changes_params,
        filters.since,
        [str(kind) for kind in ENTRY_KINDS],
        filters.until,
    )
    counts = {pk: (0, 0) for pk, _, _ in stages}
    with _report_cursor() as cursor:
        cursor.execute(FUNNEL_SQL.format(changes=changes_sql), params)
        for stage_id, entered, converted in cursor.fetchall():
            counts[stage_id] = (entered, converted)
    return counts


@dataclass
class WinLossRow:
    label: str
    currency: str
    won: int = 0
    won_cents: int = 0
    lost: int = 0
    lost_cents: int = 0

    @property
    def win_rate(self) -> float | None:
        closed = self.won + self.lost
        return self.won / closed * 100 if closed else None


@dataclass
class WinLoss:
    by_owner: list[WinLossRow] = field(default_factory=list)
    by_reason: list[WinLossRow] = field(default_factory=list)
    by_stage: list[WinLossRow] = field(default_factory=list)


def _win_loss_rows(rows, label) -> list[WinLossRow]:
    table: dict[tuple, WinLossRow] = {}
    for row in rows:
        key = (label(row), row["currency"])
        entry = table.setdefault(key, WinLossRow(label=key[0], currency=key[1]))
        if row["status"] == DealStatus.WON:
            entry.won, entry.won_cents = entry.won + row["n"], entry.won_cents + row["total"]
        else:
            entry.lost, entry.lost_cents = entry.lost + row["n"], entry.lost_cents + row["total"]
    return sorted(table.values(), key=lambda r: (-(r.won + r.lost), r.label, r.currency))


def win_loss(*, viewer: User, filters: ReportFilters) -> WinLoss:
    """Deals closed in the period by owner, by lost reason and by stage at loss: two
    aggregate queries (owners and reasons are both summed from one grouping by owner and
    reason: one pass over the closed deals' covering index instead of two)."""
    closed = Deal.objects.filter(
        pipeline__in=report_pipelines(viewer=viewer, filters=filters).values("pk"),
        closed_at__gte=filters.since,
        closed_at__lt=filters.until,
    )
    if filters.owner is not None:
        closed = closed.filter(owner=filters.owner)
    groups = list(
        closed.order_by()
        .values("status", "currency", "owner__display_name", "owner__username", "lost_reason__name")
        .annotate(n=Count("id"), total=Sum("value_cents"))
    )
    lost = closed.filter(status=DealStatus.LOST).order_by()
    # Each lost deal with its loss (or losses, when reopened and lost again) from the partial
    # index of losses: the deals' side from the closed deals' covering index.
    by_stage = (
        lost.filter(stage_changes__kind=StageChangeKind.LOST)
        .values("status", "currency", lost_from=F("stage_changes__from_stage_name"))
        .annotate(n=Count("id", distinct=True), total=Sum("value_cents"))
    )
    return WinLoss(
        by_owner=_win_loss_rows(
            groups, lambda r: r["owner__display_name"] or r["owner__username"] or "No owner"
        ),
        by_reason=_win_loss_rows(
            [row for row in groups if row["status"] == DealStatus.LOST],
            lambda r: r["lost_reason__name"] or "No reason recorded",
        ),
        by_stage=_win_loss_rows(by_stage, lambda r: r["lost_from"] or "Unknown"),
    )


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (`share` of 0.9 is P90) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class VelocityRow:
    stage: str
    stays: int
    median_days: float
    p90_days: float


@dataclass
class Velocity:
    stages: list[VelocityRow]
    cycle_deals: int = 0
    cycle_median_days: float | None = None
    cycle_p90_days: float | None = None


DAY = 86_400


def _days(seconds: float) -> float:
    """Seconds as days, rounded to the microsecond's order so that both paths agree exactly."""
    return round(seconds / DAY, 6)


def velocity(*, viewer: User, filters: ReportFilters) -> Velocity:
    """Time spent in each stage (stays ended in the period) and the sales cycle of the deals
    won in the period, from the stage changes' UTC times and each stay's end kept with it
    (`left_at`). PostgreSQL computes it in one query (`VELOCITY_SQL`); other databases fetch
    the stays (two queries) and take the percentiles in Python."""
    if connection.vendor == "postgresql":
        return _velocity_in_sql(viewer, filters)
    return _velocity_from_columns(viewer, filters)


def _velocity_from(stays, cycles) -> Velocity:
    """Stays as (stage name, first entry, [seconds...]) in board-history order; cycles in
    seconds."""
    rows = [
        VelocityRow(
            stage=name,
            stays=len(values),
            median_days=_days(statistics.median(values)),
            p90_days=_days(percentile(values, 0.9)),
        )
        for name, values in stays
    ]
    return Velocity(
        stages=rows,
        cycle_deals=len(cycles),
        cycle_median_days=_days(statistics.median(cycles)) if cycles else None,
        cycle_p90_days=_days(percentile(cycles, 0.9)) if cycles else None,
    )


def _velocity_in_python(deals: QuerySet[Deal], filters: ReportFilters) -> Velocity:
    since, until = filters.since, filters.until
    changes = _changes_of_deals_active_in(deals, filters)
    stays: dict[str, list[float]] = defaultdict(list)
    first_entry: dict[str, datetime] = {}
    cycles: list[float] = []
    for deal_changes in _by_deal(changes).values():
        for current, following in itertools.pairwise(deal_changes):
            _, kind, _, stage_name, entered = current
            left = following[4]
            if kind in ENTRY_KINDS and since <= left < until:
                stays[stage_name].append((left - entered).total_seconds())
                first_entry[stage_name] = min(first_entry.get(stage_name, entered), entered)
        first, last = deal_changes[0], deal_changes[-1]
        if last[1] == StageChangeKind.WON and since <= last[4] < until:
            cycles.append((last[4] - first[4]).total_seconds())
    ordered = sorted(stays.items(), key=lambda item: (first_entry[item[0]], item[0]))
    return _velocity_from(ordered, cycles)


# Stays and cycles from the history's report columns (`left_at` ends each stay), grouped in
# PostgreSQL: each group's durations (intervals: converting each to seconds is what costs)
# sorted once into an array (the group key in the "C" collation: grouping only needs equality,
# and byte order sorts fastest), then the nearest-rank values picked by position and only they
# converted to seconds: the lower and upper middle values, which `statistics.median`
# averages, and the `ceil(0.9 n)`-th, `percentile`'s P90 (the same float8 product as
# Python's), so the figures are those of the Python path to the last bit. A won deal's cycle
# starts at its first change: one index-only probe per deal won in the period.
VELOCITY_SQL = """
WITH stays AS (
    SELECT s.to_stage_name COLLATE "C" AS stage, MIN(s.changed_at) AS first_at,
           ARRAY_AGG(s.left_at - s.changed_at ORDER BY s.left_at - s.changed_at) AS spans
    FROM crm_deal_stage_changes s
    WHERE {changes} AND s.kind = ANY(%s) AND s.left_at >= %s AND s.left_at < %s
    GROUP BY s.to_stage_name COLLATE "C"
),
cycles AS (
    SELECT '' AS stage, NULL::timestamptz AS first_at,
           ARRAY_AGG(s.changed_at - f.first_at ORDER BY s.changed_at - f.first_at) AS spans
    FROM crm_deal_stage_changes s
    CROSS JOIN LATERAL (
        SELECT MIN(c.changed_at) AS first_at FROM crm_deal_stage_changes c
        WHERE c.deal_id = s.deal_id
    ) f
    WHERE {changes} AND s.kind = %s AND s.left_at IS NULL
      AND s.changed_at >= %s AND s.changed_at < %s
),
groups AS (
    SELECT 's' AS part, * FROM stays UNION ALL SELECT 'c', * FROM cycles
)
SELECT part, stage, first_at, n,
       EXTRACT(EPOCH FROM spans[CEIL(0.5::float8 * n)::int])::float8,
       EXTRACT(EPOCH FROM spans[n + 1 - CEIL(0.5::float8 * n)::int])::float8,
       EXTRACT(EPOCH FROM spans[CEIL(0.9::float8 * n)::int])::float8
FROM (SELECT *, COALESCE(CARDINALITY(spans), 0) AS n FROM groups) g
"""


def _summary_row(count: int, low: float | None, high: float | None, p90: float | None):
    """(stays, median days, P90 days) from the count and the middle and P90 values."""
    if not count:
        return 0, None, None
    return count, _days((low + high) / 2), _days(p90)


def _velocity_in_sql(viewer: User, filters: ReportFilters) -> Velocity:
    since, until = filters.since, filters.until
    changes_sql, changes_params = _changes_condition(viewer, filters, "s")
    params = (
        *changes_params,
        [str(kind) for kind in ENTRY_KINDS],
        since,
        until,
        *changes_params,
        StageChangeKind.WON,
        since,
        until,
    )
    with _report_cursor() as cursor:
        cursor.execute(VELOCITY_SQL.format(changes=changes_sql), params)
        rows = cursor.fetchall()
    stages = [
        VelocityRow(name, *_summary_row(count, low, high, p90))
        for _, name, _, count, low, high, p90 in sorted(
            (row for row in rows if row[0] == "s"), key=lambda row: (row[2], row[1])
        )
    ]
    # No deal won in the period: no cycle row at all.
    cycle = next((row for row in rows if row[0] == "c"), ("c", "", None, 0, None, None, None))
    deals, median_days, p90_days = _summary_row(*cycle[3:])
    return Velocity(
        stages=stages, cycle_deals=deals, cycle_median_days=median_days, cycle_p90_days=p90_days
    )


def _velocity_from_columns(viewer: User, filters: ReportFilters) -> Velocity:
    """The same reading of the history's report columns as `VELOCITY_SQL`, the percentiles
    taken in Python (SQLite has no arrays to pick them from)."""
    since, until = filters.since, filters.until
    changes = report_changes(viewer=viewer, filters=filters)
    stays: dict[str, list[float]] = defaultdict(list)
    first_entry: dict[str, datetime] = {}
    for name, entered, left in changes.filter(
        kind__in=ENTRY_KINDS, left_at__gte=since, left_at__lt=until
    ).values_list("to_stage_name", "changed_at", "left_at"):
        stays[name].append((left - entered).total_seconds())
        first_entry[name] = min(first_entry.get(name, entered), entered)
    first_change = StageChange.objects.filter(deal_id=OuterRef("deal_id")).order_by(
        "changed_at", "id"
    )
    won = changes.filter(
        kind=StageChangeKind.WON,
        left_at__isnull=True,
        changed_at__gte=since,
        changed_at__lt=until,
    ).annotate(started_at=Subquery(first_change.values("changed_at")[:1]))
    cycles = [
        (at - started).total_seconds()
        for at, started in won.values_list("changed_at", "started_at")
    ]
    ordered = sorted(stays.items(), key=lambda item: (first_entry[item[0]], item[0]))
    return _velocity_from(ordered, cycles)


@dataclass
class ActivityRow:
    person: str
    week: date
    interactions: int = 0
    meetings: int = 0
    tasks_done: int = 0


def _week(value, zone: ZoneInfo) -> date:
    return value.astimezone(zone).date() if isinstance(value, datetime) else value


def activity(*, viewer: User, filters: ReportFilters) -> list[ActivityRow]:
    """Timeline entries per author and tasks done per person who ticked them, per week. The
    pipeline filter does not apply: entries belong to contacts, not pipelines. From the totals
    kept per team, person and UTC hour (`crm.activity_totals`, one query) when the period and
    its weeks start on whole UTC hours in the viewer's zone (every zone but the few with
    half-hour offsets); otherwise counted from the timeline and the tasks (two queries)."""
    if _weeks_start_on_whole_hours(filters):
        return _activity_from_totals(viewer, filters)
    return _activity_counted(viewer, filters)


def _weeks_start_on_whole_hours(filters: ReportFilters) -> bool:
    """Whether the period's start and end and each Monday midnight within it fall on a whole
    UTC hour in the viewer's zone, so that every hour's total lies in one week of the period."""
    bounds = [filters.since, filters.until]
    monday = filters.start + timedelta(days=-filters.start.weekday() % 7)
    while monday <= filters.end:
        bounds.append(datetime.combine(monday, time(), filters.zone))
        monday += timedelta(days=7)
    return all(bound.utcoffset() % timedelta(hours=1) == timedelta() for bound in bounds)


def _activity_from_totals(viewer: User, filters: ReportFilters) -> list[ActivityRow]:
    totals = ActivityHour.objects.filter(
        visible_team_q(viewer), hour__gte=filters.since, hour__lt=filters.until
    )
    if filters.owner is not None:
        totals = totals.filter(person=filters.owner)
    rows: dict[tuple[date, str], ActivityRow] = {}
    for row in (
        totals.order_by()
        .annotate(week=TruncWeek("hour", tzinfo=filters.zone))
        .values("week", "person__display_name", "person__username")
        .annotate(
            interactions=Sum("interactions"), meetings=Sum("meetings"), done=Sum("tasks_done")
        )
    ):
        entry = _activity_row(rows, row, "person", filters.zone)
        entry.interactions, entry.meetings = row["interactions"], row["meetings"]
        entry.tasks_done = row["done"]
    return [rows[key] for key in sorted(rows)]


def _activity_row(rows: dict, row: dict, who: str, zone: ZoneInfo) -> ActivityRow:
    """The report's row of this group's (week, person `who`), made when first met."""
    person = row[f"{who}__display_name"] or row[f"{who}__username"]
    week = _week(row["week"], zone)
    return rows.setdefault((week, person), ActivityRow(person=person, week=week))


def _activity_counted(viewer: User, filters: ReportFilters) -> list[ActivityRow]:
    """The activity report counted from the timeline and the tasks themselves: two queries."""
    entries = Interaction.objects.visible_to(viewer).filter(
        timestamp__gte=filters.since, timestamp__lt=filters.until, author__isnull=False
    )
    tasks = Task.objects.visible_to(viewer).filter(
        completed_at__gte=filters.since, completed_at__lt=filters.until, completed_by__isnull=False
    )
    if filters.owner is not None:
        entries = entries.filter(author=filters.owner)
        tasks = tasks.filter(completed_by=filters.owner)
    entry_rows = (
        entries.order_by()
        .annotate(week=TruncWeek("timestamp", tzinfo=filters.zone))
        .values("week", "author__display_name", "author__username")
        .annotate(
            meetings=Count("id", filter=Q(interaction_type__in=MEETING_TYPES)),
            interactions=Count("id", filter=~Q(interaction_type__in=MEETING_TYPES)),
        )
    )
    task_rows = (
        tasks.order_by()
        .annotate(week=TruncWeek("completed_at", tzinfo=filters.zone))
        .values("week", "completed_by__display_name", "completed_by__username")
        .annotate(done=Count("id"))
    )
    rows: dict[tuple[date, str], ActivityRow] = {}
    for row in entry_rows:
        entry = _activity_row(rows, row, "author", filters.zone)
        entry.interactions, entry.meetings = row["interactions"], row["meetings"]
    for row in task_rows:
        _activity_row(rows, row, "completed_by", filters.zone).tasks_done = row["done"]
    return [rows[key] for key in sorted(rows)]


@dataclass
class ChangeCount:
    kind: str
    deals: int = 0  # changes of this kind in the period
    rows: list = field(default_factory=list)


def pipeline_changes(*, viewer: User, filters: ReportFilters) -> list[ChangeCount]:
    """What entered, moved, slipped and closed in the period, each counted (deals, and
    changes for moves) with its latest `CHANGE_ROWS` rows: six queries."""
    deals = report_deals(viewer=viewer, filters=filters).values("pk")
    in_period = {"changed_at__gte": filters.since, "changed_at__lt": filters.until}
    stage_changes = report_changes(viewer=viewer, filters=filters).filter(**in_period)
    counts = dict(
        stage_changes.order_by()
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    slips = CloseDateChange.objects.filter(deal__in=deals, to_date__gt=F("from_date"), **in_period)
    result = []
    for label, kinds in (
        ("Entered", [StageChangeKind.CREATED]),
        ("Moved", [StageChangeKind.MOVED]),
        ("Closed", [StageChangeKind.WON, StageChangeKind.LOST]),
    ):
        # The latest ids first, from the index alone; then only those rows with their deals.
        latest = stage_changes.filter(kind__in=kinds).order_by("-changed_at", "-id")
        rows = (
            StageChange.objects.filter(pk__in=latest.values("pk")[:CHANGE_ROWS])
            .select_related("deal")
            .order_by("-changed_at", "-id")
        )
        result.append(
            ChangeCount(kind=label, deals=sum(counts.get(k, 0) for k in kinds), rows=list(rows))
        )
    result.insert(
        2,
        ChangeCount(
            kind="Slipped",
            deals=slips.count(),
            rows=list(slips.select_related("deal").order_by("-changed_at", "-id")[:CHANGE_ROWS]),
        ),
    )
    return result
