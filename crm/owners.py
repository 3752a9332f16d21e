"""Owners of deals, contacts and organizations: a manager hands records of their team to a
member of it, one or many at once; every change is kept (`OwnerChange`, shown on the record's
page), audited, and the new owner is told in their notifications."""

from collections.abc import Sequence
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from calendar_app.services import notification_send
from coop.audit import audit_record
from coop.i18n import in_language_of
from coop.models import AuditAction, Membership, User
from coop.visibility import manager_team_ids, manages_team
from crm.locking import visible_records_lock
from crm.models import Contact, Deal, Organization, OwnedRecord, OwnerChange

OWNED_MODELS: dict[str, type[models.Model]] = {
    OwnedRecord.DEAL: Deal,
    OwnedRecord.CONTACT: Contact,
    OwnedRecord.ORGANIZATION: Organization,
}
# The most records one reassignment takes (a page of the deal list is 25).
MAX_RECORDS = 500


def _record_name(record) -> str:
    return getattr(record, "title", None) or record.name


@transaction.atomic(durable=True)
def owners_reassign(
    *, actor: User, record_type: str, record_ids: Sequence[UUID], owner: User
) -> int:
    """Make `owner` the owner of the given records of one kind; return how many changed.

    All or nothing, in one outermost transaction: refused unless every record is visible to
    the actor, of a team the actor manages, and (for deals) still open, and unless `owner` is
    a member of each record's team. Records that `owner` holds already are left as they are.
    For each change: the row (locked `FOR NO KEY UPDATE`, in primary-key order so two bulk
    reassignments cannot deadlock), an `OwnerChange`, an audit event; then one notification
    to the new owner listing what they were given (none when they gave it to themselves).
    """
    model = OWNED_MODELS.get(record_type)
    if model is None:
        raise ValidationError(gettext("Choose deals, contacts or organizations to reassign."))
    ids = set(record_ids)
    if not ids:
        raise ValidationError(gettext("Choose at least one record to reassign."))
    if len(ids) > MAX_RECORDS:
        raise ValidationError(
            gettext("Reassign at most %(count)s records at once.") % {"count": MAX_RECORDS}
        )
    records = visible_records_lock(
        actor=actor,
        model=model,
        ids=ids,
        error=gettext("Some of these records do not exist or are not visible to you."),
    )
    team_ids = {record.record_team_id for record in records}
    if not all(manages_team(actor, team_id) for team_id in team_ids):
        raise ValidationError(gettext("Only a manager of the team may reassign its records."))
    owner_teams = set(
        Membership.objects.filter(user=owner, team_id__in=team_ids).values_list(
            "team_id", flat=True
        )
    )
    if not owner.is_active or team_ids - owner_teams:
        raise ValidationError(
            gettext("The new owner must be an active member of the records' team.")
        )
    if model is Deal and any(not record.is_open for record in records):
        raise ValidationError(gettext("A closed deal keeps the owner it was closed by."))
    changed = [record for record in records if record.owner_id != owner.pk]
    if not changed:
        return 0
    model.objects.filter(pk__in=[record.pk for record in changed]).update(
        owner=owner, updated_at=timezone.now()
    )
    owner_changes_record(
        actor=actor,
        record_type=record_type,
        records=[(record, record.record_team_id, record.owner_id) for record in changed],
        owner=owner,
    )
    return len(changed)


def owner_changes_record(
    *, actor: User, record_type: str, records: Sequence[tuple], owner: User
) -> None:
    """Keep the history of records just handed to `owner`, inside the caller's transaction:
    `records` are (record, its team id, its former owner id). An `OwnerChange` and an audit
    event each, and one notification to the new owner unless they did it themselves. Also
    called by `crm.services.deal_update` and `contact_update` (the admin's owner field)."""
    now = timezone.now()
    OwnerChange.objects.bulk_create(
        OwnerChange(
            team_id=team_id,
            record_type=record_type,
            record_id=record.pk,
            from_owner_id=former_id,
            to_owner=owner,
            changed_by=actor,
            changed_at=now,
        )
        for record, team_id, former_id in records
    )
    for record, _, former_id in records:
        audit_record(
            actor=actor,
            action=AuditAction.OWNER_CHANGED,
            obj=record,
            detail={"from": str(former_id) if former_id else None, "to": str(owner.pk)},
        )
    if owner.pk != actor.pk and records:
        names = [_record_name(record) for record, _, _ in records]
        with in_language_of(owner):
            shown = ", ".join(names[:10])
            if len(names) > 10:
                shown = gettext("%(names)s and %(count)d more") % {
                    "names": shown,
                    "count": len(names) - 10,
                }
            title = _owner_notice(record_type, len(records)) % {
                "actor": actor,
                "count": len(records),
            }
        notification_send(user=owner, title=title, body=shown)


def _owner_notice(record_type: str, count: int) -> str:
    """The new owner's notice for `count` records of a kind, in the active language."""
    if record_type == OwnedRecord.DEAL:
        return ngettext(
            "%(actor)s made you the owner of %(count)d deal",
            "%(actor)s made you the owner of %(count)d deals",
            count,
        )
    if record_type == OwnedRecord.CONTACT:
        return ngettext(
            "%(actor)s made you the owner of %(count)d contact",
            "%(actor)s made you the owner of %(count)d contacts",
            count,
        )
    return ngettext(
        "%(actor)s made you the owner of %(count)d organization",
        "%(actor)s made you the owner of %(count)d organizations",
        count,
    )


def owner_history(*, record_type: str, record_id: UUID, limit: int = 20) -> list[OwnerChange]:
    """The record's owner changes, newest first (one query)."""
    return list(
        OwnerChange.objects.filter(record_type=record_type, record_id=record_id).select_related(
            "from_owner", "to_owner", "changed_by"
        )[:limit]
    )


def owner_choices(*, actor: User, team_id: UUID | None = None) -> list[User]:
    """The active members of the teams the actor manages (or of `team_id` among them): whom a
    manager may hand records to. Empty for someone who manages no team."""
    teams = manager_team_ids(actor)
    members = Membership.objects.filter(team_id__in=teams, user__is_active=True)
    if team_id is not None:
        members = members.filter(team_id=team_id)
    return list(
        User.objects.filter(pk__in=members.values("user_id")).order_by("display_name", "username")
    )
