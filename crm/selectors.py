"""CRM reads for pages and for other modules. Callers pass records already checked with
`visible_to(user)`; these functions never widen what a user may see."""

from dataclasses import dataclass, field

from django.db.models import Count, F, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from calendar_app.models import EventStatus
from coop.models import User
from crm.models import (
    Contact,
    Deal,
    DealStatus,
    Interaction,
    Organization,
    Pipeline,
    PipelineStage,
)
from crm.tagging import filter_by_tags

TIMELINE_PAGE_SIZE = 20
TIMELINE_ORDER = ("-timestamp", "-created_at", "-id")


@dataclass
class TimelinePage:
    """One page of a contact's timeline, newest first. `next_after` is the cursor of the next
    page (the id of this page's last entry), or None on the last page."""

    entries: list[Interaction]
    next_after: Interaction | None = None
    # Meetings not over yet, soonest first, pinned above the entries (first page only).
    upcoming: list[Interaction] = field(default_factory=list)


def _older_than(entry: Interaction) -> Q:
    """Entries after `entry` in timeline order (keyset pagination on the timeline index)."""
    return (
        Q(timestamp__lt=entry.timestamp)
        | Q(timestamp=entry.timestamp, created_at__lt=entry.created_at)
        | Q(timestamp=entry.timestamp, created_at=entry.created_at, id__lt=entry.id)
    )


def contact_timeline(
    *, contact: Contact, after: Interaction | None = None, limit: int = TIMELINE_PAGE_SIZE
) -> TimelinePage:
    """A page of the contact's interactions, newest first, starting after the `after` entry.

    Keyset-paginated, so a page costs one query whatever the timeline's length, and an entry
    logged meanwhile never shifts or repeats the pages a person is scrolling through.
    Meetings not over yet (confirmed events ending in the future) are left out of the pages and
    listed, soonest first, in the first page's `upcoming` (one more query).
    """
    upcoming_q = Q(
        calendar_event__status=EventStatus.CONFIRMED, calendar_event__end_time__gt=timezone.now()
    )
    interactions = contact.interactions.select_related("author", "calendar_event")
    entries = interactions.exclude(upcoming_q).order_by(*TIMELINE_ORDER)
    if after is not None:
        entries = entries.filter(_older_than(after))
    rows = list(entries[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    upcoming = (
        []
        if after is not None
        else list(interactions.filter(upcoming_q).order_by("calendar_event__start_time", "id"))
    )
    return TimelinePage(entries=rows, next_after=rows[-1] if has_more else None, upcoming=upcoming)


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
    organizations = filter_by_tags(Organization.objects.visible_to(user), tags).annotate(
        contact_count=Count("contacts", distinct=True)
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
    after: Interaction | None = None,
    limit: int = TIMELINE_PAGE_SIZE,
) -> TimelinePage:
    """A page of the merged timelines of the organization's contacts, newest first, starting
    after the `after` entry: keyset-paginated like `contact_timeline`, one query a page
    whatever the timelines' length (upcoming meetings are not pinned here)."""
    entries = (
        Interaction.objects.filter(contact__organization=organization)
        .select_related("contact", "author", "calendar_event")
        .order_by(*TIMELINE_ORDER)
    )
    if after is not None:
        entries = entries.filter(_older_than(after))
    rows = list(entries[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return TimelinePage(entries=rows, next_after=rows[-1] if has_more else None, upcoming=[])


BOARD_CARDS_PER_STAGE = 50


@dataclass
class BoardColumn:
    stage: PipelineStage
    deal_count: int = 0
    total_cents: int = 0
    deals: list[Deal] = field(default_factory=list)

    @property
    def hidden_count(self) -> int:
        return self.deal_count - len(self.deals)


def pipeline_board(
    *, pipeline: Pipeline, cards_per_stage: int = BOARD_CARDS_PER_STAGE
) -> list[BoardColumn]:
    """The open stages of a pipeline as columns: count and total value (in the pipeline's
    currency) of the open deals in each, and the `cards_per_stage` most recently moved deals.

    Three queries whatever the number of deals: stages, per-stage aggregates, cards.
    """
    columns = {
        stage.pk: BoardColumn(stage=stage)
        for stage in pipeline.stages.filter(
            is_won=False, is_lost=False, archived_at__isnull=True
        ).order_by("position")
    }
    open_deals = Deal.objects.filter(
        pipeline=pipeline, status=DealStatus.OPEN, stage_id__in=list(columns)
    )
    for row in open_deals.values("stage_id").annotate(n=Count("id"), total=Sum("value_cents")):
        column = columns[row["stage_id"]]
        column.deal_count, column.total_cents = row["n"], row["total"] or 0
    cards = (
        open_deals.select_related("contact", "owner")
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("stage_id"),
                order_by=(F("stage_entered_at").desc(), F("id").desc()),
            )
        )
        .filter(rank__lte=cards_per_stage)
        .order_by("stage_id", "rank")
    )
    for deal in cards:
        columns[deal.stage_id].deals.append(deal)
    return list(columns.values())


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
    """Everything the CRM stores about a contact (GDPR Art. 15): their fields, timeline and
    the deals linked to them, as JSON-ready values."""
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
    }
