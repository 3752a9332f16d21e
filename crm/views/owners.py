"""Owners: the owner card of a deal, contact or organization page (who owns it, the history of
owners, and for a manager the form to hand it to someone else) and the reassignment itself,
for one record or many (the deal list's bulk form)."""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_POST

from coop.models import User
from coop.visibility import manages_team
from crm.models import OwnedRecord
from crm.owners import OWNED_MODELS, owner_choices, owner_history, owners_reassign


@require_GET
def owner_card(request: HttpRequest, record_type: str, pk: UUID) -> HttpResponse:
    model = OWNED_MODELS.get(record_type)
    if model is None:
        raise Http404("No such kind of record.")
    record = get_object_or_404(
        model.objects.visible_to(request.user).select_related("owner"), pk=pk
    )
    team_id = model.objects.filter(pk=pk).values_list(model.objects.none().team_field, flat=True)[0]
    may_reassign = manages_team(request.user, team_id) and getattr(record, "is_open", True)
    context = {
        "record_type": record_type,
        "record": record,
        "changes": owner_history(record_type=record_type, record_id=record.pk),
        "owner_options": owner_choices(actor=request.user, team_id=team_id) if may_reassign else [],
        "next": request.GET.get("next", ""),
    }
    return render(request, "crm/partials/owner_card.html", context)


def _next_url(request: HttpRequest, record_type: str) -> str:
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(
        {
            OwnedRecord.DEAL: "crm:deal_list",
            OwnedRecord.CONTACT: "crm:contact_list",
            OwnedRecord.ORGANIZATION: "crm:organization_list",
        }.get(record_type, "crm:deal_list")
    )


@require_POST
def owners_reassign_view(request: HttpRequest) -> HttpResponse:
    """Reassign the records named in `ids` (of kind `record_type`) to `owner`."""
    record_type = request.POST.get("record_type", "")
    target = _next_url(request, record_type)
    try:
        ids = [UUID(value) for value in request.POST.getlist("ids")]
        owner = User.objects.filter(pk=UUID(request.POST.get("owner", ""))).first()
    except ValueError:
        ids, owner = None, None
    if ids is None or owner is None:
        messages.error(request, gettext("Choose the records and their new owner."))
        return HttpResponseRedirect(target)
    try:
        changed = owners_reassign(
            actor=request.user, record_type=record_type, record_ids=ids, owner=owner
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if changed:
            messages.success(
                request,
                ngettext(
                    "%(owner)s now owns %(count)s more record.",
                    "%(owner)s now owns %(count)s more records.",
                    changed,
                )
                % {"owner": owner, "count": changed},
            )
        else:
            messages.info(request, gettext("%(owner)s owned these already.") % {"owner": owner})
    return HttpResponseRedirect(target)
