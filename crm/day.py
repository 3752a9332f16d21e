"""Reads for "My day" (the home page) and for a record's activity (tasks and notes).

`my_day` costs a fixed number of queries whatever the data: one per list, each bounded by
DAY_LIST_LIMIT rows, plus one for the teams' stale-deal thresholds; nothing is fetched per row.

Definitions, written once:
- a deal's *weighted value* is its value times its stage's probability, rounded half-even to
  whole cents (`coop.money.round_half_even`);
- a deal's *last activity* is the latest of its own change, its stage move, a note or a done
  task on it, and an interaction (up to now) on its contact; an open deal is *stale* when that
  is older than its team's `stale_deal_days` (listed by expected close date, soonest first).
  The deal keeps it in `last_activity_at` (`crm.activity`), so the stale list is a filter on
  the deal's columns, not three subqueries for each open deal;
- an open deal has *no next step* when it has no open task and its contact no upcoming
  meeting (a confirmed event linked from the contact's timeline that has not started).
"""

import datetime
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan
from django.utils import timezone

from calendar_app.models import EventStatus
from calendar_app.selectors import events_between
from coop.models import Membership, Team, User
from coop.money import round_half_even
from coop.visibility import visible_users
from crm.activity import last_activity
from crm.models import Deal, DealStatus, Interaction, Note, Task
from crm.notes import team_usernames

# Rows per list: a day's worth to act on (rendering them is most of the page's time).
DAY_LIST_LIMIT = 25
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
ACTIVITY_LIMIT = 50


def upcoming_meeting_q(now: datetime.datetime) -> Exists:
    """An open deal's contact has a confirmed meeting that has not started."""
    return Exists(
        Interaction.objects.filter(
            contact_id=OuterRef("contact_id"),
            calendar_event__status=EventStatus.CONFIRMED,
            calendar_event__start_time__gt=now,
        )
    )


def open_task_q() -> Exists:
    return Exists(Task.objects.filter(deal_id=OuterRef("pk"), completed_at__isnull=True))


def with_next_step(deals: QuerySet[Deal], now: datetime.datetime) -> QuerySet[Deal]:
    """`deals` annotated with `has_next_step` (an open task or an upcoming meeting)."""
    return deals.annotate(has_next_step=open_task_q() | upcoming_meeting_q(now))


def has_next_step(deal: Deal, now: datetime.datetime | None = None) -> bool:
    """Whether an open deal has an open task or an upcoming meeting (closed ones need none)."""
    if not deal.is_open:
        return True
    deals = with_next_step(Deal.objects.filter(pk=deal.pk), now or timezone.now())
    return bool(deals.values_list("has_next_step", flat=True).first())


def with_last_activity(deals: QuerySet[Deal], now: datetime.datetime) -> QuerySet[Deal]:
    """`deals` annotated with `last_activity` (see the module's definitions), computed from
    the records: exact for the few rows a list shows, where the kept `Deal.last_activity_at`
    may not yet know of a meeting that has started since it was scheduled."""
    return deals.annotate(last_activity=last_activity(now))


def weighted_cents(deal: Deal) -> int:
    return round_half_even(Decimal(deal.value_cents) * deal.stage.probability / 100)


@dataclass
class MoneyTotal:
    currency: str
    cents: int


@dataclass
class Day:
    """What "My day" shows for `people` on `today` (in the viewer's time zone)."""

    today: datetime.date
    people: list[User]
    meetings_today: list = field(default_factory=list)
    meetings_tomorrow: list = field(default_factory=list)
    overdue: list[Task] = field(default_factory=list)
    due_today: list[Task] = field(default_factory=list)
    closing: list[Deal] = field(default_factory=list)
    closing_totals: list[MoneyTotal] = field(default_factory=list)
    stale: list[Deal] = field(default_factory=list)
    no_next_step: list[Deal] = field(default_factory=list)
    limit: int = DAY_LIST_LIMIT

    @property
    def several(self) -> bool:
        """Whether the lists mix people (a manager's team view): rows then name whose."""
        return len(self.people) > 1


def day_people(viewer: User, who: str) -> list[User] | None:
    """Whose day the viewer asked for: "" (themselves), "team" (everyone whose pipeline they
    may open: themselves and the members of the teams they manage) or a user id among those;
    None when `who` names nobody the viewer may see."""
    if not who:
        return [viewer]
    people = visible_users(viewer).order_by("display_name", "username")
    if who == "team":
        return list(people)
    try:
        person_id = uuid.UUID(who)
    except ValueError:
        return None
    return list(people.filter(pk=person_id)) or None


def _open_deals(people: list[User], viewer: User) -> QuerySet[Deal]:
    """With the stage (its probability) and owner the lists show; nothing else is joined."""
    return (
        Deal.objects.visible_to(viewer)
        .filter(owner__in=people, status=DealStatus.OPEN)
        .select_related("stage", "owner")
    )


def _quiet_since(cut: datetime.datetime, now: datetime.datetime) -> Q:
    """Nothing happened on the deal since `cut`: its kept last activity (`crm.activity`) and
    its own dates are older, conditions on the deal's columns; then no interaction with its
    contact since `cut` (a meeting that was in the future when it was scheduled has no write
    to move the column when it starts). That last check is a subquery per row, not an anti
    join: PostgreSQL then reads the open deals in close-date order and stops at the list's
    limit, instead of checking the interactions of every stale deal first."""
    last_interaction = (
        Interaction.objects.filter(contact_id=OuterRef("contact_id"), timestamp__lte=now)
        .order_by("-timestamp")
        .values("timestamp")[:1]
    )
    return Q(
        last_activity_at__lt=cut, updated_at__lt=cut, stage_entered_at__lt=cut, created_at__lt=cut
    ) & Q(LessThan(Coalesce(Subquery(last_interaction), Value(EPOCH)), cut))


def _stale_q(people: list[User], now: datetime.datetime) -> Q:
    """Per team, the last activity is older than the team's threshold (one query)."""
    thresholds = Team.objects.filter(
        pk__in=Membership.objects.filter(user__in=people).values("team_id")
    ).values_list("pk", "stale_deal_days")
    condition = Q(pk__in=[])
    for team_id, days in thresholds:
        cut = now - datetime.timedelta(days=days)
        condition |= Q(pipeline__team_id=team_id) & _quiet_since(cut, now)
    return condition


def my_day(*, viewer: User, people: list[User], now: datetime.datetime | None = None) -> Day:
    """The home page's lists for `people` (already checked with `day_people`), seen by
    `viewer`, whose time zone says what today is. A fixed number of queries."""
    now = now or timezone.now()
    zone = viewer.zone
    today = timezone.localtime(now, zone).date()
    day = Day(today=today, people=people)
    start = datetime.datetime.combine(today, datetime.time(), tzinfo=zone)
    middle, end = start + datetime.timedelta(days=1), start + datetime.timedelta(days=2)
    meetings = list(
        events_between(users=people, start=start, end=end, viewer=viewer).filter(
            status=EventStatus.CONFIRMED
        )[: 2 * DAY_LIST_LIMIT]
    )
    day.meetings_today = [event for event in meetings if event.start_time < middle]
    day.meetings_tomorrow = [event for event in meetings if event.start_time >= middle]

    # Two lists of their own: many overdue tasks never hide today's.
    tasks = (
        Task.objects.visible_to(viewer)
        .open()
        .filter(assignee__in=people)
        .select_related("assignee", "contact", "organization", "deal")
        .order_by("due_date", "due_at", "-priority", "created_at")
    )
    day.overdue = list(tasks.filter(due_date__lt=today)[:DAY_LIST_LIMIT])
    day.due_today = list(tasks.filter(due_date=today)[:DAY_LIST_LIMIT])

    deals = _open_deals(people, viewer)
    month_end = (today.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    day.closing = list(
        deals.filter(
            expected_close_date__gte=today.replace(day=1), expected_close_date__lt=month_end
        ).order_by("expected_close_date", "title", "id")[:DAY_LIST_LIMIT]
    )
    totals: dict[str, int] = {}
    for deal in day.closing:
        deal.weighted_cents = weighted_cents(deal)
        totals[deal.currency] = totals.get(deal.currency, 0) + deal.weighted_cents
    day.closing_totals = [MoneyTotal(currency, cents) for currency, cents in sorted(totals.items())]

    # The ids first (the deals table and the NOT EXISTS probes only, stopping at the limit),
    # then the joins and the last activity for those rows alone.
    stale_ids = (
        Deal.objects.visible_to(viewer)
        .filter(owner__in=people, status=DealStatus.OPEN)
        .filter(_stale_q(people, now))
        .order_by("expected_close_date", "id")
        .values("pk")[:DAY_LIST_LIMIT]
    )
    day.stale = list(
        with_last_activity(deals.filter(pk__in=stale_ids), now).order_by(
            "expected_close_date", "id"
        )
    )
    day.no_next_step = list(
        with_next_step(deals, now)
        .filter(has_next_step=False)
        .order_by("expected_close_date", "title", "id")[:DAY_LIST_LIMIT]
    )
    return day


@dataclass
class Activity:
    """A record's tasks and notes: open tasks pinned (soonest first), then notes and done
    tasks together, newest first (`feed`, at most ACTIVITY_LIMIT; `more` when cut)."""

    open_tasks: list[Task]
    feed: list
    more: bool = False
    # The team's lower-case usernames, whose @mentions the notes highlight.
    members: frozenset[str] = frozenset()


def record_activity(*, record, pinned: bool = True, feed: bool = True) -> Activity:
    """At most four queries whatever the record's history; without the open tasks (`pinned`)
    or the `feed`, which a contact's and an organization's pages show on their timeline
    instead, fewer."""
    link = {type(record).__name__.lower(): record}
    tasks = Task.objects.filter(**link).select_related("assignee", "completed_by")
    open_tasks = (
        list(tasks.filter(completed_at__isnull=True).order_by("due_date", "due_at"))
        if pinned
        else []
    )
    if not feed:
        return Activity(open_tasks=open_tasks, feed=[])
    done = list(
        tasks.filter(completed_at__isnull=False).order_by("-completed_at")[: ACTIVITY_LIMIT + 1]
    )
    notes = list(
        Note.objects.filter(**link)
        .select_related("author")
        .order_by("-created_at")[: ACTIVITY_LIMIT + 1]
    )
    feed = sorted(
        chain(done, notes),
        key=lambda item: item.completed_at if isinstance(item, Task) else item.created_at,
        reverse=True,
    )
    return Activity(
        open_tasks=open_tasks,
        feed=feed[:ACTIVITY_LIMIT],
        more=len(feed) > ACTIVITY_LIMIT,
        members=team_usernames(notes[0].team_id) if notes else frozenset(),
    )
