"""Duplicates and their merge: two contacts, or two organizations, become one.

Finding them (`contact_duplicates`, `organization_duplicates`) is a read for the duplicates
page: contacts with the same phone number (digits compared) or similar names (rapidfuzz) in
the same organization; organizations with the same domain or similar names. Merging
(`contacts_merge`, `organizations_merge`) is one outermost transaction: everything that
pointed at the record that goes (timeline entries, deals, meeting attendances, contacts) moves
to the one that stays, which takes the value the person picked for each field; the merge is
recorded in the audit log with both records' values.
"""

import re
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rapidfuzz import fuzz

from calendar_app.services import guests_relink
from coop.audit import audit_record
from coop.models import AuditAction, Team, User
from crm.activity import deal_activity_refresh
from crm.meeting_scheduling import contact_guest
from crm.models import Contact, Deal, Interaction, Note, Organization, Task
from crm.services import (
    CONTACT_FIELDS,
    ORGANIZATION_FIELDS,
    contact_timelines_touch,
    require_visible,
)

SIMILAR_NAMES = 85  # rapidfuzz token_sort_ratio from which two names look like one
MAX_PAIRS = 200
MAX_GROUP = 500  # names compared pairwise within one organization at most
CONTACT_MERGE_FIELDS = (*CONTACT_FIELDS, "organization")


@dataclass(frozen=True)
class DuplicatePair:
    first: object
    second: object
    reason: str


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)[-9:]


def _similar_pairs(items: list[tuple[str, object]], reason: str) -> list[tuple]:
    pairs = []
    for index, (name, pk) in enumerate(items[:MAX_GROUP]):
        for other_name, other_pk in items[index + 1 : MAX_GROUP]:
            if fuzz.token_sort_ratio(name, other_name) >= SIMILAR_NAMES:
                pairs.append((pk, other_pk, reason))
    return pairs


def _pairs_to_records(records, pairs: list[tuple]) -> list[DuplicatePair]:
    pairs = list(dict.fromkeys((a, b, r) for a, b, r in pairs if a != b))[:MAX_PAIRS]
    ids = {pk for a, b, _ in pairs for pk in (a, b)}
    records = records.in_bulk(list(ids))
    return [DuplicatePair(records[a], records[b], reason) for a, b, reason in pairs]


def contact_duplicates(*, team: Team) -> list[DuplicatePair]:
    """Pairs of the team's contacts that look like one person (at most MAX_PAIRS): the same
    phone number, or similar names in the same organization. (The same email address cannot
    happen: a constraint keeps it unique in a team.)"""
    by_phone: dict[str, list] = defaultdict(list)
    by_organization: dict[object, list] = defaultdict(list)
    rows = Contact.objects.filter(team=team).values_list("pk", "name", "phone", "organization_id")
    for pk, name, phone, organization_id in rows.order_by("name", "pk").iterator():
        if len(digits := _digits(phone)) >= 6:
            by_phone[digits].append(pk)
        if organization_id is not None:
            by_organization[organization_id].append((" ".join(name.casefold().split()), pk))
    pairs = [
        (group[0], other, _("same phone number"))
        for group in by_phone.values()
        for other in group[1:]
    ]
    for group in by_organization.values():
        pairs += _similar_pairs(group, _("similar names in the same organization"))
    return _pairs_to_records(Contact.objects.select_related("organization"), pairs)


def organization_duplicates(*, team: Team) -> list[DuplicatePair]:
    """Pairs of the team's organizations that look like one: the same domain, or similar
    names."""
    by_domain: dict[str, list] = defaultdict(list)
    names = []
    for pk, name, domain in (
        Organization.objects.filter(team=team).values_list("pk", "name", "domain").order_by("name")
    ):
        if domain:
            by_domain[domain].append(pk)
        names.append((" ".join(name.casefold().split()), pk))
    pairs = [
        (group[0], other, _("same domain")) for group in by_domain.values() for other in group[1:]
    ]
    pairs += _similar_pairs(names, _("similar names"))
    return _pairs_to_records(Organization.objects.all(), pairs)


_MERGE_SAME = {
    "contact": _("Pick two different contacts to merge."),
    "organization": _("Pick two different organizations to merge."),
}
_MERGE_GONE = {
    "contact": _("This contact does not exist any more."),
    "organization": _("This organization does not exist any more."),
}
_MERGE_TEAMS = {
    "contact": _("Only contacts of the same team can be merged."),
    "organization": _("Only organizations of the same team can be merged."),
}


def _locked_pair(model, actor: User, keep, remove, what: str):
    if keep.pk == remove.pk:
        raise ValidationError(str(_MERGE_SAME[what]))
    # Both rows locked in primary-key order, so two merges of the same pair never deadlock.
    locked = model.objects.select_for_update().in_bulk([keep.pk, remove.pk])
    if len(locked) != 2:
        raise ValidationError(str(_MERGE_GONE[what]))
    keep, remove = locked[keep.pk], locked[remove.pk]
    for record in (keep, remove):
        require_visible(model.objects, actor, record, what)
    if keep.team_id != remove.team_id:
        raise ValidationError(str(_MERGE_TEAMS[what]))
    return keep, remove


def _tags_move(keep, remove) -> int:
    """Give `keep` the tags of `remove` it lacks (both of one team); how many it gained."""
    missing = list(remove.tags.exclude(pk__in=keep.tags.values("pk")))
    keep.tags.add(*missing)
    return len(missing)


def _pick(keep, remove, fields: tuple[str, ...], picks: dict[str, str]) -> dict:
    """Give `keep` the value picked for each field ("keep" or "remove"; "keep" by default);
    the values of both, as the audit log keeps them."""
    values = {}
    for name in fields:
        mine, theirs = getattr(keep, name), getattr(remove, name)
        values[name] = {"kept": str(mine or ""), "removed": str(theirs or "")}
        if picks.get(name) == "remove":
            setattr(keep, name, theirs)
    return values


@transaction.atomic(durable=True)
def contacts_merge(
    *, actor: User, keep: Contact, remove: Contact, picks: dict[str, str]
) -> Contact:
    """Merge `remove` into `keep`, two visible contacts of one team, in one outermost
    transaction: every timeline entry, deal, task, note, meeting attendance and tag of
    `remove` moves to `keep`; `keep` takes the value picked for each field (`picks[field]` =
    "keep" or "remove"); `remove` is deleted and the merge recorded in the audit log."""
    keep, remove = _locked_pair(Contact, actor, keep, remove, "contact")
    values = _pick(keep, remove, CONTACT_MERGE_FIELDS, picks)
    moved = {
        "interactions": Interaction.objects.filter(contact=remove).update(contact=keep),
        "deals": Deal.objects.filter(contact=remove).update(contact=keep),
        "tasks": Task.objects.filter(contact=remove).update(contact=keep),
        "notes": Note.objects.filter(contact=remove).update(contact=keep),
        "tags": _tags_move(keep, remove),
    }
    deal_activity_refresh(Deal.objects.filter(contact=keep))
    removed_url = reverse("crm:contact_detail", args=[remove.pk])
    removed = {"id": str(remove.pk), "name": remove.name}
    # Deleted first: `keep` may take its email address, unique in the team.
    remove.delete()
    keep.save()
    moved["meeting_attendances"] = guests_relink(old_url=removed_url, guest=contact_guest(keep))
    contact_timelines_touch(contacts=Contact.objects.filter(pk=keep.pk))
    audit_record(
        actor=actor,
        action=AuditAction.MERGED,
        obj=keep,
        detail={"removed": removed, "fields": values, "moved": moved},
    )
    return keep


@transaction.atomic(durable=True)
def organizations_merge(
    *, actor: User, keep: Organization, remove: Organization, picks: dict[str, str]
) -> Organization:
    """Merge `remove` into `keep`, two visible organizations of one team, in one outermost
    transaction: its contacts, tasks, notes and tags move to `keep`, which takes the value picked
    for each field;
    `remove` is deleted and the merge recorded in the audit log."""
    keep, remove = _locked_pair(Organization, actor, keep, remove, "organization")
    values = _pick(keep, remove, ORGANIZATION_FIELDS, picks)
    moved = {
        "contacts": Contact.objects.filter(organization=remove).update(organization=keep),
        "tasks": Task.objects.filter(organization=remove).update(organization=keep),
        "notes": Note.objects.filter(organization=remove).update(organization=keep),
        "tags": _tags_move(keep, remove),
    }
    removed = {"id": str(remove.pk), "name": remove.name}
    remove.delete()
    keep.full_clean(exclude=["team"], validate_constraints=False)
    keep.save()
    audit_record(
        actor=actor,
        action=AuditAction.MERGED,
        obj=keep,
        detail={"removed": removed, "fields": values, "moved": moved},
    )
    return keep
