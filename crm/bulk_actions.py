"""Bulk actions on the rows selected in a list: add or remove tags, assign an owner, move deals
to another stage. Each is one service call, in one outermost transaction, recorded in the
audit log as one entry naming every record it changed (a new owner: the owners' service,
which audits and keeps the history of each record): either every selected row is changed, or
(a row not visible, a closed deal, an owner outside a team) none is and the person is told
why. Exporting the selected rows goes through `crm.services.records_export`, audited there.

Locks: the selected rows, in primary-key order (`FOR NO KEY UPDATE`), so two bulk actions on
overlapping selections wait for each other instead of deadlocking.
"""

from collections.abc import Iterable
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext

from coop.audit import audit_record
from coop.models import AuditAction, User
from crm.locking import visible_records_lock
from crm.models import (
    Deal,
    DealStatus,
    OwnedRecord,
    Pipeline,
    PipelineStage,
    StageChangeKind,
    StageVisit,
    Tag,
    stage_forecast_category,
)
from crm.owners import owners_reassign
from crm.services import stage_change_record, stage_expected_values_refresh
from crm.tagging import TAGGABLE, tag_names_clean, team_tags_get_or_create

# The most rows one action changes: a page of a list is 25, "select all" selects a page.
BULK_MAX = 500
OWNED_RECORD_TYPES = {
    "contacts": OwnedRecord.CONTACT,
    "organizations": OwnedRecord.ORGANIZATION,
    "deals": OwnedRecord.DEAL,
}


def selected_ids(values: Iterable[str]) -> list[UUID]:
    """The ids of the selected rows, each once; `ValidationError` for none, too many, or one
    that is not an id."""
    ids: dict[UUID, None] = {}
    for value in values:
        try:
            ids[UUID(str(value))] = None
        except ValueError as error:
            raise ValidationError(
                gettext("The selection holds something that is not a record.")
            ) from error
    if not ids:
        raise ValidationError(gettext("Select at least one row first."))
    if len(ids) > BULK_MAX:
        raise ValidationError(
            gettext("Select at most %(count)s rows at once.") % {"count": BULK_MAX}
        )
    return list(ids)


def _lock_selected(*, actor: User, model: type[models.Model], ids: list[UUID]) -> list:
    """The selected records, row-locked in primary-key order, each with `record_team_id`
    (`crm.locking.visible_records_lock`)."""
    return visible_records_lock(
        actor=actor,
        model=model,
        ids=ids,
        error=gettext(
            "Some selected rows no longer exist or are not visible to you: nothing was changed."
        ),
    )


def _audit(*, actor: User, kind: str, action: str, records: list, **detail) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.BULK_CHANGED,
        detail={
            "records": kind,
            "action": action,
            "count": len(records),
            "ids": [str(record.pk) for record in records],
            **detail,
        },
    )


def _model_for(kind: str, kinds: dict[str, type[models.Model]]) -> type[models.Model]:
    if kind not in kinds:
        raise ValidationError(gettext("This action does not apply to these records."))
    return kinds[kind]


@transaction.atomic(durable=True)
def records_tag(
    *, actor: User, kind: str, ids: list[UUID], add: list[str] = (), remove: list[str] = ()
) -> int:
    """Add the tags named in `add` (created in each record's team when the team has no tag of
    that name yet) to the selected records, and take those named in `remove` off them.
    Returns the number of records. A tag is only ever put on a record of its own team."""
    model = _model_for(kind, TAGGABLE)
    add, remove = tag_names_clean(add), tag_names_clean(remove)
    if not add and not remove:
        raise ValidationError(gettext("Type the name of at least one tag."))
    records = _lock_selected(actor=actor, model=model, ids=ids)
    link = model.tags.through
    record_field = model._meta.model_name
    if add:
        by_team: dict[UUID, list] = {}
        for record in records:
            by_team.setdefault(record.record_team_id, []).append(record)
        links = []
        for team_id, team_records in by_team.items():
            for tag in team_tags_get_or_create(team_id=team_id, names=add):
                links += [link(**{record_field: record, "tag": tag}) for record in team_records]
        link.objects.bulk_create(links, ignore_conflicts=True)
    if remove:
        lowered = [name.lower() for name in remove]
        tag_ids = (
            Tag.objects.filter(team_id__in={record.record_team_id for record in records})
            .annotate(lower_name=Lower("name"))
            .filter(lower_name__in=lowered)
            .values("pk")
        )
        link.objects.filter(
            **{f"{record_field}__in": [record.pk for record in records]},
            tag__in=tag_ids,
        ).delete()
    _audit(actor=actor, kind=kind, action="tags", records=records, added=add, removed=remove)
    return len(records)


def records_assign_owner(*, actor: User, kind: str, ids: list[UUID], owner: User) -> int:
    """Make `owner` the owner of the selected contacts, organizations or open deals: the
    owners' service (`crm.owners.owners_reassign`: a manager of the records' team, an active
    member of it as the new owner, open deals only, all or nothing, each change kept in the
    owner history and audited, the new owner notified). Returns the records that changed."""
    if kind not in OWNED_RECORD_TYPES:
        raise ValidationError(
            gettext("Choose contacts, organizations or deals to give a new owner.")
        )
    return owners_reassign(
        actor=actor, record_type=OWNED_RECORD_TYPES[kind], record_ids=ids, owner=owner
    )


@transaction.atomic(durable=True)
def deals_move(*, actor: User, ids: list[UUID], stage: PipelineStage) -> int:
    """Move the selected open deals to `stage`, an open stage of the pipeline they are all in:
    each leaves its stage visit and starts the next (a deal already there is left as it
    is), takes the stage's forecast category unless someone chose one, and the pipeline's
    expected values are refreshed once; each move is kept in the stage history
    (`crm_deal_stage_changes`). Returns the number of deals moved."""
    if not Pipeline.objects.visible_to(actor).filter(pk=stage.pipeline_id).exists():
        raise ValidationError(gettext("This stage does not exist or is not visible to you."))
    if stage.is_closing:
        raise ValidationError(
            gettext("Use “Close as won” or “Close as lost” on each deal to close it.")
        )
    deals = _lock_selected(actor=actor, model=Deal, ids=ids)
    if any(deal.pipeline_id != stage.pipeline_id for deal in deals):
        raise ValidationError(
            gettext(
                "Every selected deal must be in the pipeline of “%(stage)s”: nothing was moved."
            )
            % {"stage": stage.name}
        )
    if any(deal.status != DealStatus.OPEN for deal in deals):
        raise ValidationError(gettext("Closed deals cannot move: select open deals only."))
    now = timezone.now()
    moving = [deal for deal in deals if deal.stage_id != stage.pk]
    stages = {s.pk: s for s in PipelineStage.objects.filter(pipeline_id=stage.pipeline_id)}
    for deal in moving:
        stage_change_record(
            deal=deal,
            kind=StageChangeKind.MOVED,
            from_stage=stages.get(deal.stage_id),
            to_stage=stage,
            at=now,
            by=actor,
        )
        deal.stage = stage
        deal.stage_entered_at = now
        if not deal.forecast_category_chosen:
            deal.forecast_category = stage_forecast_category(stage)
        deal.save(update_fields=["stage", "stage_entered_at", "forecast_category", "updated_at"])
    StageVisit.objects.filter(deal__in=moving, left_at__isnull=True).update(left_at=now)
    StageVisit.objects.bulk_create(
        StageVisit(deal=deal, stage_id=stage.pk, stage_name=stage.name, entered_at=now)
        for deal in moving
    )
    stage_expected_values_refresh(pipeline_id=stage.pipeline_id)
    _audit(actor=actor, kind="deals", action="stage", records=moving, stage=str(stage.pk))
    return len(moving)
