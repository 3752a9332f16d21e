"""Row locks that several CRM services share."""

from collections.abc import Collection
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import models

from coop.models import User


def visible_records_lock(
    *, actor: User, model: type[models.Model], ids: Collection[UUID], error: str
) -> list:
    """The records of `model` with these ids, each with `record_team_id` (its team's id), all
    of them visible to `actor`, or `ValidationError(error)`.

    Call it inside the caller's transaction. Lock order: the rows are locked
    `FOR NO KEY UPDATE` (only the model's own rows, not those of joined tables) in primary-key
    order, so two actions on overlapping sets of records wait for each other instead of
    deadlocking. When a record is missing or not visible, the error is raised after the query:
    the caller's transaction rolls back and releases the locks it took."""
    wanted = set(ids)
    records = list(
        model.objects.visible_to(actor)
        .filter(pk__in=wanted)
        .annotate(record_team_id=models.F(model.objects.none().team_field))
        .select_for_update(no_key=True, of=("self",))
        .order_by("pk")
    )
    if len(records) != len(wanted):
        raise ValidationError(error)
    return records
