"""The audit log's write API: every module records sensitive actions through `audit_record`.

Recorded: consent grants and revocations, exports, deal closures, forecast generations,
views of health data, and every add, change and delete made in the admin. The entry is
written in the caller's transaction, so an action that rolls back leaves no entry claiming
it happened. Each entry carries the request id of the request that caused it.
"""

from typing import Any

from django.db import models

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
