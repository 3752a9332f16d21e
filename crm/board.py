"""The pipeline board's reads: per open stage, the count and total of its open deals (one
aggregate query for every column) and pages of its cards in a chosen order, paged by keyset
on (sort key, id), so a page costs the same whether the stage holds 100 deals or 100,000.

Callers pass a pipeline already checked with `visible_to(user)`: every deal of a visible
pipeline is visible (deals are scoped by their pipeline's team).
"""

import datetime
import uuid
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum, Value, Window
from django.db.models.functions import Coalesce, RowNumber

from coop.models import User
from crm.models import NO_CLOSE_DATE, Deal, DealStatus, Pipeline, PipelineStage
from crm.tagging import filter_by_tags

BOARD_CARDS_PER_PAGE = 25

# The index `crm_deal_open_stage_close_idx` has the same expression.
CLOSE_KEY = Coalesce("expected_close_date", Value(NO_CLOSE_DATE))

SORT_CLOSE, SORT_VALUE = "close", "value"
# Each order: the sort key, and whether it runs from the largest (highest value first).
SORTS = {SORT_CLOSE: (CLOSE_KEY, False), SORT_VALUE: (F("value_cents"), True)}


class BadCursor(ValueError):
    """The `after` of a "more cards" request is not a card's place in this order."""


@dataclass(frozen=True)
class BoardFilter:
    """What narrows every column: an owner, tags (a deal carries every one) and a text found
    in the deal's title, its contact's name or the contact's organization's name."""

    owner: User | None = None
    tags: tuple[str, ...] = ()
    text: str = ""
    sort: str = SORT_CLOSE

    @property
    def active(self) -> bool:
        return bool(self.owner or self.tags or self.text)

    def apply(self, deals: QuerySet[Deal]) -> QuerySet[Deal]:
        if self.owner is not None:
            deals = deals.filter(owner=self.owner)
        deals = filter_by_tags(deals, list(self.tags))
        if self.text:
            deals = deals.filter(
                Q(title__icontains=self.text)
                | Q(contact__name__icontains=self.text)
                | Q(contact__organization__name__icontains=self.text)
            )
        return deals


@dataclass
class BoardColumn:
    stage: PipelineStage
    deal_count: int = 0
    total_cents: int = 0
    deals: list[Deal] = field(default_factory=list)
    # The cursor of the next page (the last card shown), or "" when every card is shown.
    next_after: str = ""
    # Where the next page is (the view sets it, with the board's filter and order).
    more_url: str = ""


def open_stages(pipeline: Pipeline) -> list[PipelineStage]:
    """The pipeline's open stages, in board order: the board's columns."""
    return list(
        pipeline.stages.filter(is_won=False, is_lost=False, archived_at__isnull=True).order_by(
            "position"
        )
    )


def _open_deals(stage_ids: list, board_filter: BoardFilter) -> QuerySet:
    """The open deals of these stages (of one pipeline) that pass the filter. By stage alone,
    not also by pipeline, so the planner walks the (stage, key, id) index."""
    return board_filter.apply(Deal.objects.filter(status=DealStatus.OPEN, stage_id__in=stage_ids))


def board_totals(
    *, pipeline: Pipeline, stages: list[PipelineStage], board_filter: BoardFilter
) -> list[BoardColumn]:
    """A column per stage with the count and total value (in the pipeline's currency) of its
    open deals that pass the filter: one query for all columns."""
    columns = {stage.pk: BoardColumn(stage=stage) for stage in stages}
    rows = (
        _open_deals(list(columns), board_filter)
        .order_by()
        .values("stage_id")
        .annotate(n=Count("id"), total=Sum("value_cents"))
    )
    for row in rows:
        column = columns[row["stage_id"]]
        column.deal_count, column.total_cents = row["n"], row["total"] or 0
    return list(columns.values())


def card_key(deal: Deal, sort: str) -> str:
    """The card's place in `sort` order as text: the cursor that pages after it."""
    if sort == SORT_VALUE:
        return f"{deal.value_cents}.{deal.pk}"
    return f"{(deal.expected_close_date or NO_CLOSE_DATE).isoformat()}.{deal.pk}"


def _parse_cursor(after: str, sort: str) -> tuple:
    key, _, pk = after.rpartition(".")
    try:
        pk = uuid.UUID(pk)
        if sort == SORT_VALUE:
            value = int(key)
            if not 0 <= value < 2**63:
                raise ValueError(value)
            return value, pk
        return datetime.date.fromisoformat(key), pk
    except (ValueError, OverflowError) as error:
        raise BadCursor(after) from error


def _ordered(deals: QuerySet, sort: str, after: str = "") -> QuerySet:
    """`deals` in `sort` order (ties broken by id), those after the cursor `after` only. The
    cursor condition is written `key >= k AND (key > k OR id > i)` so that the database
    walks the (stage, key, id) index from the cursor on and stops after a page."""
    key, descending = SORTS[sort]
    deals = deals.annotate(sort_key=key)
    if after:
        value, pk = _parse_cursor(after, sort)
        if descending:
            deals = deals.filter(Q(sort_key__lte=value), Q(sort_key__lt=value) | Q(id__lt=pk))
        else:
            deals = deals.filter(Q(sort_key__gte=value), Q(sort_key__gt=value) | Q(id__gt=pk))
    if descending:
        return deals.order_by(F("sort_key").desc(), F("id").desc())
    return deals.order_by("sort_key", "id")


def _cards(deals: QuerySet) -> QuerySet:
    return deals.select_related("contact", "owner")


def board_columns(
    *, pipeline: Pipeline, board_filter: BoardFilter, per_page: int = BOARD_CARDS_PER_PAGE
) -> list[BoardColumn]:
    """The board: every open stage with its count, total and first `per_page` cards.

    Four queries whatever the number of deals and stages: stages, aggregates, the ids of each
    column's first cards (a UNION of one LIMITed index walk per stage on PostgreSQL; SQLite,
    which refuses LIMIT inside a UNION, numbers the rows with a window), and the cards."""
    stages = open_stages(pipeline)
    columns = board_totals(pipeline=pipeline, stages=stages, board_filter=board_filter)
    if not columns:
        return columns
    sort = board_filter.sort
    if connection.features.supports_slicing_ordering_in_compound:
        heads = [
            _ordered(_open_deals([stage.pk], board_filter), sort).values_list("id")[: per_page + 1]
            for stage in stages
        ]
        ids = [row[0] for row in heads[0].union(*heads[1:], all=True).order_by()]
    else:
        key, descending = SORTS[sort]
        rank = Window(
            RowNumber(),
            partition_by=F("stage_id"),
            order_by=(key.desc(), F("id").desc()) if descending else (key.asc(), F("id").asc()),
        )
        ranked = (
            _open_deals([stage.pk for stage in stages], board_filter)
            .annotate(rank=rank)
            .filter(rank__lte=per_page + 1)
        )
        ids = list(ranked.values_list("id", flat=True))
    by_stage = {column.stage.pk: column for column in columns}
    cards = _ordered(_cards(Deal.objects.filter(pk__in=ids)), sort)
    for deal in cards:
        by_stage[deal.stage_id].deals.append(deal)
    for column in columns:
        column.deals, column.next_after = _page(column.deals, per_page, sort)
    return columns


def _page(deals: list[Deal], per_page: int, sort: str) -> tuple[list[Deal], str]:
    """The first `per_page` of `per_page + 1` rows, and the cursor of the next page if the
    extra row says there is one."""
    if len(deals) > per_page:
        deals = deals[:per_page]
        return deals, card_key(deals[-1], sort)
    return deals, ""


def column_cards(
    *,
    pipeline: Pipeline,
    stage: PipelineStage,
    board_filter: BoardFilter,
    after: str = "",
    per_page: int = BOARD_CARDS_PER_PAGE,
) -> tuple[list[Deal], str]:
    """A page of one column's cards after the cursor `after` (the first page without it),
    and the cursor of the page after it ("" on the last). One query. Raises BadCursor."""
    deals = _ordered(_cards(_open_deals([stage.pk], board_filter)), board_filter.sort, after)
    return _page(list(deals[: per_page + 1]), per_page, board_filter.sort)
