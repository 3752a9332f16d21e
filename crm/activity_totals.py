"""The activity report's totals (`crm_activity_hours`), kept at write time.

An hour's totals of a person in a team are recounted from the timeline and the tasks whenever
a write may change them, in the writer's transaction: the writer collects the (team, person,
hour) keys its rows touch (`activity_keys`) before and after the change and passes them to
`activity_totals_refresh`. Recounting rather than adding and subtracting keeps the totals
right whatever the change (a new entry, a meeting moved to another day, a task ticked or
unticked, a contact and its timeline deleted) and makes the rebuild the same code.

Hours are UTC hours: a week of any time zone whose offset is whole hours at the week's
boundaries is a sum of whole hours, so the report reads these totals for such a zone (nearly
all) and counts the timeline itself otherwise (a half-hour zone: India, Newfoundland...).
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from uuid import UUID

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncHour

from crm.models import ActivityHour, Interaction, InteractionType, Task

MEETING_TYPES = (InteractionType.MEETING, InteractionType.CALENDAR_EVENT)
HOUR = datetime.timedelta(hours=1)
Key = tuple[UUID, int, datetime.datetime]  # team, person, UTC hour


def _hour_of(at: datetime.datetime) -> datetime.datetime:
    return at.astimezone(datetime.UTC).replace(minute=0, second=0, microsecond=0)


def activity_key(team_id: UUID, person_id: int | None, at: datetime.datetime | None) -> set[Key]:
    """The total one timeline entry or done task counts in (none without a person)."""
    if person_id is None or at is None:
        return set()
    return {(team_id, person_id, _hour_of(at))}


def activity_keys(
    *, interactions: QuerySet[Interaction] | None = None, tasks: QuerySet[Task] | None = None
) -> set[Key]:
    """The (team, person, hour) totals these timeline entries and tasks count in: one query
    each, to call before a change or a deletion (and after a change) of those rows."""
    keys: set[Key] = set()
    if interactions is not None:
        keys.update(
            (team_id, person_id, _hour_of(hour))
            for team_id, person_id, hour in interactions.filter(author__isnull=False)
            .order_by()
            .annotate(hour=TruncHour("timestamp", tzinfo=datetime.UTC))
            .values_list("contact__team_id", "author_id", "hour")
            .distinct()
        )
    if tasks is not None:
        keys.update(
            (team_id, person_id, _hour_of(hour))
            for team_id, person_id, hour in tasks.filter(
                completed_at__isnull=False, completed_by__isnull=False
            )
            .order_by()
            .annotate(hour=TruncHour("completed_at", tzinfo=datetime.UTC))
            .values_list("team_id", "completed_by_id", "hour")
            .distinct()
        )
    return keys


def _hour_bounds(hours: Iterable[datetime.datetime], field: str) -> Q:
    bounds = Q(pk__in=[])
    for hour in hours:
        bounds |= Q(**{f"{field}__gte": hour, f"{field}__lt": hour + HOUR})
    return bounds


def _counts(
    interactions: QuerySet[Interaction], tasks: QuerySet[Task], model=ActivityHour
) -> list[ActivityHour]:
    """The totals of these entries and tasks, per team, person and UTC hour: two queries."""
    totals: dict[Key, ActivityHour] = {}
    for team_id, person_id, hour, meetings, others in (
        interactions.filter(author__isnull=False)
        .order_by()
        .annotate(hour=TruncHour("timestamp", tzinfo=datetime.UTC))
        .values_list("contact__team_id", "author_id", "hour")
        .annotate(
            meetings=Count("id", filter=Q(interaction_type__in=MEETING_TYPES)),
            others=Count("id", filter=~Q(interaction_type__in=MEETING_TYPES)),
        )
    ):
        hour = _hour_of(hour)
        totals[team_id, person_id, hour] = model(
            team_id=team_id, person_id=person_id, hour=hour, interactions=others, meetings=meetings
        )
    for team_id, person_id, hour, done in (
        tasks.filter(completed_at__isnull=False, completed_by__isnull=False)
        .order_by()
        .annotate(hour=TruncHour("completed_at", tzinfo=datetime.UTC))
        .values_list("team_id", "completed_by_id", "hour")
        .annotate(done=Count("id"))
    ):
        hour = _hour_of(hour)
        totals.setdefault(
            (team_id, person_id, hour), model(team_id=team_id, person_id=person_id, hour=hour)
        ).tasks_done = done
    return list(totals.values())


def activity_totals_refresh(keys: Iterable[Key]) -> None:
    """Recount the totals of these (team, person, hour) keys, inside the caller's transaction:
    four queries per (team, person) pair, through the author's timeline index."""
    hours_of: dict[tuple[UUID, int], set[datetime.datetime]] = defaultdict(set)
    for team_id, person_id, hour in keys:
        hours_of[team_id, person_id].add(hour)
    for (team_id, person_id), hours in hours_of.items():
        ActivityHour.objects.filter(team_id=team_id, person_id=person_id, hour__in=hours).delete()
        ActivityHour.objects.bulk_create(
            _counts(
                Interaction.objects.filter(
                    _hour_bounds(hours, "timestamp"), author_id=person_id, contact__team_id=team_id
                ),
                Task.objects.filter(
                    _hour_bounds(hours, "completed_at"), completed_by_id=person_id, team_id=team_id
                ),
            )
        )


def activity_totals_recount_all(
    interaction_model=Interaction, task_model=Task, model=ActivityHour
) -> int:
    """Recount every total from the whole timeline and every task, inside the caller's
    transaction (`manage.py rebuild_report_history`; the migration that made the table passes
    its historical models): idempotent. Returns the number of (team, person, hour) totals."""
    model.objects.all().delete()
    totals = _counts(interaction_model.objects.all(), task_model.objects.all(), model)
    return len(model.objects.bulk_create(totals, batch_size=5000))
