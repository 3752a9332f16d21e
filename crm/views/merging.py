"""The duplicates page of a team, and the merge of two contacts or two organizations."""

from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from coop.visibility import teams_visible_to
from crm.forms import MergeForm, submit_to_service
from crm.merging import (
    CONTACT_MERGE_FIELDS,
    contact_duplicates,
    contacts_merge,
    organization_duplicates,
    organizations_merge,
)
from crm.models import Contact, Organization
from crm.services import ORGANIZATION_FIELDS


@require_GET
def duplicates(request: HttpRequest) -> HttpResponse:
    """The duplicates of one team the user sees (`?team=`, the first one by default)."""
    teams = teams_visible_to(request.user).order_by("name")
    team = teams.first()
    if team_id := request.GET.get("team"):
        try:
            team = teams.filter(pk=UUID(team_id)).first()
        except ValueError as error:
            raise Http404("No such team.") from error
        if team is None:
            raise Http404("No such team.")
    context = {"teams": teams, "team": team, "contacts": [], "organizations": []}
    if team is not None:
        context["contacts"] = contact_duplicates(team=team)
        context["organizations"] = organization_duplicates(team=team)
    return render(request, "crm/duplicates.html", context)


MERGES = {
    "contact": (Contact, CONTACT_MERGE_FIELDS, contacts_merge),
    "organization": (Organization, ORGANIZATION_FIELDS, organizations_merge),
}


def _merge(request: HttpRequest, what: str, pk: UUID, other: UUID) -> HttpResponse:
    model, fields, merge = MERGES[what]
    visible = model.objects.visible_to(request.user)
    keep = get_object_or_404(visible, pk=pk)
    remove = get_object_or_404(visible.filter(team_id=keep.team_id).exclude(pk=pk), pk=other)
    form = MergeForm(request.POST or None, keep=keep, remove=remove, fields=fields)
    if form.is_valid():
        merged = submit_to_service(
            form, merge, actor=request.user, keep=keep, remove=remove, picks=form.cleaned_data
        )
        if merged is not None:
            messages.success(
                request,
                gettext("%(remove)s was merged into %(keep)s.")
                % {"remove": remove, "keep": merged},
            )
            return redirect(f"crm:{what}_detail", pk=merged.pk)
    context = {"form": form, "keep": keep, "remove": remove, "what": what}
    status = 400 if form.is_bound else 200
    return render(request, "crm/merge.html", context, status=status)


@require_http_methods(["GET", "POST"])
def contact_merge(request: HttpRequest, pk: UUID, other: UUID) -> HttpResponse:
    return _merge(request, "contact", pk, other)


@require_http_methods(["GET", "POST"])
def organization_merge(request: HttpRequest, pk: UUID, other: UUID) -> HttpResponse:
    return _merge(request, "organization", pk, other)
