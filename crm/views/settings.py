"""Pipeline settings pages for a team's managers: a new pipeline, one pipeline's name, currency
and stages (add, rename, probability, won/lost, reorder by drag or by the keyboard's up and
down buttons, archive with its open deals moved, restore), and the team's lost reasons. Each
POST names an `action` and calls one service of `crm.pipeline_settings`; a refusal is shown on
the page with status 400 and nothing written."""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_http_methods

from coop.htmx import varies_on_htmx
from coop.models import Team
from coop.money import CURRENCY_CHOICES
from coop.visibility import manager_team_ids, manages_team
from crm.models import LostReason, Pipeline, PipelineStage
from crm.pipeline_settings import (
    lost_reason_add,
    lost_reason_update,
    pipeline_create,
    pipeline_update,
    stage_add,
    stage_archive,
    stage_restore,
    stage_shift,
    stage_update,
    stages_reorder,
    team_stale_deal_days_set,
)

KINDS = {"open": (False, False), "won": (True, False), "lost": (False, True)}


def _uuid(value: str | None) -> UUID | None:
    try:
        return UUID(value or "")
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int((value or "").strip())
    except ValueError:
        return None


def _kind(value: str | None) -> tuple[bool, bool]:
    if value not in KINDS:
        raise ValidationError(gettext("Choose whether the stage is open, won or lost."))
    return KINDS[value]


def _stage(pipeline: Pipeline, value: str | None) -> PipelineStage:
    stage = pipeline.stages.filter(pk=_uuid(value)).first() if _uuid(value) else None
    if stage is None:
        raise ValidationError(gettext("Choose one of the pipeline's stages."))
    return stage


def _apply(request: HttpRequest, pipeline: Pipeline) -> str:
    """Run the POSTed action; the message to show on success."""
    data, actor = request.POST, request.user
    action = data.get("action")
    if action == "rename":
        pipeline_update(
            actor=actor, pipeline=pipeline, name=data.get("name", ""), currency=data.get("currency")
        )
        return gettext("Pipeline saved.")
    if action == "add_stage":
        is_won, is_lost = _kind(data.get("kind", "open"))
        stage = stage_add(
            actor=actor,
            pipeline=pipeline,
            name=data.get("name", ""),
            probability=_int(data.get("probability")),
            is_won=is_won,
            is_lost=is_lost,
        )
        return gettext("Stage %(name)s added.") % {"name": stage.name}
    if action == "update_stage":
        is_won, is_lost = _kind(data.get("kind"))
        stage = stage_update(
            actor=actor,
            stage=_stage(pipeline, data.get("stage")),
            name=data.get("name", ""),
            probability=_int(data.get("probability")),
            is_won=is_won,
            is_lost=is_lost,
        )
        return gettext("Stage %(name)s saved.") % {"name": stage.name}
    if action == "move_stage":
        stage = _stage(pipeline, data.get("stage"))
        stage_shift(actor=actor, stage=stage, offset={"up": -1, "down": 1}.get(data.get("to"), 0))
        if data.get("to") == "up":
            return gettext("Stage %(name)s moved up.") % {"name": stage.name}
        if data.get("to") == "down":
            return gettext("Stage %(name)s moved down.") % {"name": stage.name}
        return gettext("Stage %(name)s left where it was.") % {"name": stage.name}
    if action == "reorder":
        ids = [_uuid(value) for value in data.getlist("order")]
        if None in ids:
            raise ValidationError(
                gettext("The order must name each of the pipeline's stages once.")
            )
        stages_reorder(actor=actor, pipeline=pipeline, stage_ids=ids)
        return gettext("Stages reordered.")
    if action == "archive_stage":
        stage = _stage(pipeline, data.get("stage"))
        move_to = _stage(pipeline, data.get("move_to")) if data.get("move_to") else None
        moved = stage_archive(actor=actor, stage=stage, move_to=move_to)
        if moved:
            return ngettext(
                "Stage %(name)s archived and its %(count)s open deal moved to %(to)s.",
                "Stage %(name)s archived and its %(count)s open deals moved to %(to)s.",
                moved,
            ) % {"name": stage.name, "count": moved, "to": move_to.name}
        return gettext("Stage %(name)s archived.") % {"name": stage.name}
    if action == "restore_stage":
        stage = stage_restore(actor=actor, stage=_stage(pipeline, data.get("stage")))
        return gettext("Stage %(name)s restored.") % {"name": stage.name}
    raise ValidationError(gettext("Unknown action."))


def _settings_context(pipeline: Pipeline) -> dict:
    stages = sorted(pipeline.stages.all(), key=lambda s: (s.is_archived, s.position, s.name))
    return {
        "pipeline": pipeline,
        "stages": [s for s in stages if not s.is_archived],
        "archived": [s for s in stages if s.is_archived],
        "open_stages": [s for s in stages if not s.is_archived and not s.is_closing],
        "currencies": CURRENCY_CHOICES,
    }


@require_http_methods(["GET", "POST"])
@varies_on_htmx
def pipeline_settings(request: HttpRequest, pk: UUID) -> HttpResponse:
    """The settings of a pipeline; under htmx (the drag reorder) only its `#stages` list."""
    pipeline = get_object_or_404(Pipeline.objects.visible_to(request.user), pk=pk)
    if not manages_team(request.user, pipeline.team_id):
        raise Http404("No such pipeline.")
    status, error_text = 200, ""
    if request.method == "POST":
        try:
            done = _apply(request, pipeline)
        except ValidationError as error:
            error_text = " ".join(error.messages)
            if not request.htmx:
                messages.error(request, error_text)
            status = 400
        else:
            if not request.htmx:
                messages.success(request, done)
                return redirect("crm:pipeline_settings", pk=pipeline.pk)
        pipeline.refresh_from_db()
    template = "crm/pipeline_settings.html"
    if request.htmx:
        template += "#stages"
    context = _settings_context(pipeline) | {"error": error_text if request.htmx else ""}
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
def pipeline_new(request: HttpRequest) -> HttpResponse:
    teams = Team.objects.filter(pk__in=manager_team_ids(request.user)).order_by("name")
    status = 200
    if request.method == "POST":
        team = teams.filter(pk=_uuid(request.POST.get("team"))).first()
        try:
            if team is None:
                raise ValidationError(gettext("Choose one of the teams you manage."))
            pipeline = pipeline_create(
                actor=request.user,
                team=team,
                name=request.POST.get("name", ""),
                currency=request.POST.get("currency", ""),
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            status = 400
        else:
            messages.success(
                request,
                gettext("Pipeline %(name)s created; set its stages here.")
                % {"name": pipeline.name},
            )
            return redirect("crm:pipeline_settings", pk=pipeline.pk)
    context = {"teams": teams, "currencies": CURRENCY_CHOICES, "data": request.POST}
    return render(request, "crm/pipeline_new.html", context, status=status)


def _apply_reason(request: HttpRequest, teams) -> str:
    data = request.POST
    action = data.get("action")
    if action == "add":
        team = teams.filter(pk=_uuid(data.get("team"))).first()
        if team is None:
            raise ValidationError(gettext("Choose one of the teams you manage."))
        reason = lost_reason_add(actor=request.user, team=team, name=data.get("name", ""))
        return gettext("Reason %(name)s added.") % {"name": reason.name}
    if action == "update":
        reason_id = _uuid(data.get("reason"))
        reason = LostReason.objects.filter(team__in=teams, pk=reason_id).first()
        if reason is None:
            raise ValidationError(gettext("Choose one of your teams' reasons."))
        reason = lost_reason_update(
            actor=request.user,
            reason=reason,
            name=data.get("name", ""),
            archived=data.get("archived") == "on",
        )
        return gettext("Reason %(name)s saved.") % {"name": reason.name}
    raise ValidationError(gettext("Unknown action."))


@require_http_methods(["GET", "POST"])
def lost_reasons(request: HttpRequest) -> HttpResponse:
    """The lost reasons of the teams the user manages."""
    teams = Team.objects.filter(pk__in=manager_team_ids(request.user)).order_by("name")
    status = 200
    if request.method == "POST":
        try:
            done = _apply_reason(request, teams)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            status = 400
        else:
            messages.success(request, done)
            return redirect("crm:lost_reasons")
    reasons = LostReason.objects.filter(team__in=teams).order_by(
        "team__name", "archived", "position"
    )
    grouped = [(team, [r for r in reasons if r.team_id == team.pk]) for team in teams]
    return render(request, "crm/lost_reasons.html", {"grouped": grouped}, status=status)


@require_http_methods(["GET", "POST"])
def team_stale_days(request: HttpRequest, pk: UUID) -> HttpResponse:
    """After how many days without activity "My day" lists a team's open deal as stale: a
    form for the team's managers (others: not found)."""
    team = get_object_or_404(Team.objects.filter(pk__in=manager_team_ids(request.user)), pk=pk)
    status = 200
    if request.method == "POST":
        days = _int(request.POST.get("stale_deal_days"))
        try:
            if days is None:
                raise ValidationError(gettext("Give the number of days as a whole number."))
            team = team_stale_deal_days_set(actor=request.user, team=team, days=days)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            status = 400
        else:
            messages.success(
                request,
                gettext("%(team)s: an open deal is stale after %(days)d days without activity.")
                % {"team": team.name, "days": team.stale_deal_days},
            )
            return redirect("crm:lost_reasons")
    return render(request, "crm/team_stale_days.html", {"team": team}, status=status)
