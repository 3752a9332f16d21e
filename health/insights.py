"""The wellness insights tab: published weekly team figures and personal recommendations.

Privacy model (also on the page and in the README), with k = `MIN_CONTRIBUTORS` = 5:

- The tab shows only `PublishedWeek` rows, written by `health.services.insights_publish`: a
  team's mean stress of an ended week and, when no stress band holds 1 to k - 1 people, how
  many people were in each band; every figure comes from at least k people who had check-ins
  that week. There is no row, point or alias per person, and nothing of a week with fewer
  contributors.
- A published figure never changes: a withdrawal, a new consent (which counts from its own
  day on, never backwards) or any other change in who contributes gives no second figure to
  compare with the first.
- A person counts in one team only (the first they joined), and a week whose contributors
  would differ from those of another team's same week by fewer than k people is withheld.
- Stress and conversion are compared per team and week: the team's conversion that week
  (won / closed of the deals of its pipelines, CRM data its members already see) next to
  the published mean stress; never per person.
- Who sees a team's insights: its members; anyone else only when they hold the explicit
  `health.view_team_insights` permission. The view writes every opening to the audit log.
- Recommendations are computed only for the viewer, about the viewer, with their consent.
"""

import math
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from uuid import UUID

from django.db.models import Avg, BooleanField, ExpressionWrapper, Q
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext

from calendar_app.models import EventStatus
from calendar_app.selectors import events_between
from coop.models import Team, User
from coop.visibility import member_team_ids
from crm.models import Deal, DealStatus
from health.metrics import ActivityIndex, utc_bounds
from health.models import CheckIn, PublishedWeek
from health.permissions import VIEW_TEAM_INSIGHTS, holds_explicitly
from health.services import ended_weeks, today_for, utc_today

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
    """Pearson's r in words, in the active language."""
    if r is None:
        return gettext("not defined: too few weeks or no variation")
    size = abs(r)
    if size < 0.1:
        return gettext("no clear relationship")
    if size < 0.3:
        return (
            gettext("a weak positive relationship")
            if r > 0
            else gettext("a weak negative relationship")
        )
    if size < 0.5:
        return (
            gettext("a moderate positive relationship")
            if r > 0
            else gettext("a moderate negative relationship")
        )
    return (
        gettext("a strong positive relationship")
        if r > 0
        else gettext("a strong negative relationship")
    )


def stress_class(stress: int) -> str:
    return f"heat-{min(stress // 20, 4)}"


@dataclass
class Week:
    """One ended week of a team: its published figures (None: not shown) and its deals."""

    start: date
    figures: PublishedWeek | None
    closes: list[bool] = field(default_factory=list)

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def won(self) -> int:
        return sum(self.closes)

    @property
    def conversion(self) -> float | None:
        """Percent of the team's deals closed this week that were won; None when none closed."""
        return 100 * self.won / len(self.closes) if self.closes else None

    @property
    def css(self) -> str:
        """The colour class of the mean stress (for a week with figures)."""
        return stress_class(self.figures.mean_stress)


@dataclass
class TeamInsight:
    team: Team
    weeks: list[Week]
    r: float | None = None
    r_text: str = ""
    n: int = 0

    @property
    def shown(self) -> bool:
        return any(week.figures for week in self.weeks)


def visible_teams(viewer: User) -> list[Team]:
    """Teams whose insights the viewer may open, by name, each with `is_member`: their own
    teams, and every other team only when they hold `health.view_team_insights` explicitly
    (an active staff member given it on purpose; being staff or superuser is not enough)."""
    teams = Team.objects.annotate(
        is_member=ExpressionWrapper(Q(pk__in=member_team_ids(viewer)), output_field=BooleanField())
    )
    if not holds_explicitly(viewer, VIEW_TEAM_INSIGHTS):
        teams = teams.filter(is_member=True)
    return list(teams.order_by("name"))


def _team_closes(teams: list[Team], weeks: list[date]) -> dict[tuple[UUID, date], list[bool]]:
    """(team, Monday) -> won (True) / lost (False) of the deals of the team's pipelines closed
    that week, by the owner's local date (the default zone for a deal without an owner)."""
    low, high = utc_bounds(weeks[-1], weeks[0] + timedelta(days=6))
    default_zone = timezone.get_default_timezone()
    closes: dict[tuple[UUID, date], list[bool]] = defaultdict(list)
    for team_id, status, closed_at, zone in Deal.objects.filter(
        pipeline__team__in=teams,
        status__in=[DealStatus.WON, DealStatus.LOST],
        closed_at__gte=low,
        closed_at__lt=high,
    ).values_list("pipeline__team_id", "status", "closed_at", "owner__time_zone"):
        day = closed_at.astimezone(zoneinfo.ZoneInfo(zone) if zone else default_zone).date()
        closes[team_id, day - timedelta(days=day.weekday())].append(status == DealStatus.WON)
    return closes


def team_insights(viewer: User) -> list[TeamInsight]:
    """Every team the viewer may see, with its ended weeks (newest first): the published
    figures or None, the team's deals, and r of mean stress against conversion over the
    weeks that have both. The same for every viewer of a team, whatever their time zone."""
    teams = visible_teams(viewer)
    weeks = ended_weeks(utc_today())
    published = {
        (week.team_id, week.week_start): week
        for week in PublishedWeek.objects.filter(team__in=teams, week_start__in=weeks)
    }
    closes = _team_closes(teams, weeks)
    result = []
    for team in teams:
        insight = TeamInsight(
            team=team,
            weeks=[
                Week(
                    start=monday,
                    figures=published.get((team.pk, monday)),
                    closes=closes.get((team.pk, monday), []),
                )
                for monday in weeks
            ],
        )
        points = [
            (week.figures.mean_stress, week.conversion)
            for week in insight.weeks
            if week.figures and week.conversion is not None
        ]
        insight.n = len(points)
        insight.r = pearson([x for x, _y in points], [y for _x, y in points])
        insight.r_text = describe_r(insight.r)
        result.append(insight)
    return result


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
                title=gettext("Your stress has stayed high"),
                text=gettext(
                    "Your last %(count)d check-ins all show stress of %(stress)d or more. "
                    "Consider planning a lighter day, taking your breaks, or talking to "
                    "someone you trust."
                )
                % {"count": HIGH_STRESS_RUN, "stress": HIGH_STRESS},
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
                title=gettext("A busy week while your stress rises"),
                text=gettext(
                    "You logged %(count)d interactions in the last 7 days, more than "
                    "%(factor)s times your weekly average of the 4 weeks before "
                    "(%(average)s), and your stress is higher than then. Could some "
                    "of it wait, or be shared with a colleague?"
                )
                % {
                    "count": this_week,
                    "factor": number_format(SPIKE_FACTOR),
                    "average": number_format(weekly_average, decimal_pos=1),
                },
            )
        )
    crowded_days = _back_to_back_days(user, today)
    if crowded_days:
        days = ", ".join(date_format(day, "D j M") for day in crowded_days)
        found.append(
            Recommendation(
                rule="back-to-back",
                title=gettext("Meetings back to back"),
                text=gettext(
                    "On %(days)s you have %(chain)d or more meetings in a row with less than "
                    "%(minutes)d minutes between them. A short break between meetings helps you "
                    "arrive prepared."
                )
                % {
                    "days": days,
                    "chain": BACK_TO_BACK_CHAIN,
                    "minutes": int(BACK_TO_BACK_GAP.total_seconds() // 60),
                },
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
