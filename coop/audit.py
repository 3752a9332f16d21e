"""The audit log's write API: every module records sensitive actions through `audit_record`.

Recorded: consent grants and revocations, exports, deal closures, forecast generations,
views of health data, and every add, change and delete made in the admin. The entry is
written in the caller's transaction, so an action that rolls back leaves no entry claiming
it happened. Each entry carries the request id of the request that caused it.
"""

import re
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models import Q

from coop.models import AuditAction, AuditEvent, User
from coop.observability import current_request_id


def audit_record(
    *,
    actor: User | None,
    action: AuditAction,
    obj: models.Model | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one entry to the audit log (joins the caller's transaction, if any)."""
    authenticated = actor is not None and actor.is_authenticated
    request_id = current_request_id()
    return AuditEvent.objects.create(
        actor_id=actor.pk if authenticated else None,
        actor_name=actor.get_username() if authenticated else "",
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        detail=detail or {},
        request_id="" if request_id == "-" else request_id,
    )


# Keys of an entry's detail that hold what identifies the record the entry is about.
IDENTIFYING_KEYS = frozenset({"name", "email", "phone", "job_title", "notes", "title", "user"})
_REDACTION_SETTING = "coop.audit_redaction"


@dataclass(frozen=True)
class AuditSubject:
    """A record whose entries lose what identifies a person: `label` replaces their summary
    (`object_repr`)."""

    object_type: str  # a model label, e.g. "crm.Contact"
    object_id: str
    label: str


def audit_redact(*, subjects: list[AuditSubject], terms: list[str], label: str) -> int:
    """Scrub a person's identity from the audit log (GDPR erasure), inside the caller's
    transaction; the number of entries changed.

    Each entry stays (who did what, when, to which record id); what changes is its summary
    and its detail. Entries about a subject get the subject's `label` as summary, and `label`
    in place of each text under an identifying key of their detail (`IDENTIFYING_KEYS`).
    Entries whose detail names a subject's id (e.g. a merge that removed it) get `label` in
    place of the identifying fields of the part that names it. In both, and in the summaries, every
    occurrence of one of the person's `terms` (name, email address, phone; case-insensitive)
    becomes `label`.

    This is the one change the append-only log allows: on PostgreSQL the trigger lets an
    UPDATE through only when `coop.audit_redaction` is on for the transaction and nothing
    but `object_repr` and `detail` changes (coop migration 0006)."""
    terms = sorted({term.strip() for term in terms if len(term.strip()) >= 3}, key=len)[::-1]
    pattern = re.compile("|".join(map(re.escape, terms)), re.IGNORECASE) if terms else None
    ids = {subject.object_id for subject in subjects}
    about = Q()
    mentioning = Q()
    for subject in subjects:
        about |= Q(object_type=subject.object_type, object_id=subject.object_id)
        mentioning |= Q(detail__icontains=subject.object_id)
    if not subjects:
        return 0
    labels = {(s.object_type, s.object_id): s.label for s in subjects}

    def scrub(value, whole: bool, identifying: bool = False):
        """`value` without the person; `identifying`: under an identifying key of a part
        about a subject, where every text goes."""
        if isinstance(value, dict):
            whole = whole or any(str(item) in ids for item in value.values())
            return {
                key: scrub(item, whole, identifying or (whole and key in IDENTIFYING_KEYS))
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [scrub(item, whole, identifying) for item in value]
        if isinstance(value, str) and value and identifying:
            return label
        if isinstance(value, str) and pattern is not None:
            return pattern.sub(label, value)
        return value

    changed = []
    for entry in AuditEvent.objects.filter(about | mentioning).order_by("occurred_at"):
        own = labels.get((entry.object_type, entry.object_id))
        summary = own if own is not None else scrub(entry.object_repr, False)
        detail = scrub(entry.detail, own is not None)
        if (summary, detail) != (entry.object_repr, entry.detail):
            changed.append((entry.pk, summary[:200], detail))
    if not changed:
        return 0
    _redaction(True)
    for pk, summary, detail in changed:
        AuditEvent.objects.filter(pk=pk).update(object_repr=summary, detail=detail)
    _redaction(False)
    return len(changed)


def _redaction(on: bool) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config(%s, %s, true)", [_REDACTION_SETTING, "on" if on else "off"]
            )
