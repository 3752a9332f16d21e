"""Closing a deal: the CRM + Health + Finance integration of the plan, in one place.

`deal_close` is the only way a deal is won or lost (the deal page and the admin's actions call
it). It touches three modules, so it lives above all of them.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from coop.audit import audit_record
from coop.consent import has_consent
from coop.models import AuditAction, ConsentScope, User
from crm.models import Deal
from crm.services import deal_lock_open, deal_mark_closed
from finance.services import revenue_book_won_deal
from health.services import sales_metric_record, wellness_score_on


@transaction.atomic(durable=True)
def deal_close(*, actor: User, deal: Deal, won: bool) -> Deal:
    """Close an open deal as won or lost, once; everything it writes commits together or not
    at all, and nothing leaves the database before the commit.

    In one outermost transaction it: refuses a deal that is closed already or not visible to
    the actor; records the owner's wellness score of their local day on the deal only when the
    owner allows `ConsentScope.DEAL_WELLNESS`; sets the status, `closed_at` and the won/lost
    stage; books the revenue of a won deal (finance); upserts the owner's
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
        raise ValidationError("The deal changed owner while closing; try again.")
    now = timezone.now()
    owner_day = timezone.localdate(now, owner.zone) if owner else None
    score = None
    if owner and has_consent(owner, ConsentScope.DEAL_WELLNESS, for_update=True):
        score = wellness_score_on(owner, owner_day)
    deal = deal_mark_closed(deal=deal, won=won, at=now, wellness_score=score)
    revenue_book_won_deal(deal=deal)
    if owner:
        sales_metric_record(user=owner, day=owner_day)
    audit_record(actor=actor, action=AuditAction.DEAL_CLOSED, obj=deal, detail={"won": won})
    return deal
