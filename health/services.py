"""Health write services and the public API other modules call.

Consent rule for `sales_health_metrics`: a row holds `stress_level`, a health datum, next to
a person's sales figures, and exists to feed the team wellness insights. So a row is written
and kept only for an active team member who allows "team insights" (`ConsentScope.
TEAM_INSIGHTS`) and who checked in that day (the plan's NOT NULL `stress_level` takes the
check-in's stress; we never invent one). Withdrawing the consent erases all of the person's
rows at once; the rollup also removes any row of a person who does not allow it. Allowing it
fills in nothing from before: the insights count a person's rows only from the day (their
local date) they allowed it.

Team insights publication (`insights_publish`, the model is also in the README): the figures
of a team's week are computed once the week has ended everywhere and published (stored in
`PublishedWeek`) only from at least `MIN_CONTRIBUTORS` contributors; once published they never
change. A contributor of team T in week W is an active person who allows team insights, whose
home team (the first they joined) is T, and who has a `sales_health_metrics` row that week
dated on or after the day they allowed it.
"""

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from decimal import Decimal
from statistics import fmean
from uuid import UUID

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from coop.consent import consenting_user_ids, has_consent
from coop.models import Consent, ConsentScope, Membership, Team, User
from health.metrics import ActivityIndex
from health.models import (
    MIN_CONTRIBUTORS,
    CheckIn,
    PublishedWeek,
    PublishedWeekContributor,
    SalesHealthMetric,
)

# The weeks the insights cover: the last 13 that have ended, about 90 days.
INSIGHT_WEEKS = 13
# The bands a contributor's weekly mean stress falls in: name, lowest, highest (a mean of
# 39.5 is "moderate": a band holds the means from its lowest up to below the next band's).
STRESS_BANDS = (("low", 0, 39), ("moderate", 40, 69), ("high", 70, 100))


def today_for(user: User) -> date:
    """The current date in the user's own time zone."""
    return timezone.localdate(timezone=user.zone)


def wellness_score_on(user: User, day: date) -> int | None:
    """The user's wellness score on `day` (their local date), or None without a check-in.

    This reads health data: callers outside the health module must first check the
    user's consent for the purpose (`coop.consent.has_consent`).
    """
    checkin = CheckIn.objects.filter(user=user, date=day).first()
    return checkin.wellness_score if checkin else None


@transaction.atomic
def checkin_save(
    *, user: User, stress: int, sleep_hours: Decimal | None = None, energy: int | None = None
) -> CheckIn:
    """Create or update the user's check-in for today (their time zone); past days are final.

    Validates every value before writing (`ValidationError`). One statement upserts the row on
    its `(user, date)` key, so a double submit (two requests at the same moment, neither
    seeing the other's row) leaves one check-in holding the last values, never an error.
    When the user allows team insights, their `sales_health_metrics` row of the day follows
    the new stress level.
    """
    day = today_for(user)
    checkin = CheckIn(user=user, date=day, stress=stress, sleep_hours=sleep_hours, energy=energy)
    checkin.full_clean(exclude=["user"], validate_unique=False)
    CheckIn.objects.bulk_create(
        [checkin],
        update_conflicts=True,
        unique_fields=["user", "date"],
        update_fields=["stress", "sleep_hours", "energy", "updated_at"],
    )
    sales_metric_record(user=user, day=day)
    return CheckIn.objects.get(user=user, date=day)


@dataclass(frozen=True)
class RollupResult:
    written: int
    removed: int


@transaction.atomic
def rollup_range(*, start: date, end: date, user_ids: list[UUID] | None = None) -> RollupResult:
    """Fill `sales_health_metrics` for the days start..end from check-ins and CRM activity.

    Idempotent: re-running gives the same rows (an upsert on the `(user_id, date)` key).
    Writes a row for every active team member who allows team insights and checked in that
    day (limited to `user_ids` when given), and removes the rows in the range of anyone who
    does not allow it. A constant number of queries whatever the number of people and days
    (apart from the database's own batching of very large inserts).

    Lock order (that of `coop.consent.consent_revoke`, which erases the rows): the people's
    user rows (`FOR NO KEY UPDATE`, by id), and only then, in a later statement, their
    consent is read; then the metrics rows. A withdrawal has either committed before that
    read or waits for this transaction and erases what it wrote: no row comes back.
    """
    if end < start:
        raise ValueError("The end date is before the start date.")
    members = User.objects.filter(
        Exists(Membership.objects.filter(user=OuterRef("pk"))),
        Exists(Consent.objects.filter(user=OuterRef("pk"), scope=ConsentScope.TEAM_INSIGHTS)),
        is_active=True,
    )
    if user_ids is not None:
        members = members.filter(pk__in=user_ids)
    locked = members.select_for_update(no_key=True).order_by("pk").values_list("pk", flat=True)
    zones = dict(members.filter(pk__in=list(locked)).values_list("pk", "time_zone"))
    checkins = CheckIn.objects.filter(
        user_id__in=list(zones), date__gte=start, date__lte=end
    ).values_list("user_id", "date", "stress")
    activity = ActivityIndex(zones, start, end)
    rows = []
    for user_id, day, stress in checkins:
        figures = activity.figures(user_id, day)
        rows.append(
            SalesHealthMetric(
                user_id=user_id,
                date=day,
                stress_level=stress,
                interaction_count=figures.interaction_count,
                deal_velocity=figures.deal_velocity,
                conversion_rate=figures.conversion_rate,
            )
        )
    stale = SalesHealthMetric.objects.filter(date__gte=start, date__lte=end).exclude(
        user_id__in=Consent.objects.filter(
            scope=ConsentScope.TEAM_INSIGHTS, user__is_active=True
        ).values("user_id")
    )
    if user_ids is not None:
        stale = stale.filter(user_id__in=user_ids)
    removed, _ = stale.delete()
    SalesHealthMetric.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["user", "date"],
        update_fields=["stress_level", "interaction_count", "deal_velocity", "conversion_rate"],
    )
    return RollupResult(written=len(rows), removed=removed)


def rollup_day(day: date) -> RollupResult:
    """The daily rollup of the plan: every member's row of `day`."""
    return rollup_range(start=day, end=day)


@transaction.atomic
def sales_metric_record(*, user: User, day: date) -> SalesHealthMetric | None:
    """Upsert the user's `sales_health_metrics` row of `day` with the real figures of the day.

    Writes nothing (and returns None) unless the user allows team insights and checked in
    that day. A second call the same day updates the same row.
    """
    rollup_range(start=day, end=day, user_ids=[user.pk])
    return SalesHealthMetric.objects.filter(user=user, date=day).first()


def sales_health_metrics_erase(*, user: User) -> int:
    """Delete every `sales_health_metrics` row of the user and their place in the contributor
    sets of published weeks (their team-insights withdrawal); return the rows deleted. Runs
    inside the caller's transaction (the withdrawal's).

    The published figures themselves stay: they are of at least `MIN_CONTRIBUTORS` people,
    and recomputing them without the person would let a before/after comparison reveal them.
    """
    PublishedWeekContributor.objects.filter(user=user).delete()
    deleted, _ = SalesHealthMetric.objects.filter(user=user).delete()
    return deleted


def insight_member_ids(user_ids: list[UUID]) -> set[UUID]:
    """Those of `user_ids` who allow team insights (one query)."""
    return consenting_user_ids(ConsentScope.TEAM_INSIGHTS, user_ids)


def allows_recommendations(user: User) -> bool:
    """Whether the user currently allows personal recommendations (never when inactive or
    anonymous; one query). `health.insights.recommendations_for` does not check: ask this
    first."""
    return has_consent(user, ConsentScope.PERSONAL_RECOMMENDATIONS)


def utc_today() -> date:
    """Today's date in UTC: the insights' weeks are the same for every viewer and zone."""
    return timezone.now().astimezone(UTC).date()


def ended_weeks(today: date) -> list[date]:
    """The Mondays of the last `INSIGHT_WEEKS` weeks that have ended in every time zone,
    newest first. A week (Monday to Sunday, local dates) has ended everywhere once its Sunday
    is two days behind the UTC date `today` (the last zones end Sunday on Monday noon UTC)."""
    last_sunday = today - timedelta(days=2)
    last_sunday -= timedelta(days=(last_sunday.weekday() + 1) % 7)
    newest = last_sunday - timedelta(days=6)
    return [newest - timedelta(weeks=i) for i in range(INSIGHT_WEEKS)]


def _weekly_stress(weeks: list[date]) -> dict[tuple[UUID, date], dict[UUID, float]]:
    """(home team, Monday) -> each contributor's mean stress of that week. Three queries.

    Counts only rows of active people who allow team insights, dated on or after the local
    day they allowed it, and each person in their home team only (the team they joined
    first), so the contributor sets of one week never overlap between teams.
    """
    consents = Consent.objects.filter(scope=ConsentScope.TEAM_INSIGHTS, user__is_active=True)
    since = {
        user_id: granted_at.astimezone(zoneinfo.ZoneInfo(zone)).date()
        for user_id, granted_at, zone in consents.values_list(
            "user_id", "granted_at", "user__time_zone"
        )
    }
    home: dict[UUID, UUID] = {}
    for user_id, team_id in (
        Membership.objects.filter(user_id__in=consents.values("user_id"))
        .order_by("user_id", "joined_at", "team__name")
        .values_list("user_id", "team_id")
    ):
        home.setdefault(user_id, team_id)
    stresses: dict[tuple[UUID, date], dict[UUID, list[int]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for user_id, day, stress in SalesHealthMetric.objects.filter(
        user_id__in=consents.values("user_id"),
        date__gte=weeks[-1],
        date__lte=weeks[0] + timedelta(days=6),
    ).values_list("user_id", "date", "stress_level"):
        # A consent granted between these queries has no `since` yet: it waits for a later run.
        if user_id in home and user_id in since and day >= since[user_id]:
            monday = day - timedelta(days=day.weekday())
            stresses[home[user_id], monday][user_id].append(stress)
    return {
        cell: {user_id: fmean(values) for user_id, values in people.items()}
        for cell, people in stresses.items()
    }


def _band_counts(weekly: list[float]) -> dict[str, int | None]:
    """How many contributors fall in each stress band, or all None when a band would hold
    1 to `MIN_CONTRIBUTORS - 1` people (it, or its complement, could single them out)."""
    counts = {name: sum(low <= v < high + 1 for v in weekly) for name, low, high in STRESS_BANDS}
    if any(0 < count < MIN_CONTRIBUTORS for count in counts.values()):
        return dict.fromkeys(counts)
    return counts


@dataclass(frozen=True)
class PublishResult:
    published: int
    withheld: int


@transaction.atomic
def insights_publish(*, today: date | None = None) -> PublishResult:
    """Publish the team figures of every ended week of the last `INSIGHT_WEEKS` that has none.

    Guarantees: a week is published only with at least `MIN_CONTRIBUTORS` contributors (see
    the module docstring); its contributor set must differ by at least `MIN_CONTRIBUTORS`
    people from that of every week already published for the same dates (another team's),
    else it is withheld (counted in `withheld`), so no difference of two figures isolates
    fewer people; a published week is never changed or replaced, so no change in who
    contributes (a withdrawal, a move, a late row) yields a second figure to compare.
    Idempotent; concurrent runs wait for each other (the teams are locked); a constant number
    of queries whatever the number of teams, people and weeks. `today` is a UTC date.
    """
    names = dict(
        Team.objects.select_for_update(no_key=True).order_by("pk").values_list("pk", "name")
    )
    weeks = ended_weeks(today or utc_today())
    published = set(
        PublishedWeek.objects.filter(week_start__in=weeks).values_list("team_id", "week_start")
    )
    stored: dict[UUID, tuple[date, set[UUID]]] = {}
    for week_id, week_start, user_id in PublishedWeekContributor.objects.filter(
        week__week_start__in=weeks
    ).values_list("week_id", "week__week_start", "user_id"):
        stored.setdefault(week_id, (week_start, set()))[1].add(user_id)
    shown: dict[date, list[set[UUID]]] = defaultdict(list)
    for week_start, people in stored.values():
        shown[week_start].append(people)
    now = timezone.now()
    new_weeks, new_contributors, withheld = [], [], 0
    cells = _weekly_stress(weeks)
    for team_id, monday in sorted(cells, key=lambda cell: (cell[1], names[cell[0]])):
        weekly = cells[team_id, monday]
        if (team_id, monday) in published or len(weekly) < MIN_CONTRIBUTORS:
            continue
        people = set(weekly)
        if any(len(people ^ other) < MIN_CONTRIBUTORS for other in shown[monday]):
            withheld += 1
            continue
        shown[monday].append(people)
        week = PublishedWeek(
            team_id=team_id,
            week_start=monday,
            people=len(people),
            mean_stress=round(fmean(weekly.values())),
            published_at=now,
            **_band_counts(list(weekly.values())),
        )
        new_weeks.append(week)
        new_contributors += [PublishedWeekContributor(week=week, user_id=uid) for uid in people]
    PublishedWeek.objects.bulk_create(new_weeks)
    PublishedWeekContributor.objects.bulk_create(new_contributors)
    return PublishResult(published=len(new_weeks), withheld=withheld)
