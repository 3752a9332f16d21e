"""The wellness insights tab: team aggregates of consenting members and personal recommendations.

Privacy rules (also in the README):

- Only members who allow team insights appear; their figures come from `sales_health_metrics`,
  which holds rows of consenting people only, and are filtered by consent again here.
- A team with fewer than `MIN_GROUP` consenting members is not shown, with the reason.
- Heatmap rows carry no names ("Member 3"; the viewer's own row says "You"), in an order
  fixed by a keyed hash, not by name. Performance figures beside it are per-day team totals
  from CRM activity, not per person, so they cannot re-identify a row.
- Differencing: the groups are whole teams only (no filters by role, stage or person); a
  team whose consenting members differ from another team shown to the same viewer by 1 to
  `MIN_GROUP - 1` people is not shown (comparing the two would isolate those people); and a
  stress band of the scatter's table is shown only when it holds at least `MIN_GROUP` people.
- Recommendations are computed only for the viewer, about the viewer, with their consent.
"""

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from uuid import UUID

from django.conf import settings
from django.db.models import Avg

from calendar_app.models import EventStatus
from calendar_app.selectors import events_between
from coop.models import Membership, Team, User
from health.metrics import ActivityIndex
from health.models import CheckIn, SalesHealthMetric
from health.services import insight_member_ids, today_for

MIN_GROUP = 5
HEATMAP_DAYS = 14
SCATTER_DAYS = 90
STRESS_BANDS = [(0, 19), (20, 39), (40, 59), (60, 79), (80, 100)]

# Recommendation rules (documented here and in the README):
HIGH_STRESS = 70  # R1: stress >= 70 on each of the last three check-ins
HIGH_STRESS_RUN = 3
RECENT_DAYS = 14  # ... which all fall within the last 14 days.
SPIKE_FACTOR = 1.5  # R2: interactions of the last 7 days > 1.5 x the weekly average of the
BASELINE_WEEKS = 4  # 4 weeks before, while the mean stress of the last 7 days' check-ins is
# higher than the mean of the 4 weeks before.
MEETING_DAYS = 7  # R3: on a day of the last or next 7 days, a chain of at least 3 confirmed
BACK_TO_BACK_CHAIN = 3  # meetings you organize, each starting less than 10 minutes after
BACK_TO_BACK_GAP = timedelta(minutes=10)  # the previous one ends.


def pearson(xs: list[float], ys: list[float]) -> float | None:
    """Pearson's correlation coefficient r of two equally long series, or None when undefined
    (fewer than 3 points, or one series has no variation)."""
    n = len(xs)
    if n < 3 or n != len(ys):
        return None
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mean_x) ** 2 for x in xs)
    syy = sum((y - mean_y) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def describe_r(r: float | None) -> str:
    if r is None:
        return "not defined: too few points or no variation"
    size = abs(r)
    strength = (
        "no clear"
        if size < 0.1
        else "a weak"
        if size < 0.3
        else "a moderate"
        if size < 0.5
        else "a strong"
    )
    if strength == "no clear":
        return "no clear relationship"
    direction = "positive" if r > 0 else "negative"
    return f"{strength} {direction} relationship"


def stress_class(stress: int) -> str:
    return f"heat-{min(stress // 20, 4)}"


@dataclass
class HeatRow:
    label: str
    is_viewer: bool
    cells: list[dict]


@dataclass
class TeamInsight:
    team: Team
    member_count: int
    shown: bool
    reason: str = ""
    days: list[date] = field(default_factory=list)
    rows: list[HeatRow] = field(default_factory=list)
    performance: list[dict] = field(default_factory=list)
    points: list[dict] = field(default_factory=list)
    r: float | None = None
    r_text: str = ""
    bands: list[dict] = field(default_factory=list)
    people: int = 0

    @property
    def chart_id(self) -> str:
        return f"scatter-data-{self.team.pk}"


def _pseudonym_order(team: Team, user_id: UUID) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{team.pk}:{user_id}".encode()).hexdigest()


def visible_teams(viewer: User) -> list[Team]:
    """Teams whose insights the viewer may open: their own teams; staff see every team."""
    teams = Team.objects.all() if viewer.is_staff else Team.objects.filter(memberships__user=viewer)
    return list(teams.distinct().order_by("name"))


def _team_members(teams: list[Team]) -> dict[UUID, set[UUID]]:
    members: dict[UUID, set[UUID]] = defaultdict(set)
    for team_id, user_id in Membership.objects.filter(
        team__in=teams, user__is_active=True
    ).values_list("team_id", "user_id"):
        members[team_id].add(user_id)
    return members


def team_insights(viewer: User) -> list[TeamInsight]:
    """Every team the viewer may see, shown or suppressed with the reason."""
    teams = visible_teams(viewer)
    members = _team_members(teams)
    consenting = insight_member_ids([uid for ids in members.values() for uid in ids])
    result, shown_sets = [], []
    for team in teams:
        group = members[team.pk] & consenting
        insight = TeamInsight(team=team, member_count=len(members[team.pk]), shown=False)
        if len(group) < MIN_GROUP:
            insight.reason = (
                f"Fewer than {MIN_GROUP} members of this team take part in wellness insights, "
                "so showing the team could single someone out."
            )
        elif any(0 < len(group ^ other) < MIN_GROUP for other in shown_sets):
            insight.reason = (
                f"The people taking part differ from another team shown here by fewer than "
                f"{MIN_GROUP} people: comparing the two could single someone out."
            )
        else:
            insight.shown = True
            shown_sets.append(group)
            _fill(insight, viewer, group)
        result.append(insight)
    return result


def _fill(insight: TeamInsight, viewer: User, group: set[UUID]) -> None:
    end = today_for(viewer)
    start = end - timedelta(days=SCATTER_DAYS - 1)
    heat_start = end - timedelta(days=HEATMAP_DAYS - 1)
    insight.days = [heat_start + timedelta(days=i) for i in range(HEATMAP_DAYS)]
    metrics = list(
        SalesHealthMetric.objects.filter(
            user_id__in=group, date__gte=start, date__lte=end
        ).values_list("user_id", "date", "stress_level", "conversion_rate", "deal_velocity")
    )
    stress_by = {(uid, day): stress for uid, day, stress, _c, _v in metrics}
    ordered = sorted(group, key=lambda uid: _pseudonym_order(insight.team, uid))
    number = 0
    for uid in ordered:
        is_viewer = uid == viewer.pk
        if not is_viewer:
            number += 1
        cells = []
        for day in insight.days:
            stress = stress_by.get((uid, day))
            cells.append(
                {
                    "day": day,
                    "stress": stress,
                    "css": stress_class(stress) if stress is not None else "heat-none",
                }
            )
        insight.rows.append(
            HeatRow(
                label="You" if is_viewer else f"Member {number}", is_viewer=is_viewer, cells=cells
            )
        )
    zones = dict(User.objects.filter(memberships__team=insight.team).values_list("pk", "time_zone"))
    activity = ActivityIndex(zones, heat_start, end)
    for day in insight.days:
        interactions = sum(activity.interactions_on(uid, day) for uid in zones)
        closes = [won for uid in zones for won in activity.closes_between(uid, day, day)]
        insight.performance.append(
            {
                "day": day,
                "interactions": interactions,
                "won": sum(closes),
                "closed": len(closes),
                "conversion": round(100 * sum(closes) / len(closes)) if closes else None,
            }
        )
    # Days without any deal closed in the trailing window have no conversion rate: left out.
    scatter = [
        (uid, stress, conv * 100) for uid, _d, stress, conv, velocity in metrics if velocity > 0
    ]
    insight.points = [{"x": stress, "y": round(conv, 1)} for _uid, stress, conv in scatter]
    insight.people = len({uid for uid, _s, _c in scatter})
    insight.r = pearson([s for _u, s, _c in scatter], [c for _u, _s, c in scatter])
    insight.r_text = describe_r(insight.r)
    for low, high in STRESS_BANDS:
        inside = [(uid, conv) for uid, stress, conv in scatter if low <= stress <= high]
        people = len({uid for uid, _c in inside})
        insight.bands.append(
            {
                "label": f"{low} to {high}",
                "points": len(inside),
                "shown": people >= MIN_GROUP,
                "conversion": round(sum(c for _u, c in inside) / len(inside)) if inside else None,
            }
        )


@dataclass(frozen=True)
class Recommendation:
    rule: str
    title: str
    text: str


def recommendations_for(user: User) -> list[Recommendation]:
    """The documented rules applied to the user's own check-ins and CRM activity."""
    today = today_for(user)
    found = []
    recent = list(
        CheckIn.objects.filter(user=user, date__gt=today - timedelta(days=RECENT_DAYS))
        .order_by("-date")
        .values_list("stress", flat=True)[:HIGH_STRESS_RUN]
    )
    if len(recent) == HIGH_STRESS_RUN and all(stress >= HIGH_STRESS for stress in recent):
        found.append(
            Recommendation(
                rule="sustained-stress",
                title="Your stress has stayed high",
                text=(
                    f"Your last {HIGH_STRESS_RUN} check-ins all show stress of {HIGH_STRESS} or "
                    "more. Consider planning a lighter day, taking your breaks, or talking to "
                    "someone you trust."
                ),
            )
        )
    week_start = today - timedelta(days=6)
    baseline_start = week_start - timedelta(days=7 * BASELINE_WEEKS)
    activity = ActivityIndex({user.pk: user.time_zone}, baseline_start, today)
    this_week = sum(
        activity.interactions_on(user.pk, week_start + timedelta(days=i)) for i in range(7)
    )
    baseline = sum(
        activity.interactions_on(user.pk, baseline_start + timedelta(days=i))
        for i in range(7 * BASELINE_WEEKS)
    )
    weekly_average = baseline / BASELINE_WEEKS
    stress_now = CheckIn.objects.filter(user=user, date__gte=week_start, date__lte=today).aggregate(
        value=Avg("stress")
    )["value"]
    stress_before = CheckIn.objects.filter(
        user=user, date__gte=baseline_start, date__lt=week_start
    ).aggregate(value=Avg("stress"))["value"]
    rising = stress_now is not None and stress_before is not None and stress_now > stress_before
    if weekly_average > 0 and this_week > SPIKE_FACTOR * weekly_average and rising:
        found.append(
            Recommendation(
                rule="interaction-spike",
                title="A busy week while your stress rises",
                text=(
                    f"You logged {this_week} interactions in the last 7 days, more than "
                    f"{SPIKE_FACTOR:g} times your weekly average of the 4 weeks before "
                    f"({weekly_average:.1f}), and your stress is higher than then. Could some "
                    "of it wait, or be shared with a colleague?"
                ),
            )
        )
    crowded_days = _back_to_back_days(user, today)
    if crowded_days:
        days = ", ".join(day.strftime("%a %-d %b") for day in crowded_days)
        found.append(
            Recommendation(
                rule="back-to-back",
                title="Meetings back to back",
                text=(
                    f"On {days} you have {BACK_TO_BACK_CHAIN} or more meetings in a row with "
                    f"less than {int(BACK_TO_BACK_GAP.total_seconds() // 60)} minutes between "
                    "them. A short break between meetings helps you arrive prepared."
                ),
            )
        )
    return found


def _back_to_back_days(user: User, today: date) -> list[date]:
    """R3: the user's days (in their zone) around today holding a back-to-back chain."""
    zone = user.zone
    start = datetime.combine(today - timedelta(days=MEETING_DAYS), time.min, zone)
    end = datetime.combine(today + timedelta(days=MEETING_DAYS + 1), time.min, zone)
    meetings = events_between(users=[user], start=start, end=end).filter(
        status=EventStatus.CONFIRMED
    )
    by_day: dict[date, list] = defaultdict(list)
    for meeting in meetings.order_by("start_time"):
        by_day[meeting.start_time.astimezone(zone).date()].append(meeting)
    crowded = []
    for day, day_meetings in sorted(by_day.items()):
        chain = longest = 1
        for previous, current in pairwise(day_meetings):
            gap = current.start_time - previous.end_time
            chain = chain + 1 if timedelta(0) <= gap < BACK_TO_BACK_GAP else 1
            longest = max(longest, chain)
        if longest >= BACK_TO_BACK_CHAIN:
            crowded.append(day)
    return crowded
