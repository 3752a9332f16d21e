"""The activity report's totals (`crm_activity_days`), kept at write time.

A day's totals of a person in a team are recounted from the timeline and the tasks whenever a
write may change them, in the writer's transaction: the writer collects the (team, person,
day) keys its rows touch (`activity_keys`) before and after the change and passes them to
`activity_days_refresh`. Recounting rather than adding and subtracting keeps the totals
right whatever the change (a new entry, a meeting moved to another day, a task ticked or
unticked, a contact and its timeline deleted) and makes the rebuild the same code.

Days are those of the site's time zone (`settings.TIME_ZONE`); the report reads these totals
when the viewer's zone is that one, and counts the timeline itself otherwise.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from crm.models import ActivityDay, Interaction, InteractionType, Task

MEETING_TYPES = (InteractionType.MEETING, InteractionType.CALENDAR_EVENT)
Key = tuple[UUID, int, datetime.date]  # team, person, day


def activity_zone() -> ZoneInfo:
    """The time zone whose days the totals are kept in."""
    return ZoneInfo(settings.TIME_ZONE)


def activity_keys(
    *, interactions: QuerySet[Interaction] | None = None, tasks: QuerySet[Task] | None = None
) -> set[Key]:
    """The (team, person, day) totals these timeline entries and tasks count in: one query
    each, to call before a change or a deletion (and after a change) of those rows."""
    zone = activity_zone()
    keys: set[Key] = set()
    if interactions is not None:
        keys.update(
            interactions.filter(author__isnull=False)
            .order_by()
            .annotate(day=TruncDate("timestamp", tzinfo=zone))
            .values_list("contact__team_id", "author_id", "day")
            .distinct()
        )
    if tasks is not None:
        keys.update(
            tasks.filter(completed_at__isnull=False, completed_by__isnull=False)
            .order_by()
            .annotate(day=TruncDate("completed_at", tzinfo=zone))
            .values_list("team_id", "completed_by_id", "day")
            .distinct()
        )
    return keys


def activity_key(team_id: UUID, person_id: int | None, at: datetime.datetime) -> set[Key]:
    """The total one timeline entry or done task counts in (none without a person)."""
    if person_id is None or at is None:
        return set()
    return {(team_id, person_id, at.astimezone(activity_zone()).date())}


def _day_bounds(days: Iterable[datetime.date], field: str, zone: ZoneInfo) -> Q:
    bounds = Q(pk__in=[])
    for day in days:
        start = datetime.datetime.combine(day, datetime.time(), zone)
        end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), zone)
        bounds |= Q(**{f"{field}__gte": start, f"{field}__lt": end})
    return bounds


def _counts(
    interactions: QuerySet[Interaction], tasks: QuerySet[Task], model=ActivityDay
) -> list[ActivityDay]:
    """The totals of these entries and tasks, per team, person and day: two queries."""
    zone = activity_zone()
    totals: dict[Key, ActivityDay] = {}
    for team_id, person_id, day, meetings, others in (
        interactions.filter(author__isnull=False)
        .order_by()
        .annotate(day=TruncDate("timestamp", tzinfo=zone))
        .values_list("contact__team_id", "author_id", "day")
        .annotate(
            meetings=Count("id", filter=Q(interaction_type__in=MEETING_TYPES)),
            others=Count("id", filter=~Q(interaction_type__in=MEETING_TYPES)),
        )
    ):
        totals[team_id, person_id, day] = model(
            team_id=team_id, person_id=person_id, day=day, interactions=others, meetings=meetings
        )
    for team_id, person_id, day, done in (
        tasks.filter(completed_at__isnull=False, completed_by__isnull=False)
        .order_by()
        .annotate(day=TruncDate("completed_at", tzinfo=zone))
        .values_list("team_id", "completed_by_id", "day")
        .annotate(done=Count("id"))
    ):
        totals.setdefault(
            (team_id, person_id, day), model(team_id=team_id, person_id=person_id, day=day)
        ).tasks_done = done
    return list(totals.values())


def activity_days_refresh(keys: Iterable[Key]) -> None:
    """Recount the totals of these (team, person, day) keys, inside the caller's transaction:
    four queries per (team, person) pair, through the author's timeline index."""
    zone = activity_zone()
    days_of: dict[tuple[UUID, int], set[datetime.date]] = defaultdict(set)
    for team_id, person_id, day in keys:
        days_of[team_id, person_id].add(day)
    for (team_id, person_id), days in days_of.items():
        ActivityDay.objects.filter(team_id=team_id, person_id=person_id, day__in=days).delete()
        ActivityDay.objects.bulk_create(
            _counts(
                Interaction.objects.filter(
                    _day_bounds(days, "timestamp", zone),
                    author_id=person_id,
                    contact__team_id=team_id,
                ),
                Task.objects.filter(
                    _day_bounds(days, "completed_at", zone),
                    completed_by_id=person_id,
                    team_id=team_id,
                ),
            )
        )


def activity_days_recount_all(interaction_model=Interaction, task_model=Task, model=ActivityDay):
    """Recount every total from the whole timeline and every task, inside the caller's
    transaction (`manage.py rebuild_report_history`; the migration that made the table passes
    its historical models): idempotent. Returns the number of (team, person, day) totals."""
    model.objects.all().delete()
    totals = _counts(interaction_model.objects.all(), task_model.objects.all(), model)
    return len(model.objects.bulk_create(totals, batch_size=5000))
