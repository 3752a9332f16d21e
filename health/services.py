"""Health write services and the public API other modules call.

Consent rule for `sales_health_metrics`: a row holds `stress_level`, a health datum, next to
a person's sales figures, and exists to feed the team wellness insights. So a row is written
and kept only for an active team member who allows "team insights" (`ConsentScope.
TEAM_INSIGHTS`) and who checked in that day (the plan's NOT NULL `stress_level` takes the
check-in's stress; we never invent one). Withdrawing the consent erases all of the person's
rows at once; the rollup also removes any row of a person who does not allow it.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from coop.consent import consenting_user_ids, has_consent
from coop.models import Consent, ConsentScope, User
from health.metrics import ActivityIndex
from health.models import CheckIn, SalesHealthMetric

# How far back a new "team insights" consent fills the person's daily figures.
BACKFILL_DAYS = 90


def today_for(user: User) -> date:
    """The current date in the user's own time zone."""
    return timezone.localdate(timezone=user.zone)


def get_wellness_score(user: User, day: date) -> int | None:
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
    record_sales_metric(user=user, day=day)
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
    """
    if end < start:
        raise ValueError("The end date is before the start date.")
    members = User.objects.filter(
        is_active=True,
        memberships__isnull=False,
        consents__scope=ConsentScope.TEAM_INSIGHTS,
    )
    if user_ids is not None:
        members = members.filter(pk__in=user_ids)
    zones = dict(members.distinct().values_list("pk", "time_zone"))
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
def record_sales_metric(*, user: User, day: date) -> SalesHealthMetric | None:
    """Upsert the user's `sales_health_metrics` row of `day` with the real figures of the day.

    Writes nothing (and returns None) unless the user allows team insights and checked in
    that day. A second call the same day updates the same row.
    """
    rollup_range(start=day, end=day, user_ids=[user.pk])
    return SalesHealthMetric.objects.filter(user=user, date=day).first()


@transaction.atomic
def sales_health_metrics_backfill(*, user: User) -> RollupResult:
    """Fill the last `BACKFILL_DAYS` of a person who just allowed team insights."""
    today = today_for(user)
    return rollup_range(start=today - timedelta(days=BACKFILL_DAYS), end=today, user_ids=[user.pk])


@transaction.atomic
def sales_health_metrics_erase(*, user: User) -> int:
    """Delete every `sales_health_metrics` row of the user (their team-insights withdrawal)."""
    deleted, _ = SalesHealthMetric.objects.filter(user=user).delete()
    return deleted


def insight_member_ids(user_ids: list[UUID]) -> set[UUID]:
    """Those of `user_ids` who allow team insights (one query)."""
    return consenting_user_ids(ConsentScope.TEAM_INSIGHTS, user_ids)


def allows_recommendations(user: User) -> bool:
    return has_consent(user, ConsentScope.PERSONAL_RECOMMENDATIONS)
