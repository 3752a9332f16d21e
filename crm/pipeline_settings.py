"""Pipeline settings, for the managers of a team (and staff): pipelines and their stages, and
the team's lost reasons. The settings pages and the admin call these services; each one checks
that the actor manages the team, validates, row-locks the pipeline (so two managers editing
one pipeline take turns), writes, and records an audit event, in one transaction."""

from collections.abc import Sequence
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from coop.audit import audit_record
from coop.models import AuditAction, Team, User
from coop.money import CURRENCY_CHOICES
from coop.validators import require_single_line
from coop.visibility import manages_team
from crm.models import (
    Deal,
    DealStatus,
    LostReason,
    Pipeline,
    PipelineStage,
    StageChange,
    StageChangeKind,
    StageVisit,
    stage_forecast_category,
)
from crm.services import stage_expected_values_refresh, stage_history_refresh

# The stages a new pipeline starts with: (name, probability, is_won, is_lost).
DEFAULT_STAGES = (
    ("Lead", 10, False, False),
    ("Qualified", 30, False, False),
    ("Proposal", 50, False, False),
    ("Negotiation", 80, False, False),
    ("Won", 100, True, False),
    ("Lost", 0, False, True),
)
CURRENCIES = {code for code, _ in CURRENCY_CHOICES}


def require_manager(actor: User, team_id: UUID) -> None:
    if not manages_team(actor, team_id):
        raise ValidationError(gettext("Only a manager of the team may change its pipelines."))


_NAME_MISSING = {
    "pipeline": _("Give the pipeline a name."),
    "stage": _("Give the stage a name."),
    "reason": _("Give the reason a name."),
}
_NAME_TOO_LONG = {
    "pipeline": _("A pipeline name has at most %(count)s characters."),
    "stage": _("A stage name has at most %(count)s characters."),
    "reason": _("A reason name has at most %(count)s characters."),
}


def _clean_name(name: str, what: str, max_length: int) -> str:
    require_single_line(name=name)
    name = name.strip()
    if not name:
        raise ValidationError(str(_NAME_MISSING[what]))
    if len(name) > max_length:
        raise ValidationError(str(_NAME_TOO_LONG[what]) % {"count": max_length})
    return name


def _clean_probability(probability) -> int:
    if not isinstance(probability, int) or isinstance(probability, bool):
        raise ValidationError(gettext("The probability is a whole number from 0 to 100."))
    if not 0 <= probability <= 100:
        raise ValidationError(gettext("The probability is a whole number from 0 to 100."))
    return probability


def _locked_pipeline(actor: User, pipeline: Pipeline) -> Pipeline:
    pipeline = Pipeline.objects.select_for_update(no_key=True).get(pk=pipeline.pk)
    require_manager(actor, pipeline.team_id)
    return pipeline


def _audit(actor: User, obj, change: str, **detail) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.PIPELINE_CHANGED,
        obj=obj,
        detail={"change": change, **detail},
    )


@transaction.atomic
def pipeline_create(
    *, actor: User, team: Team, name: str, currency: str, default_stages: bool = True
) -> Pipeline:
    """A new pipeline of a team the actor manages, with the default stages (see
    DEFAULT_STAGES) unless the caller adds its own (the admin's inline); its name is unique in
    the team."""
    require_manager(actor, team.pk)
    name = _clean_name(name, "pipeline", 120)
    if currency not in CURRENCIES:
        raise ValidationError(gettext("Choose one of the listed currencies."))
    if Pipeline.objects.filter(team=team, name__iexact=name).exists():
        raise ValidationError(gettext("This team already has a pipeline of this name."))
    pipeline = Pipeline.objects.create(team=team, name=name, currency=currency)
    stages = DEFAULT_STAGES if default_stages else ()
    PipelineStage.objects.bulk_create(
        PipelineStage(
            pipeline=pipeline,
            name=stage_name,
            position=position,
            probability=probability,
            is_won=is_won,
            is_lost=is_lost,
        )
        for position, (stage_name, probability, is_won, is_lost) in enumerate(stages)
    )
    stage_expected_values_refresh(pipeline_id=pipeline.pk)
    _audit(actor, pipeline, "created", name=name, currency=currency)
    return pipeline


@transaction.atomic
def pipeline_update(*, actor: User, pipeline: Pipeline, name: str, currency: str) -> Pipeline:
    """Rename a pipeline or change its currency (only while it holds no deal: their values are
    in its currency)."""
    pipeline = _locked_pipeline(actor, pipeline)
    name = _clean_name(name, "pipeline", 120)
    if currency not in CURRENCIES:
        raise ValidationError(gettext("Choose one of the listed currencies."))
    if currency != pipeline.currency and Deal.objects.filter(pipeline=pipeline).exists():
        raise ValidationError(
            gettext("The pipeline holds deals in its currency; its currency stays.")
        )
    twin = Pipeline.objects.filter(team_id=pipeline.team_id, name__iexact=name)
    if twin.exclude(pk=pipeline.pk).exists():
        raise ValidationError(gettext("This team already has a pipeline of this name."))
    before = {"name": pipeline.name, "currency": pipeline.currency}
    pipeline.name, pipeline.currency = name, currency
    pipeline.save(update_fields=["name", "currency"])
    stage_expected_values_refresh(pipeline_id=pipeline.pk)
    _audit(actor, pipeline, "updated", before=before, after={"name": name, "currency": currency})
    return pipeline


def _stage_order(pipeline: Pipeline) -> list[PipelineStage]:
    """The pipeline's stages in board order, archived ones last."""
    return sorted(
        pipeline.stages.all(), key=lambda stage: (stage.is_archived, stage.position, stage.name)
    )


def _renumber(stages: Sequence[PipelineStage]) -> None:
    for position, stage in enumerate(stages):
        if stage.position != position:
            stage.position = position
    PipelineStage.objects.bulk_update(stages, ["position"])


def _require_unique_stage_name(pipeline: Pipeline, name: str, stage: PipelineStage | None) -> None:
    twins = PipelineStage.objects.filter(pipeline=pipeline, name__iexact=name)
    if stage is not None:
        twins = twins.exclude(pk=stage.pk)
    if twins.exists():
        raise ValidationError(gettext("The pipeline already has a stage of this name."))


def _clean_flags(is_won: bool, is_lost: bool) -> None:
    if is_won and is_lost:
        raise ValidationError(gettext("A stage is for won deals or for lost deals, not both."))


@transaction.atomic
def stage_add(
    *,
    actor: User,
    pipeline: Pipeline,
    name: str,
    probability: int,
    is_won: bool = False,
    is_lost: bool = False,
) -> PipelineStage:
    """Add a stage: an open one after the last open stage, a won or lost one at the end."""
    pipeline = _locked_pipeline(actor, pipeline)
    name = _clean_name(name, "stage", 80)
    probability = _clean_probability(probability)
    _clean_flags(is_won, is_lost)
    _require_unique_stage_name(pipeline, name, None)
    stage = PipelineStage.objects.create(
        pipeline=pipeline,
        name=name,
        probability=probability,
        is_won=is_won,
        is_lost=is_lost,
        position=(pipeline.stages.aggregate(top=Max("position"))["top"] or 0) + 1,
    )
    order = _stage_order(pipeline)
    if not stage.is_closing:
        rest = [other for other in order if other.pk != stage.pk]
        last_open = max(
            (i for i, other in enumerate(rest) if not other.is_closing and not other.is_archived),
            default=-1,
        )
        order = [*rest[: last_open + 1], stage, *rest[last_open + 1 :]]
    _renumber(order)
    stage_expected_values_refresh(pipeline_id=pipeline.pk)
    _audit(actor, pipeline, "stage_added", stage=name, probability=probability)
    return stage


@transaction.atomic
def stage_update(
    *,
    actor: User,
    stage: PipelineStage,
    name: str,
    probability: int,
    is_won: bool,
    is_lost: bool,
) -> PipelineStage:
    """Rename a stage, set its probability and whether won or lost deals land in it. A stage
    holding open deals cannot become a won or lost stage, nor one holding closed deals an open
    one."""
    pipeline = _locked_pipeline(actor, stage.pipeline)
    stage = PipelineStage.objects.get(pk=stage.pk)
    name = _clean_name(name, "stage", 80)
    probability = _clean_probability(probability)
    _clean_flags(is_won, is_lost)
    _require_unique_stage_name(pipeline, name, stage)
    deals = Deal.objects.filter(stage=stage)
    if (is_won or is_lost) and deals.filter(status=DealStatus.OPEN).exists():
        raise ValidationError(
            gettext("Open deals are in this stage: move them before it closes deals.")
        )
    if (stage.is_won, stage.is_lost) != (is_won, is_lost) and deals.exclude(
        status=DealStatus.OPEN
    ).exists():
        raise ValidationError(
            gettext("Closed deals are in this stage: its won or lost flag stays.")
        )
    before = {
        "name": stage.name,
        "probability": stage.probability,
        "is_won": stage.is_won,
        "is_lost": stage.is_lost,
    }
    stage.name, stage.probability, stage.is_won, stage.is_lost = name, probability, is_won, is_lost
    stage.save(update_fields=["name", "probability", "is_won", "is_lost"])
    # Deals whose forecast category nobody chose follow their stage's probability.
    Deal.objects.filter(stage=stage, status=DealStatus.OPEN, forecast_category_chosen=False).update(
        forecast_category=stage_forecast_category(stage)
    )
    stage_expected_values_refresh(pipeline_id=pipeline.pk)
    after = {"name": name, "probability": probability, "is_won": is_won, "is_lost": is_lost}
    _audit(actor, pipeline, "stage_updated", stage=str(stage.pk), before=before, after=after)
    return stage


@transaction.atomic
def stages_reorder(*, actor: User, pipeline: Pipeline, stage_ids: Sequence[UUID]) -> None:
    """Put the pipeline's current (not archived) stages in the given order: every one of them,
    each once (the board's columns follow it)."""
    pipeline = _locked_pipeline(actor, pipeline)
    order = _stage_order(pipeline)
    current = [stage for stage in order if not stage.is_archived]
    by_id = {stage.pk: stage for stage in current}
    if len(stage_ids) != len(by_id) or set(stage_ids) != set(by_id):
        raise ValidationError(gettext("The order must name each of the pipeline's stages once."))
    archived = [stage for stage in order if stage.is_archived]
    _renumber([*(by_id[stage_id] for stage_id in stage_ids), *archived])
    _audit(actor, pipeline, "stages_reordered", order=[by_id[i].name for i in stage_ids])


def stage_shift(*, actor: User, stage: PipelineStage, offset: int) -> None:
    """Move a stage one place earlier (-1) or later (+1): the keyboard's reorder."""
    if offset not in (-1, 1):
        raise ValidationError(gettext("Move a stage one place up or down."))
    current = [s for s in _stage_order(stage.pipeline) if not s.is_archived]
    ids = [s.pk for s in current]
    if stage.pk not in ids:
        raise ValidationError(gettext("An archived stage has no place on the board."))
    index = ids.index(stage.pk)
    target = index + offset
    if 0 <= target < len(ids):
        ids[index], ids[target] = ids[target], ids[index]
    stages_reorder(actor=actor, pipeline=stage.pipeline, stage_ids=ids)


@transaction.atomic
def stage_archive(
    *, actor: User, stage: PipelineStage, move_to: PipelineStage | None = None
) -> int:
    """Archive a stage: it takes no new deal and leaves the board, its history stays. Its open
    deals move to `move_to` first (an open, current stage of the same pipeline), each move
    recorded as any other (stage visit and stage change); a stage with open deals and nowhere
    to move them is refused. Returns how many deals moved."""
    pipeline = _locked_pipeline(actor, stage.pipeline)
    stage = PipelineStage.objects.get(pk=stage.pk)
    if stage.is_archived:
        raise ValidationError(gettext("This stage is archived already."))
    current = [s for s in _stage_order(pipeline) if not s.is_archived and s.pk != stage.pk]
    if not stage.is_closing and not any(not s.is_closing for s in current):
        raise ValidationError(gettext("A pipeline keeps at least one open stage."))
    deals = list(
        Deal.objects.select_for_update(no_key=True)
        .filter(stage=stage, status=DealStatus.OPEN)
        .order_by("pk")
    )
    if deals:
        if move_to is None:
            raise ValidationError(
                ngettext(
                    "%(count)s open deal is in this stage: choose the stage to move it to.",
                    "%(count)s open deals are in this stage: choose the stage to move them to.",
                    len(deals),
                )
                % {"count": len(deals)}
            )
        if move_to.pipeline_id != pipeline.pk or move_to.pk == stage.pk:
            raise ValidationError(gettext("Move the deals to another stage of this pipeline."))
        if move_to.is_closing or move_to.is_archived:
            raise ValidationError(gettext("Move the deals to an open, current stage."))
        _deals_move(actor, deals, stage, move_to)
    stage.archived_at = timezone.now()
    stage.save(update_fields=["archived_at"])
    _renumber([*(s for s in _stage_order(pipeline) if not s.is_archived), stage])
    stage_expected_values_refresh(pipeline_id=pipeline.pk)
    _audit(
        actor,
        pipeline,
        "stage_archived",
        stage=stage.name,
        moved=len(deals),
        moved_to=move_to.name if deals else None,
    )
    return len(deals)


def _deals_move(
    actor: User, deals: list[Deal], from_stage: PipelineStage, to_stage: PipelineStage
) -> None:
    """Move locked open deals to another stage in a few statements, keeping their stage visits
    and stage changes as `crm.services.deal_move` does for one."""
    now = timezone.now()
    ids = [deal.pk for deal in deals]
    Deal.objects.filter(pk__in=ids).update(
        stage=to_stage, stage_entered_at=now, updated_at=now, last_activity_at=now
    )
    Deal.objects.filter(pk__in=ids, forecast_category_chosen=False).update(
        forecast_category=stage_forecast_category(to_stage)
    )
    StageVisit.objects.filter(deal_id__in=ids, left_at__isnull=True).update(left_at=now)
    StageVisit.objects.bulk_create(
        StageVisit(deal_id=pk, stage_id=to_stage.pk, stage_name=to_stage.name, entered_at=now)
        for pk in ids
    )
    StageChange.objects.bulk_create(
        StageChange(
            deal_id=pk,
            kind=StageChangeKind.MOVED,
            from_stage_id=from_stage.pk,
            from_stage_name=from_stage.name,
            to_stage_id=to_stage.pk,
            to_stage_name=to_stage.name,
            changed_at=now,
            changed_by=actor,
        )
        for pk in ids
    )
    stage_history_refresh(deals=Deal.objects.filter(pk__in=ids))


@transaction.atomic
def stage_restore(*, actor: User, stage: PipelineStage) -> PipelineStage:
    """Bring an archived stage back, at the end of the current ones of its kind."""
    pipeline = _locked_pipeline(actor, stage.pipeline)
    stage = PipelineStage.objects.get(pk=stage.pk)
    if not stage.is_archived:
        raise ValidationError(gettext("This stage is not archived."))
    stage.archived_at = None
    stage.save(update_fields=["archived_at"])
    order = [s for s in _stage_order(pipeline) if s.pk != stage.pk]
    if stage.is_closing:
        order.insert(sum(1 for s in order if not s.is_archived), stage)
    else:
        last_open = max(
            (i for i, s in enumerate(order) if not s.is_closing and not s.is_archived), default=-1
        )
        order.insert(last_open + 1, stage)
    _renumber(order)
    _audit(actor, pipeline, "stage_restored", stage=stage.name)
    return stage


# Lost reasons


def _audit_reasons(actor: User, team_id: UUID, change: str, **detail) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.LOST_REASONS_CHANGED,
        obj=Team.objects.get(pk=team_id),
        detail={"change": change, **detail},
    )


@transaction.atomic
def lost_reason_add(*, actor: User, team: Team, name: str) -> LostReason:
    """Add a reason to the team's list (managers; unique in the team, whatever the case)."""
    require_manager(actor, team.pk)
    name = _clean_name(name, "reason", 120)
    if LostReason.objects.filter(team=team, name__iexact=name).exists():
        raise ValidationError(gettext("The team has this reason already."))
    top = LostReason.objects.filter(team=team).aggregate(top=Max("position"))["top"]
    reason = LostReason.objects.create(team=team, name=name, position=(top or 0) + 1)
    _audit_reasons(actor, team.pk, "added", reason=name)
    return reason


@transaction.atomic
def lost_reason_update(*, actor: User, reason: LostReason, name: str, archived: bool) -> LostReason:
    """Rename a reason, or archive it (no longer offered; the deals lost for it keep it) or
    bring it back."""
    reason = LostReason.objects.select_for_update(no_key=True).get(pk=reason.pk)
    require_manager(actor, reason.team_id)
    name = _clean_name(name, "reason", 120)
    twins = LostReason.objects.filter(team_id=reason.team_id, name__iexact=name)
    if twins.exclude(pk=reason.pk).exists():
        raise ValidationError(gettext("The team has this reason already."))
    if archived and not reason.archived:
        others = LostReason.objects.filter(team_id=reason.team_id, archived=False)
        if not others.exclude(pk=reason.pk).exists():
            raise ValidationError(gettext("Keep at least one reason: closing as lost needs one."))
    before = {"name": reason.name, "archived": reason.archived}
    reason.name, reason.archived = name, archived
    reason.save(update_fields=["name", "archived"])
    _audit_reasons(
        actor, reason.team_id, "updated", before=before, after={"name": name, "archived": archived}
    )
    return reason


STALE_DEAL_DAYS_MIN, STALE_DEAL_DAYS_MAX = 1, 365


@transaction.atomic(durable=True)
def team_stale_deal_days_set(*, actor: User, team: Team, days: int) -> Team:
    """Set after how many days without activity "My day" lists a team's open deal as stale
    (a manager of the team; 1 to 365 days). Audited with the old and the new value. Locks the
    team row."""
    if not manages_team(actor, team.pk):
        raise ValidationError(gettext("Only a manager of the team may change its settings."))
    if isinstance(days, bool) or not isinstance(days, int):
        raise ValidationError(gettext("Give the number of days as a whole number."))
    if not STALE_DEAL_DAYS_MIN <= days <= STALE_DEAL_DAYS_MAX:
        raise ValidationError(
            gettext("A deal is stale after %(min)d to %(max)d days without activity.")
            % {"min": STALE_DEAL_DAYS_MIN, "max": STALE_DEAL_DAYS_MAX}
        )
    team = Team.objects.select_for_update(no_key=True).get(pk=team.pk)
    before = team.stale_deal_days
    if before != days:
        team.stale_deal_days = days
        team.save(update_fields=["stale_deal_days"])
        audit_record(
            actor=actor,
            action=AuditAction.PIPELINE_CHANGED,
            obj=team,
            detail={"change": "stale_deal_days", "from": before, "to": days},
        )
    return team
