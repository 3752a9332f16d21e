"""Closing a deal: the CRM + Health + Finance integration of the plan, in one place.

`deal_close` is the only way a deal is won or lost, and `deal_reopen` the only way back (the
deal page and the admin's actions call them). They touch three modules, so they live above
all of them.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coop.audit import audit_record
from coop.consent import has_consent
from coop.models import AuditAction, ConsentScope, User
from crm.models import Deal, DealStatus, LostReason
from crm.services import deal_lock_closed, deal_lock_open, deal_mark_closed, deal_mark_reopened
from finance.services import revenue_book_won_deal, revenue_unbook_deal
from health.services import sales_metric_record, wellness_score_on


@transaction.atomic(durable=True)
def deal_close(
    *,
    actor: User,
    deal: Deal,
    won: bool,
    lost_reason: LostReason | None = None,
    lost_comment: str = "",
) -> Deal:
    """Close an open deal as won or lost, once; everything it writes commits together or not
    at all, and nothing leaves the database before the commit.

    In one outermost transaction it: refuses a deal that is closed already or not visible to
    the actor; records the owner's wellness score of their local day on the deal only when the
    owner allows `ConsentScope.DEAL_WELLNESS`; sets the status, `closed_at` and the won/lost
    stage; for a lost deal, its reason (required: one of the team's current lost reasons) and
    the optional comment; books the revenue of a won deal (finance); upserts the owner's
    `sales_health_metrics` row of the day (health, under its own consent rule); and writes the
    audit event.

    Lock order (the same as `coop.consent.consent_revoke`, so the two never deadlock): the
    owner's user row (`FOR NO KEY UPDATE`, which still lets foreign-key checks on it through),
    then the deal row (`FOR NO KEY UPDATE`), then the owner's consent row (`FOR SHARE`-like
    `FOR UPDATE` read by `has_consent`), then their metrics row (upsert).
    """
    owner_id = Deal.objects.filter(pk=deal.pk).values_list("owner_id", flat=True).first()
    owner = (
        User.objects.select_for_update(no_key=True).filter(pk=owner_id).first()
        if owner_id
        else None
    )
    deal = deal_lock_open(actor=actor, deal=deal)
    if deal.owner_id != owner_id:
        raise ValidationError(_("The deal changed owner while closing; try again."))
    now = timezone.now()
    owner_day = timezone.localdate(now, owner.zone) if owner else None
    score = None
    if owner and has_consent(owner, ConsentScope.DEAL_WELLNESS, for_update=True):
        score = wellness_score_on(owner, owner_day)
    deal = deal_mark_closed(
        deal=deal,
        won=won,
        at=now,
        wellness_score=score,
        actor=actor,
        lost_reason=lost_reason,
        lost_comment=lost_comment,
    )
    revenue_book_won_deal(deal=deal)
    if owner:
        sales_metric_record(user=owner, day=owner_day)
    detail = {"won": won}
    if not won:
        detail |= {"lost_reason": lost_reason.name, "comment": deal.lost_comment}
    audit_record(actor=actor, action=AuditAction.DEAL_CLOSED, obj=deal, detail=detail)
    return deal


@transaction.atomic(durable=True)
def deal_reopen(*, actor: User, deal: Deal) -> Deal:
    """Reopen a closed deal: only a manager of its team (or staff); all or nothing.

    In one outermost transaction it: puts the deal back in the open stage it was closed from
    (crm), removes the revenue a won deal booked (finance), recomputes the owner's
    `sales_health_metrics` row of the closing day (health; it no longer counts the deal), and
    writes the audit event with the outcome that was undone.

    Lock order, as in `deal_close`: the owner's user row, then the deal row.
    """
    owner_id = Deal.objects.filter(pk=deal.pk).values_list("owner_id", flat=True).first()
    owner = (
        User.objects.select_for_update(no_key=True).filter(pk=owner_id).first()
        if owner_id
        else None
    )
    deal = deal_lock_closed(actor=actor, deal=deal)
    if deal.owner_id != owner_id:
        raise ValidationError(_("The deal changed owner while reopening; try again."))
    was = deal.status
    closed_at = deal.closed_at
    detail = {"was": was}
    if was == DealStatus.LOST and deal.lost_reason_id:
        detail["lost_reason"] = deal.lost_reason.name
    if was == DealStatus.WON:
        revenue_unbook_deal(deal=deal)
    deal = deal_mark_reopened(actor=actor, deal=deal, at=timezone.now())
    if owner:
        sales_metric_record(user=owner, day=timezone.localdate(closed_at, owner.zone))
    audit_record(actor=actor, action=AuditAction.DEAL_REOPENED, obj=deal, detail=detail)
    return deal
