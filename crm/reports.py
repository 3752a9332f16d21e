"""The sales manager's reports: funnel, win/loss, velocity, activity and pipeline changes.

Every report reads only what the viewer sees (`Deal.objects.visible_to`, `Interaction.objects.
visible_to`: the one visibility rule), filtered by pipeline, owner and a period of whole days in
the viewer's time zone, and runs a fixed number of queries whatever the number of deals.
Durations come from `crm_deal_stage_changes`, whose times are aware UTC datetimes, so a stay
across a daylight-saving change lasts what it really lasted (23 or 25 hours for a "day").

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

import itertools
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek

from coop.models import User
from crm.models import (
    CloseDateChange,
    Deal,
    DealStatus,
    Interaction,
    InteractionType,
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
MEETING_TYPES = (InteractionType.MEETING, InteractionType.CALENDAR_EVENT)
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
    deals = report_deals(viewer=viewer, filters=filters)
    if connection.vendor == "postgresql":
        counts = _funnel_in_sql(deals, filters, stages)
    else:
        counts = _funnel_in_python(deals, filters, stages)
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


# A deal's first entry into each stage within the period (GROUP BY), then whether any later
# change of it went further on the board or won: an index-only probe per entry.
FUNNEL_SQL = """
WITH board(stage_id, position) AS (SELECT * FROM unnest(%s::uuid[], %s::int[])),
entries AS (
    SELECT c.deal_id, c.to_stage_id AS stage_id, MIN(c.changed_at) AS entered_at
    FROM crm_deal_stage_changes c
    WHERE c.deal_id IN ({deals}) AND c.kind = ANY(%s) AND c.changed_at >= %s
      AND c.changed_at < %s AND c.to_stage_id IN (SELECT stage_id FROM board)
    GROUP BY c.deal_id, c.to_stage_id
)
SELECT e.stage_id, COUNT(*),
       COUNT(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM crm_deal_stage_changes n LEFT JOIN board later
               ON later.stage_id = n.to_stage_id
           WHERE n.deal_id = e.deal_id AND n.changed_at > e.entered_at
             AND (n.kind = %s OR COALESCE(later.position, -1) > b.position)
       ))
FROM entries e JOIN board b ON b.stage_id = e.stage_id
GROUP BY e.stage_id
"""


def _funnel_in_sql(deals: QuerySet[Deal], filters: ReportFilters, stages) -> dict:
    deals_sql, deals_params = deals.order_by().values("pk").query.sql_with_params()
    params = (
        [pk for pk, _, _ in stages],
        [position for _, _, position in stages],
        *deals_params,
        [str(kind) for kind in ENTRY_KINDS],
        filters.since,
        filters.until,
        StageChangeKind.WON,
    )
    counts = {pk: (0, 0) for pk, _, _ in stages}
    with connection.cursor() as cursor:
        cursor.execute(FUNNEL_SQL.format(deals=deals_sql), params)
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
    """Deals closed in the period by owner, by lost reason and by stage at loss: three
    aggregate queries."""
    closed = report_deals(viewer=viewer, filters=filters).filter(
        closed_at__gte=filters.since, closed_at__lt=filters.until
    )
    counted = {"n": Count("id"), "total": Sum("value_cents")}
    by_owner = closed.order_by().values(
        "status", "currency", "owner__display_name", "owner__username"
    )
    lost = closed.filter(status=DealStatus.LOST).order_by()
    by_reason = lost.values("status", "currency", "lost_reason__name")
    by_stage = (
        StageChange.objects.filter(kind=StageChangeKind.LOST, deal__in=lost.values("pk"))
        .order_by()
        .values(status=F("deal__status"), currency=F("deal__currency"), stage=F("from_stage_name"))
        .annotate(n=Count("deal_id", distinct=True), total=Sum("deal__value_cents"))
    )
    return WinLoss(
        by_owner=_win_loss_rows(
            by_owner.annotate(**counted),
            lambda r: r["owner__display_name"] or r["owner__username"] or "No owner",
        ),
        by_reason=_win_loss_rows(
            by_reason.annotate(**counted), lambda r: r["lost_reason__name"] or "No reason recorded"
        ),
        by_stage=_win_loss_rows(by_stage, lambda r: r["stage"] or "Unknown"),
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
    won in the period, from the stage changes' UTC times: one query. PostgreSQL computes it
    (window functions and ordered-set aggregates); other databases take the Python path."""
    deals = report_deals(viewer=viewer, filters=filters)
    if connection.vendor == "postgresql":
        return _velocity_in_sql(deals, filters)
    return _velocity_in_python(deals, filters)


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


# Stays and cycles in one statement: LEAD() pairs each change with the deal's next one (the end
# of the stay it began); the last change of a won deal against its first gives the cycle. The
# percentiles are taken in Python over the per-stage second counts PostgreSQL already sorted,
# so that the nearest-rank P90 and the median are the very same numbers as the Python path's.
VELOCITY_SQL = """
WITH changes AS (
    SELECT c.kind, c.to_stage_name, c.changed_at,
           LEAD(c.changed_at) OVER deal_order AS left_at,
           ROW_NUMBER() OVER (PARTITION BY c.deal_id ORDER BY c.changed_at DESC, c.id DESC)
               AS from_last,
           MIN(c.changed_at) OVER (PARTITION BY c.deal_id) AS first_at
    FROM crm_deal_stage_changes c
    WHERE c.deal_id IN ({deals})
      AND EXISTS (
          SELECT 1 FROM crm_deal_stage_changes a
          WHERE a.deal_id = c.deal_id AND a.changed_at >= %s AND a.changed_at < %s
      )
    WINDOW deal_order AS (PARTITION BY c.deal_id ORDER BY c.changed_at, c.id)
)
SELECT 's', to_stage_name, MIN(changed_at),
       ARRAY_AGG(EXTRACT(EPOCH FROM left_at - changed_at)::float8
                 ORDER BY EXTRACT(EPOCH FROM left_at - changed_at))
FROM changes
WHERE kind = ANY(%s) AND left_at >= %s AND left_at < %s
GROUP BY to_stage_name
UNION ALL
SELECT 'c', '', NULL,
       ARRAY_AGG(EXTRACT(EPOCH FROM changed_at - first_at)::float8
                 ORDER BY EXTRACT(EPOCH FROM changed_at - first_at))
FROM changes
WHERE from_last = 1 AND kind = %s AND changed_at >= %s
"""


def _velocity_in_sql(deals: QuerySet[Deal], filters: ReportFilters) -> Velocity:
    since, until = filters.since, filters.until
    deals_sql, deals_params = deals.order_by().values("pk").query.sql_with_params()
    params = (
        *deals_params,
        since,
        until,
        [str(kind) for kind in ENTRY_KINDS],
        since,
        until,
        StageChangeKind.WON,
        since,
    )
    with connection.cursor() as cursor:
        cursor.execute(VELOCITY_SQL.format(deals=deals_sql), params)
        rows = cursor.fetchall()
    stays = sorted(
        ((name, first, values) for kind, name, first, values in rows if kind == "s"),
        key=lambda row: (row[1], row[0]),
    )
    cycles = next((values or [] for kind, _, _, values in rows if kind == "c"), [])
    return _velocity_from([(name, values) for name, _, values in stays], cycles)


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
    """Timeline entries per author and tasks done per person who ticked them, per week (two
    queries). The pipeline filter does not apply: entries belong to contacts, not pipelines."""
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
        person = row["author__display_name"] or row["author__username"]
        week = _week(row["week"], filters.zone)
        rows[week, person] = ActivityRow(
            person=person,
            week=week,
            interactions=row["interactions"],
            meetings=row["meetings"],
        )
    for row in task_rows:
        person = row["completed_by__display_name"] or row["completed_by__username"]
        week = _week(row["week"], filters.zone)
        rows.setdefault((week, person), ActivityRow(person=person, week=week)).tasks_done = row[
            "done"
        ]
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
    stage_changes = StageChange.objects.filter(deal__in=deals, **in_period)
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
        rows = (
            stage_changes.filter(kind__in=kinds)
            .select_related("deal")
            .order_by("-changed_at", "-id")[:CHANGE_ROWS]
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
