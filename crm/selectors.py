"""CRM reads for pages and for other modules. Callers pass records already checked with
`visible_to(user)`; these functions never widen what a user may see."""

from dataclasses import dataclass, field

from django.db.models import Count, F, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from calendar_app.models import EventStatus
from coop.models import User
from crm.models import (
    Contact,
    Deal,
    DealStatus,
    Interaction,
    Note,
    Organization,
    Pipeline,
    PipelineStage,
    Task,
)
from crm.notes import team_usernames
from crm.tagging import filter_by_tags

TIMELINE_PAGE_SIZE = 20
TIMELINE_ORDER = ("-timestamp", "-created_at", "-id")


type TimelineEntry = Interaction | Note | Task


@dataclass
class TimelinePage:
    """One page of a contact's timeline, newest first: interactions, notes and done tasks
    (`entry.entry_kind` says which). `next_after` is the cursor of the next page (this page's
    last entry), or None on the last page."""

    entries: list[TimelineEntry]
    next_after: TimelineEntry | None = None
    # Meetings not over yet, soonest first, pinned above the entries (first page only).
    upcoming: list[Interaction] = field(default_factory=list)
    # Open tasks, soonest due first, pinned with the meetings (first page only).
    open_tasks: list[Task] = field(default_factory=list)
    # The lower-case usernames of the team whose @mentions the page's notes highlight.
    members: frozenset[str] = frozenset()


# Each kind's (time, tie-break time) fields: entries are ordered by (time, created_at, id),
# newest first, the same order in every table, so the pages of the merge are exact.
_ENTRY_FIELDS = {
    Interaction: ("timestamp", "created_at"),
    Note: ("created_at", "created_at"),
    Task: ("completed_at", "created_at"),
}
_ENTRY_KINDS = {Interaction: "interaction", Note: "note", Task: "task"}


def timeline_key(entry: TimelineEntry) -> tuple:
    """The entry's place on a timeline (larger is newer)."""
    time_field, created_field = _ENTRY_FIELDS[type(entry)]
    return (getattr(entry, time_field), getattr(entry, created_field), entry.id)


def _older_than(entry: TimelineEntry, model=Interaction) -> Q:
    """Rows of `model` after `entry` (of any kind) in timeline order (keyset pagination)."""
    time_field, created_field = _ENTRY_FIELDS[model]
    at, created_at, pk = timeline_key(entry)
    return (
        Q(**{f"{time_field}__lt": at})
        | Q(**{time_field: at, f"{created_field}__lt": created_at})
        | Q(**{time_field: at, created_field: created_at, "id__lt": pk})
    )


def _merged_page(sources: list, after: TimelineEntry | None, limit: int) -> tuple[list, bool]:
    """The newest `limit` entries after `after` among querysets of different kinds: each
    source gives at most `limit + 1` (one query each), merged by `timeline_key`."""
    rows: list = []
    for queryset in sources:
        model = queryset.model
        time_field, created_field = _ENTRY_FIELDS[model]
        if after is not None:
            queryset = queryset.filter(_older_than(after, model))
        found = list(queryset.order_by(f"-{time_field}", f"-{created_field}", "-id")[: limit + 1])
        for row in found:
            row.entry_kind = _ENTRY_KINDS[model]
        rows += found
    rows.sort(key=timeline_key, reverse=True)
    return rows[:limit], len(rows) > limit


def _with_members(page: TimelinePage) -> TimelinePage:
    """Fill `members` when the page shows a note (one query then)."""
    note = next((row for row in page.entries if isinstance(row, Note)), None)
    if note is not None:
        page.members = team_usernames(note.team_id)
    return page


def timeline_entry(*, after_id, interactions, link: dict) -> TimelineEntry | None:
    """The entry (interaction, note or done task of the record `link` names) a cursor
    points at, or None."""
    return (
        interactions.filter(pk=after_id).first()
        or Note.objects.filter(pk=after_id, **link).first()
        or Task.objects.filter(pk=after_id, completed_at__isnull=False, **link).first()
    )


def _upcoming_meetings(contact: Contact) -> QuerySet[Interaction]:
    """The contact's meetings not over yet (confirmed events ending in the future).

    The ids of the contact's meetings come first, in a query of their own read from the
    partial index `crm_interaction_meetings_idx` (a few rows; without any, no second query),
    so PostgreSQL fetches those events by key. Joined in one query, it read every future event
    of everyone for a busy contact (a sequential scan of `calendar_events`): 200 ms at 50,000
    events (benchmarks/RESULTS.md, "Contact page")."""
    meetings = list(
        Interaction.objects.filter(contact=contact, calendar_event__isnull=False)
        .order_by()
        .values_list("calendar_event_id", flat=True)
    )
    return contact.interactions.filter(
        calendar_event_id__in=meetings,
        calendar_event__status=EventStatus.CONFIRMED,
        calendar_event__end_time__gt=timezone.now(),
    )


def upcoming_meetings_end(*, contact: Contact):
    """When the first of the contact's meetings not over yet ends (None without one): until
    then no meeting joins the timeline's entries. One query, two with meetings."""
    return _upcoming_meetings(contact).aggregate(end=Min("calendar_event__end_time"))["end"]


def contact_timeline(
    *, contact: Contact, after: TimelineEntry | None = None, limit: int = TIMELINE_PAGE_SIZE
) -> TimelinePage:
    """A page of the contact's interactions, notes and done tasks, newest first (a note at
    its writing, a task at its completion), starting after the `after` entry.

    Keyset-paginated, so a page costs three queries whatever the timeline's length (and one
    or two for the contact's meetings), and an entry logged meanwhile never shifts or repeats
    the pages a person is scrolling through. Meetings not over yet (confirmed events ending in
    the future) are left out of the pages and listed, soonest first, in the first page's
    `upcoming`, and the open tasks in its `open_tasks` (one more query).
    """
    interactions = contact.interactions.select_related("author", "calendar_event")
    upcoming = list(
        _upcoming_meetings(contact)
        .select_related("author", "calendar_event")
        .order_by("calendar_event__start_time", "id")
    )
    rows, has_more = _merged_page(
        [
            interactions.exclude(pk__in=[meeting.pk for meeting in upcoming]),
            Note.objects.filter(contact=contact).select_related("author"),
            Task.objects.filter(contact=contact, completed_at__isnull=False).select_related(
                "assignee", "completed_by"
            ),
        ],
        after,
        limit,
    )
    page = TimelinePage(entries=rows, next_after=rows[-1] if has_more else None)
    if after is None:
        page.upcoming = upcoming
        page.open_tasks = list(
            Task.objects.filter(contact=contact, completed_at__isnull=True)
            .select_related("assignee")
            .order_by("due_date", "due_at", "-priority", "created_at")
        )
    return _with_members(page)


def contacts_matching(*, user: User, query: str = "", tags: list[str] = ()) -> QuerySet[Contact]:
    """The user's visible contacts whose name, email or organization contains `query`, and
    that carry every tag named in `tags`."""
    contacts = filter_by_tags(
        Contact.objects.visible_to(user).select_related("organization", "owner"), tags
    )
    query = query.strip()
    if query:
        contacts = contacts.filter(
            Q(name__icontains=query)
            | Q(email__icontains=query)
            | Q(organization__name__icontains=query)
        )
    return contacts.order_by("name", "id")


def organizations_matching(
    *, user: User, query: str = "", tags: list[str] = ()
) -> QuerySet[Organization]:
    """The user's visible organizations whose name, domain or industry contains `query` and
    that carry every tag named in `tags`, each with `contact_count`."""
    # A count per row (a subquery) rather than a join of every contact grouped: the page's
    # count and its rows then never read the contacts of the organizations not shown.
    contacts = (
        Contact.objects.filter(organization=OuterRef("pk"))
        .order_by()
        .values("organization")
        .annotate(n=Count("id"))
        .values("n")
    )
    organizations = filter_by_tags(Organization.objects.visible_to(user), tags).annotate(
        contact_count=Coalesce(Subquery(contacts), 0)
    )
    query = query.strip()
    if query:
        organizations = organizations.filter(
            Q(name__icontains=query) | Q(domain__icontains=query) | Q(industry__icontains=query)
        )
    return organizations.order_by("name", "id")


@dataclass
class DealTotal:
    currency: str
    count: int
    total_cents: int


def organization_deal_totals(*, deals: QuerySet[Deal]) -> dict[str, list[DealTotal]]:
    """Count and total value of `deals` per status ("open", "won", "lost") and currency, in
    one query; every status is a key, an empty list when it has no deal."""
    totals: dict[str, list[DealTotal]] = {status: [] for status in DealStatus.values}
    rows = (
        deals.order_by()
        .values("status", "currency")
        .annotate(n=Count("id"), total=Sum("value_cents"))
        .order_by("status", "currency")
    )
    for row in rows:
        totals[row["status"]].append(DealTotal(row["currency"], row["n"], row["total"] or 0))
    return totals


def organization_timeline(
    *,
    organization: Organization,
    after: TimelineEntry | None = None,
    limit: int = TIMELINE_PAGE_SIZE,
) -> TimelinePage:
    """A page of the merged timelines of the organization's contacts, with the notes and done
    tasks of the organization itself, newest first, starting after the `after` entry:
    keyset-paginated like `contact_timeline`, three queries a page whatever the timelines'
    length (upcoming meetings are not pinned here)."""
    rows, has_more = _merged_page(
        [
            Interaction.objects.filter(contact__organization=organization).select_related(
                "contact", "author", "calendar_event"
            ),
            Note.objects.filter(organization=organization).select_related("author"),
            Task.objects.filter(
                organization=organization, completed_at__isnull=False
            ).select_related("assignee", "completed_by"),
        ],
        after,
        limit,
    )
    return _with_members(
        TimelinePage(entries=rows, next_after=rows[-1] if has_more else None, upcoming=[])
    )


def deals_matching(
    *,
    user: User,
    query: str = "",
    status: str = "",
    pipeline: Pipeline | None = None,
    stage: PipelineStage | None = None,
    tags: list[str] = (),
) -> QuerySet[Deal]:
    """The user's visible deals, filtered by title or contact name, status, pipeline, stage
    and tags (every one named); soonest expected close first."""
    deals = filter_by_tags(
        Deal.objects.visible_to(user).select_related("pipeline", "stage", "contact", "owner"),
        tags,
    )
    query = query.strip()
    if query:
        deals = deals.filter(Q(title__icontains=query) | Q(contact__name__icontains=query))
    if status:
        deals = deals.filter(status=status)
    if pipeline is not None:
        deals = deals.filter(pipeline=pipeline)
    if stage is not None:
        deals = deals.filter(stage=stage)
    return deals.order_by(F("expected_close_date").asc(nulls_last=True), "title", "id")


def interactions_between(*, viewer: User, authors: list[User], start, end) -> QuerySet[Interaction]:
    """Interactions the viewer may see, logged by `authors` in [start, end), for the calendar.
    Entries linked to a calendar event are left out: the calendar shows the event itself."""
    return (
        Interaction.objects.visible_to(viewer)
        .filter(author__in=authors, timestamp__gte=start, timestamp__lt=end)
        .filter(calendar_event__isnull=True)
        .select_related("contact")
        .order_by("timestamp", "id")
    )


def contact_personal_data(*, contact: Contact) -> dict:
    """Everything the CRM stores about a contact (GDPR Art. 15): their fields, timeline, the
    notes and tasks on them and the deals linked to them, as JSON-ready values."""
    return {
        "contact": {
            "id": str(contact.pk),
            "team": str(contact.team),
            "name": contact.name,
            "email": contact.email,
            "phone": contact.phone,
            "organization": contact.organization.name if contact.organization else "",
            "job_title": contact.job_title,
            "notes": contact.notes,
            "owner": str(contact.owner or ""),
            "created_at": contact.created_at.isoformat(),
            "updated_at": contact.updated_at.isoformat(),
        },
        "interactions": [
            {
                "type": entry.get_interaction_type_display(),
                "summary": entry.summary,
                "details": entry.details,
                "at": entry.timestamp.isoformat(),
                "by": str(entry.author or ""),
            }
            for entry in contact.interactions.select_related("author").order_by("timestamp")
        ],
        "deals": [
            {
                "id": str(deal.pk),
                "title": deal.title,
                "pipeline": deal.pipeline.name,
                "stage": deal.stage.name,
                "status": deal.status,
                "value_cents": deal.value_cents,
                "currency": deal.currency,
                "expected_close_date": (
                    deal.expected_close_date.isoformat() if deal.expected_close_date else None
                ),
                "closed_at": deal.closed_at.isoformat() if deal.closed_at else None,
            }
            for deal in contact.deals.select_related("pipeline", "stage").order_by("created_at")
        ],
        "notes": [
            {"body": note.body, "at": note.created_at.isoformat(), "by": str(note.author or "")}
            for note in Note.objects.filter(contact=contact)
            .select_related("author")
            .order_by("created_at")
        ],
        "tasks": [
            {
                "title": task.title,
                "due_date": task.due_date.isoformat(),
                "done_at": task.completed_at.isoformat() if task.completed_at else None,
                "assignee": str(task.assignee or ""),
            }
            for task in Task.objects.filter(contact=contact)
            .select_related("assignee")
            .order_by("due_date", "created_at")
        ],
    }
