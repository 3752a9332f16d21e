"""Pages that drive the flows of this layer: closing a deal from its page."""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from crm.views.deals import visible_deal
from integrations.deal_closing import deal_close


@require_POST
def deal_close_view(request: HttpRequest, pk: UUID) -> HttpResponse:
    """Close as won or lost (`outcome`); a closed deal is refused with a message."""
    deal = visible_deal(request, pk)
    outcome = request.POST.get("outcome")
    if outcome not in ("won", "lost"):
        messages.error(request, "Choose whether the deal was won or lost.")
        return redirect("crm:deal_detail", pk=deal.pk)
    try:
        deal = deal_close(actor=request.user, deal=deal, won=outcome == "won")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{deal.title} closed as {deal.status}.")
    return redirect("crm:deal_detail", pk=deal.pk)
