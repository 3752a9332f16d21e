"""A person's data on request (GDPR Art. 15 and 17) for a CRM contact: what is stored about
them across the CRM, the calendar and finance, as JSON and as a readable text; and their
erasure across the three in one transaction. Both are for staff and the managers of the
contact's team, and both are audited.

What erasure keeps, and why: the amounts, currencies, dates and stages of the deals linked to
the person, and the revenue booked for them (accounting law requires the books; forecasts are
built on them), without their title, their link to the person or the person's name in the
revenue's description. The meetings they attended keep their times in the organizers'
calendars, without title, description, location or the guest. The audit log keeps every
entry (who did what, when, to which record id), but its entries about the contact or its
deals, or naming the contact's id, lose the person's identity: their summary and identifying
fields read "erased contact #<id>", and the person's name, email address and phone are
replaced wherever they appear in them (`coop.audit.audit_redact`).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from calendar_app.selectors import guest_meetings
from calendar_app.services import guest_erase
from coop.audit import AuditSubject, audit_record, audit_redact
from coop.models import AuditAction, User
from coop.visibility import manages_team
from crm.models import Contact, Deal
from crm.selectors import contact_personal_data
from crm.services import contact_erase_records
from finance.scopes import revenue_of_deals
from finance.services import revenue_deals_anonymise


def _require(actor: User, contact: Contact) -> None:
    if not manages_team(actor, contact.team_id):
        raise ValidationError(
            _("Only staff and the team's managers handle personal data requests.")
        )


def personal_data_export(*, actor: User, contact: Contact, file_format: str) -> dict:
    """Everything stored about the contact (GDPR Art. 15), recorded in the audit log."""
    _require(actor, contact)
    data = contact_personal_data(contact=contact)
    data["meetings"] = guest_meetings(url=reverse("crm:contact_detail", args=[contact.pk]))
    data["revenue"] = revenue_of_deals(deal_ids=[deal["id"] for deal in data["deals"]])
    data["exported_at"] = timezone.now().isoformat()
    audit_record(
        actor=actor,
        action=AuditAction.PERSONAL_DATA_EXPORTED,
        obj=contact,
        detail={"format": file_format},
    )
    return data


def personal_data_text(data: dict) -> str:
    """The export as a text a person reads."""
    return render_to_string("integrations/personal_data.txt", {"data": data})


@transaction.atomic(durable=True)
def personal_data_erase(*, actor: User, contact: Contact) -> dict:
    """Erase the contact (GDPR Art. 17) across the CRM, the calendar and finance in one
    outermost transaction (see the module's docstring for what is kept); the audit entry
    names the contact by id only."""
    contact = Contact.objects.select_for_update().filter(pk=contact.pk).first()
    if contact is None:
        raise ValidationError(_("This contact does not exist any more."))
    _require(actor, contact)
    url = reverse("crm:contact_detail", args=[contact.pk])
    contact_id, team_id = str(contact.pk), contact.team_id
    label = f"erased contact #{contact_id}"
    terms = [contact.name, contact.email, contact.phone]
    event_ids = guest_erase(url=url)
    deal_ids = contact_erase_records(contact=contact)
    revenue = revenue_deals_anonymise(deal_ids=deal_ids)
    subjects = [AuditSubject(Contact._meta.label, contact_id, label)] + [
        AuditSubject(Deal._meta.label, str(deal_id), f"deal of {label}") for deal_id in deal_ids
    ]
    counts = {
        "deals_anonymised": len(deal_ids),
        "revenue_kept": revenue,
        "meetings": len(event_ids),
        "audit_entries_scrubbed": audit_redact(subjects=subjects, terms=terms, label=label),
    }
    audit_record(
        actor=actor,
        action=AuditAction.PERSONAL_DATA_ERASED,
        detail={"contact_id": contact_id, "team_id": str(team_id), **counts},
    )
    return counts
