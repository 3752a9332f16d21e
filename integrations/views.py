"""Pages that drive the flows of this layer: closing a deal from its page; a contact's
personal data on request (access and erasure)."""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from coop.visibility import manages_team
from crm.models import Contact, LostReason
from crm.views.contacts import visible_contact
from crm.views.deals import visible_deal
from integrations.deal_closing import deal_close, deal_reopen
from integrations.personal_data import (
    personal_data_erase,
    personal_data_export,
    personal_data_text,
)


@require_POST
def deal_close_view(request: HttpRequest, pk: UUID) -> HttpResponse:
    """Close as won or lost (`outcome`); a closed deal is refused with a message."""
    deal = visible_deal(request, pk)
    outcome = request.POST.get("outcome")
    if outcome not in ("won", "lost"):
        messages.error(request, _("Choose whether the deal was won or lost."))
        return redirect("crm:deal_detail", pk=deal.pk)
    won = outcome == "won"
    reason = _lost_reason(deal, request.POST.get("lost_reason", ""))
    try:
        deal = deal_close(
            actor=request.user,
            deal=deal,
            won=won,
            lost_reason=reason,
            lost_comment=request.POST.get("lost_comment", "")[:2000],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        closed = _("%(deal)s closed as won.") if won else _("%(deal)s closed as lost.")
        messages.success(request, closed % {"deal": deal.title})
    return redirect("crm:deal_detail", pk=deal.pk)


def _lost_reason(deal, value: str) -> LostReason | None:
    """The team's current lost reason named by id in the form, or None (refused by the
    service with a message)."""
    try:
        reason_id = UUID(value)
    except ValueError:
        return None
    return LostReason.objects.filter(
        team_id=deal.pipeline.team_id, archived=False, pk=reason_id
    ).first()


@require_POST
def deal_reopen_view(request: HttpRequest, pk: UUID) -> HttpResponse:
    """A manager reopens a closed deal (a won deal's booked revenue is removed with it)."""
    deal = visible_deal(request, pk)
    try:
        deal = deal_reopen(actor=request.user, deal=deal)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(deal)s is open again, in %(stage)s.")
            % {"deal": deal.title, "stage": deal.stage.name},
        )
    return redirect("crm:deal_detail", pk=deal.pk)


def _handled_contact(request: HttpRequest, pk: UUID) -> Contact:
    """The contact, if the user handles its team's personal data requests; a 404 otherwise."""
    contact = visible_contact(request, pk)
    if not manages_team(request.user, contact.team_id):
        raise Http404(_("No such contact."))
    return contact


@require_GET
def contact_personal_data(request: HttpRequest, pk: UUID) -> HttpResponse:
    """The personal data page, or with `?format=json|txt` the person's data as a file."""
    contact = _handled_contact(request, pk)
    file_format = request.GET.get("format")
    if file_format is None:
        return render(request, "integrations/personal_data.html", {"contact": contact})
    if file_format not in ("json", "txt"):
        raise Http404(_("Unknown format."))
    data = personal_data_export(actor=request.user, contact=contact, file_format=file_format)
    if file_format == "json":
        response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    else:
        response = HttpResponse(personal_data_text(data), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="personal-data-{contact.pk}.{file_format}"'
    )
    return response


@require_POST
def contact_erase(request: HttpRequest, pk: UUID) -> HttpResponse:
    contact = _handled_contact(request, pk)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the confirmation to erase this person's data."))
        return redirect("integrations:contact_personal_data", pk=contact.pk)
    try:
        personal_data_erase(actor=request.user, contact=contact)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("integrations:contact_personal_data", pk=contact.pk)
    messages.success(request, _("The person's data was erased."))
    return redirect("crm:contact_list")
