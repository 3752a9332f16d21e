"""Pipeline pages: the list of pipelines and the board of one pipeline."""

from uuid import UUID

from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from coop.htmx import varies_on_htmx
from coop.models import Team
from coop.visibility import manager_team_ids, manages_team_expression
from crm.models import DealStatus, Pipeline
from crm.selectors import pipeline_board


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


def render_board(
    request: HttpRequest, pipeline: Pipeline, *, status: str = "", error: str = ""
) -> HttpResponse:
    """The board page, or under htmx only its `#board` partial (after a move)."""
    template = "crm/pipeline_board.html#board" if request.htmx else "crm/pipeline_board.html"
    context = {
        "pipeline": pipeline,
        "columns": pipeline_board(pipeline=pipeline),
        "status": status,
        "error": error,
    }
    return render(request, template, context)


@require_GET
@varies_on_htmx
def pipeline_board_view(request: HttpRequest, pk: UUID) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline.objects.visible_to(request.user), pk=pk)
    return render_board(request, pipeline)
