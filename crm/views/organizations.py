"""Organization pages: the searchable list, create/edit, the organization page (its contacts,
its deals' totals and its contacts' merged timeline), and the suggestions of the contact
form's organization field."""

from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from coop.htmx import varies_on_htmx
from coop.page_cache import cached_page
from coop.pagination import BoundedPaginator
from coop.paths import path_for_pk
from crm.forms import OrganizationForm, submit_to_service
from crm.models import Contact, Deal, Interaction, Organization, OrganizationSize
from crm.selectors import (
    organization_deal_totals,
    organization_timeline,
    organizations_matching,
    timeline_entry,
)
from crm.services import ORGANIZATION_FIELDS, organization_create, organization_update
from crm.views.bulk import list_context, requested_tags

ORGANIZATIONS_PER_PAGE = 25
ORGANIZATION_OPTIONS_LIMIT = 20
# An organization page lists this many contacts and deals; the contact list, filtered by the
# organization's name, has them all.
ORGANIZATION_PAGE_ROWS = 50


def visible_organization(request: HttpRequest, pk: UUID) -> Organization:
    """The organization if the user may see it; a 404 otherwise."""
    organizations = Organization.objects.visible_to(request.user).select_related("team")
    return get_object_or_404(organizations, pk=pk)


@require_GET
@cached_page
@varies_on_htmx
def organization_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    tags, tag_error = requested_tags(request)
    organizations = organizations_matching(user=request.user, query=query, tags=tags)
    number = request.GET.get("page")
    paginator = BoundedPaginator(
        organizations.prefetch_related("tags"), ORGANIZATIONS_PER_PAGE, page=number
    )
    page = paginator.get_page(number)
    # One reverse() for the rows' paths; the size labels translated once, where
    # get_size_display() translates every choice for each row.
    page.object_list = list(page.object_list)
    organization_path = path_for_pk("crm:organization_detail")
    size_labels = {value: str(label) for value, label in OrganizationSize.choices}
    for organization in page.object_list:
        organization.url = organization_path(organization.pk)
        organization.size_label = size_labels.get(organization.size, organization.size)
    template = "crm/organization_list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    context = {"page_obj": page, "query": query, "tag_error": tag_error}
    return render(request, template, context | list_context(request, "organizations", tags))


@require_GET
def organization_options(request: HttpRequest) -> HttpResponse:
    """`<option>`s of the visible organizations whose name starts with or contains
    `organization`, for the contact form's suggestions."""
    query = request.GET.get("organization", "").strip()
    names = (
        organizations_matching(user=request.user, query=query)
        .values_list("name", flat=True)
        .distinct()[:ORGANIZATION_OPTIONS_LIMIT]
        if query
        else []
    )
    return render(request, "crm/organization_list.html#options", {"names": names})


def _form_page(
    request: HttpRequest, form: OrganizationForm, organization: Organization | None
) -> HttpResponse:
    status = 400 if form.is_bound else 200
    context = {"form": form, "organization": organization}
    return render(request, "crm/organization_form.html", context, status=status)


def _fields(data: dict) -> dict[str, str]:
    return {field: data[field] for field in ORGANIZATION_FIELDS}


@require_http_methods(["GET", "POST"])
def organization_new(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None, user=request.user)
    if form.is_valid():
        organization = submit_to_service(
            form,
            organization_create,
            actor=request.user,
            team=form.cleaned_data["team"],
            **_fields(form.cleaned_data),
        )
        if organization is not None:
            messages.success(
                request, gettext("Organization %(name)s added.") % {"name": organization.name}
            )
            return redirect("crm:organization_detail", pk=organization.pk)
    return _form_page(request, form, None)


@require_http_methods(["GET", "POST"])
def organization_edit(request: HttpRequest, pk: UUID) -> HttpResponse:
    organization = visible_organization(request, pk)
    form = OrganizationForm(request.POST or None, user=request.user, organization=organization)
    if form.is_valid():
        saved = submit_to_service(
            form,
            organization_update,
            actor=request.user,
            organization=organization,
            **_fields(form.cleaned_data),
        )
        if saved is not None:
            messages.success(request, gettext("Organization saved."))
            return redirect("crm:organization_detail", pk=organization.pk)
    return _form_page(request, form, organization)


@require_GET
def organization_detail(request: HttpRequest, pk: UUID) -> HttpResponse:
    organization = visible_organization(request, pk)
    contacts = Contact.objects.visible_to(request.user).filter(organization=organization)
    deals = Deal.objects.visible_to(request.user).filter(contact__organization=organization)
    context = {
        "organization": organization,
        "contact_count": contacts.count(),
        "contacts": contacts.select_related("owner").order_by("name", "id")[
            :ORGANIZATION_PAGE_ROWS
        ],
        "deal_count": deals.count(),
        "deals": deals.select_related("stage", "contact").order_by("-created_at")[
            :ORGANIZATION_PAGE_ROWS
        ],
        "totals": organization_deal_totals(deals=deals),
        "page": organization_timeline(organization=organization),
    }
    return render(request, "crm/organization_detail.html", context)


@require_GET
def organization_timeline_page(request: HttpRequest, pk: UUID) -> HttpResponse:
    """The organization's merged timeline from its newest entry, or after `?after=<entry id>`
    (`#timeline_page`), for its "Show older entries" button."""
    organization = visible_organization(request, pk)
    after = None
    if "after" in request.GET:
        try:
            after_id = UUID(request.GET["after"])
        except ValueError as error:
            raise Http404("No such timeline entry.") from error
        after = timeline_entry(
            after_id=after_id,
            interactions=Interaction.objects.filter(contact__organization=organization),
            link={"organization": organization},
        )
        if after is None:
            raise Http404("No such timeline entry.")
    page = organization_timeline(organization=organization, after=after)
    context = {"organization": organization, "page": page}
    return render(request, "crm/organization_detail.html#timeline_page", context)
