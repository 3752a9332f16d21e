"""Pipeline pages: the list of pipelines and the board of one pipeline."""

from uuid import UUID

from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from coop.htmx import varies_on_htmx
from coop.models import Team
from coop.page_cache import cached_page
from coop.visibility import manager_team_ids, manages_team_expression
from crm.board import (
    SORT_CLOSE,
    BadCursor,
    BoardFilter,
    board_columns,
    board_totals,
    column_cards,
    open_stages,
)
from crm.board_cache import cached_board_part
from crm.forms import BoardFilterForm
from crm.models import Deal, DealStatus, Pipeline
from crm.tagging import tag_names_visible_to
from crm.views.bulk import TAG_FILTER_CHOICES, requested_tags


@require_GET
def pipeline_list(request: HttpRequest) -> HttpResponse:
    open_deals = Q(deals__status=DealStatus.OPEN)
    pipelines = (
        Pipeline.objects.visible_to(request.user)
        .select_related("team")
        .annotate(
            open_count=Count("deals", filter=open_deals),
            open_total=Sum("deals__value_cents", filter=open_deals),
            managed=manages_team_expression(request.user),
        )
        .order_by("team__name", "name")
    )
    manages_any = Team.objects.filter(pk__in=manager_team_ids(request.user)).exists()
    context = {"pipelines": pipelines, "manages_any": manages_any}
    return render(request, "crm/pipeline_list.html", context)


def _board_filter(
    request: HttpRequest, pipeline: Pipeline, params: QueryDict
) -> tuple[BoardFilterForm, BoardFilter, str, QueryDict]:
    """The board's filter and order from `params`: the form, the filter (no filter when the
    input is invalid), an error message for that case, and the valid state as a query (what
    the board's links and "more cards" requests carry)."""
    form = BoardFilterForm(params, pipeline=pipeline)
    tags, tag_error = requested_tags(request, params)
    query = QueryDict(mutable=True)
    if not form.is_valid():
        return form, BoardFilter(), tag_error, query
    data = form.cleaned_data
    board_filter = BoardFilter(
        owner=data["owner"], tags=tuple(tags), text=data["q"], sort=data["sort"]
    )
    for name, value in [("q", data["q"]), ("owner", data["owner"] and data["owner"].pk)]:
        if value:
            query[name] = str(value)
    query.setlist("tag", tags)
    if data["sort"] != SORT_CLOSE:
        query["sort"] = data["sort"]
    return form, board_filter, tag_error, query


def _more_url(pipeline: Pipeline, stage_id, query: QueryDict, after: str) -> str:
    query = query.copy()
    query["after"] = after
    url = reverse("crm:pipeline_column", args=[pipeline.pk, stage_id])
    return f"{url}?{query.urlencode()}"


def _board_key(pipeline: Pipeline, board_filter: BoardFilter, *more) -> tuple:
    """What a cached board part depends on besides the data, the language and the time zone
    (the pipeline is visible to the viewer: every card of it is)."""
    owner = board_filter.owner.pk if board_filter.owner else None
    tags = tuple(sorted(board_filter.tags))
    return ("board", pipeline.pk, owner, tags, board_filter.text, board_filter.sort, *more)


def render_board(request: HttpRequest, pipeline: Pipeline) -> HttpResponse:
    """The board page, or under htmx only its `#board` partial (the filter changed)."""
    form, board_filter, tag_error, query = _board_filter(request, pipeline, request.GET)

    def render_columns() -> str:
        columns = board_columns(pipeline=pipeline, board_filter=board_filter)
        for column in columns:
            if column.next_after:
                column.more_url = _more_url(pipeline, column.stage.pk, query, column.next_after)
        context = {
            "pipeline": pipeline,
            "columns": columns,
            "stages": [column.stage for column in columns],
            "board_filter": board_filter,
            "csrf_hole": True,
        }
        return render_to_string("crm/pipeline_board.html#columns", context)

    columns_html = cached_board_part(request, _board_key(pipeline, board_filter), render_columns)
    template = "crm/pipeline_board.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#board"
    context = {
        "pipeline": pipeline,
        "board_columns_html": columns_html,
        "form": form,
        "board_filter": board_filter,
        "tag_error": tag_error,
        "filter_query": query.urlencode(),
        "tag_choices": tag_names_visible_to(request.user, limit=TAG_FILTER_CHOICES),
        "active_tags": list(board_filter.tags),
    }
    return render(request, template, context)


@require_GET
@cached_page
@varies_on_htmx
def pipeline_board_view(request: HttpRequest, pk: UUID) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline.objects.visible_to(request.user), pk=pk)
    return render_board(request, pipeline)


@require_GET
@cached_page
@varies_on_htmx
def pipeline_column_view(request: HttpRequest, pk: UUID, stage_pk: UUID) -> HttpResponse:
    """A page of one column's cards after `?after=` (with the board's filter and order):
    under htmx the cards and the next page's loader, appended as the column scrolls; as a
    page of its own the "Show more" link of a browser without JavaScript."""
    pipeline = get_object_or_404(Pipeline.objects.visible_to(request.user), pk=pk)
    stages = open_stages(pipeline)
    stage = next((stage for stage in stages if stage.pk == stage_pk), None)
    if stage is None:
        raise Http404(gettext("This pipeline has no such open stage."))
    form, board_filter, tag_error, query = _board_filter(request, pipeline, request.GET)
    after = request.GET.get("after", "")

    def render_cards() -> str:
        deals, next_after = column_cards(
            pipeline=pipeline, stage=stage, board_filter=board_filter, after=after
        )
        more_url = _more_url(pipeline, stage.pk, query, next_after) if next_after else ""
        context = {
            "pipeline": pipeline,
            "stages": stages,
            "deals": deals,
            "more_url": more_url,
            "board_filter": board_filter,
            "csrf_hole": True,
        }
        html = render_to_string("crm/pipeline_board.html#more_cards", context)
        # The page without JavaScript says when there is no card left (never cached empty).
        return html if deals else ""

    try:
        cards_html = cached_board_part(
            request, _board_key(pipeline, board_filter, stage.pk, after), render_cards
        )
    except BadCursor:
        error = gettext("This list of cards cannot go on from there: reload the board.")
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    context = {
        "pipeline": pipeline,
        "stage": stage,
        "cards_html": cards_html,
        "board_url": f"{reverse('crm:pipeline_board', args=[pipeline.pk])}?{query.urlencode()}",
        "form": form,
        "tag_error": tag_error,
        "board_filter": board_filter,
    }
    if request.htmx:
        return HttpResponse(cards_html)
    return render(request, "crm/pipeline_column.html", context)


def render_moved(
    request: HttpRequest, deal: Deal, *, status: str = "", error: str = ""
) -> HttpResponse:
    """After a move on the board (htmx): the deal's card, which the page puts into its new
    column, and out of band every column's new count and total (under the board's filter,
    which the move form sends along), the status message and any error."""
    pipeline = deal.pipeline
    _, board_filter, _, _ = _board_filter(request, pipeline, request.POST)
    stages = open_stages(pipeline)
    columns = board_totals(pipeline=pipeline, stages=stages, board_filter=board_filter)
    deal = Deal.objects.select_related("contact", "owner").get(pk=deal.pk)
    context = {
        "pipeline": pipeline,
        "deal": deal,
        "moved": not error,
        "columns": columns,
        "stages": stages,
        "board_filter": board_filter,
        "status": status,
        "error": error,
    }
    return render(request, "crm/pipeline_board.html#moved", context)
