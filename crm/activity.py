"""A deal's last activity, kept on the deal (`Deal.last_activity_at`) so that "My day" finds
the stale deals by a column of the deal and an index, not by three subqueries per open deal
(the definition of *last activity* is in `crm.day`).

The writes that make activity keep it: saving a deal (its own change, a stage move) sets it
to now (`Deal.save`); a note on a deal, a task on a deal ticked done and an interaction with
the deal's contact (up to now) move it forward (`deal_activity_touch`,
`contact_activity_touch`); removing or moving one (a note deleted, a task reopened, a meeting
moved, two contacts merged) computes it again from the records (`deal_activity_refresh`),
as the migration that added it and the demo data do.

What the column cannot know is a meeting scheduled in the future that has since started: the
stale list still checks the contact's interactions since the threshold, for the few deals
the column leaves (`crm.day`).
"""

import datetime

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from crm.models import Deal, Interaction, Note, Task


def last_activity(now: datetime.datetime) -> Greatest:
    """The expression of a deal's last activity, computed from its records (`crm.day`)."""
    last_interaction = Interaction.objects.filter(
        contact_id=OuterRef("contact_id"), timestamp__lte=now
    ).order_by("-timestamp")
    last_note = Note.objects.filter(deal_id=OuterRef("pk")).order_by("-created_at")
    last_done = Task.objects.filter(deal_id=OuterRef("pk"), completed_at__isnull=False).order_by(
        "-completed_at"
    )
    return Greatest(
        F("updated_at"),
        F("stage_entered_at"),
        Coalesce(Subquery(last_interaction.values("timestamp")[:1]), F("created_at")),
        Coalesce(Subquery(last_note.values("created_at")[:1]), F("created_at")),
        Coalesce(Subquery(last_done.values("completed_at")[:1]), F("created_at")),
    )


def deal_activity_touch(deals: QuerySet[Deal], at: datetime.datetime) -> int:
    """Something happened on `deals` at `at` (not in the future): their last activity moves
    forward to it where it was older. Runs in the caller's transaction."""
    if at > timezone.now():
        return 0
    return deals.filter(last_activity_at__lt=at).update(last_activity_at=at)


def contact_activity_touch(contact_id, at: datetime.datetime) -> int:
    """An interaction with a contact at `at`: activity on the contact's deals."""
    return deal_activity_touch(Deal.objects.filter(contact_id=contact_id), at)


def deal_activity_refresh(deals: QuerySet[Deal]) -> int:
    """Compute `deals`' last activity again from their records (after one was removed or
    moved back in time). Runs in the caller's transaction."""
    return deals.update(last_activity_at=last_activity(timezone.now()))
