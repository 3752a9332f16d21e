"""Contact pages: the searchable list, create/edit, and the detail page with its timeline."""

from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from coop.htmx import varies_on_htmx
from coop.page_cache import cached_page
from coop.pagination import BoundedPaginator
from coop.paths import path_for_pk
from coop.visibility import manages_team_expression
from crm.forms import ContactForm, InteractionForm, submit_to_service
from crm.models import Contact
from crm.selectors import contacts_matching
from crm.services import CONTACT_FIELDS, contact_create, contact_update, interaction_log
from crm.timeline import timeline_first_page, timeline_later_page
from crm.views.bulk import list_context, requested_tags

CONTACTS_PER_PAGE = 25


def visible_contact(request: HttpRequest, pk: UUID) -> Contact:
    """The contact if the user may see it; a 404 otherwise (never a hint that it exists)."""
    contacts = (
        Contact.objects.visible_to(request.user)
        .select_related("organization", "owner", "team")
        .annotate(handled_by_viewer=manages_team_expression(request.user))
    )
    return get_object_or_404(contacts, pk=pk)


@require_GET
@cached_page
@varies_on_htmx
def contact_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    tags, tag_error = requested_tags(request)
    contacts = contacts_matching(user=request.user, query=query, tags=tags)
    number = request.GET.get("page")
    paginator = BoundedPaginator(contacts.prefetch_related("tags"), CONTACTS_PER_PAGE, page=number)
    page = paginator.get_page(number)
    page.object_list = list(page.object_list)
    contact_path = path_for_pk("crm:contact_detail")  # one reverse(), not one per row
    for contact in page.object_list:
        contact.url = contact_path(contact.pk)
    template = "crm/contact_list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    context = {"page_obj": page, "query": query, "tag_error": tag_error}
    return render(request, template, context | list_context(request, "contacts", tags))


def _contact_form_page(
    request: HttpRequest, form: ContactForm, contact: Contact | None
) -> HttpResponse:
    status = 400 if form.is_bound else 200
    return render(
        request, "crm/contact_form.html", {"form": form, "contact": contact}, status=status
    )


def _contact_fields(data: dict) -> dict[str, str]:
    return {field: data[field] for field in CONTACT_FIELDS}


@require_http_methods(["GET", "POST"])
def contact_new(request: HttpRequest) -> HttpResponse:
    # `?organization=` comes from the organization page's "New contact".
    initial = {"organization": request.GET.get("organization", "")}
    form = ContactForm(request.POST or None, user=request.user, initial=initial)
    if form.is_valid():
        data = form.cleaned_data
        contact = submit_to_service(
            form,
            contact_create,
            actor=request.user,
            team=data["team"],
            organization_name=data["organization"],
            **_contact_fields(data),
        )
        if contact is not None:
            messages.success(request, gettext("Contact %(name)s added.") % {"name": contact.name})
            return redirect("crm:contact_detail", pk=contact.pk)
    return _contact_form_page(request, form, None)


@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: UUID) -> HttpResponse:
    contact = visible_contact(request, pk)
    form = ContactForm(request.POST or None, user=request.user, contact=contact)
    if form.is_valid():
        data = form.cleaned_data
        saved = submit_to_service(
            form,
            contact_update,
            actor=request.user,
            contact=contact,
            organization_name=data["organization"],
            **_contact_fields(data),
        )
        if saved is not None:
            messages.success(request, gettext("Contact saved."))
            return redirect("crm:contact_detail", pk=contact.pk)
    return _contact_form_page(request, form, contact)


def _contact_page(
    request: HttpRequest, contact: Contact, log_form: InteractionForm, status: int = 200
) -> HttpResponse:
    context = {
        "contact": contact,
        "timeline": timeline_first_page(request, contact),
        "log_form": log_form,
        # Staff and the team's managers handle its contacts' personal data requests.
        "handles_personal_data": contact.handled_by_viewer,
        "deals": contact.deals.visible_to(request.user)
        .select_related("stage")
        .only("title", "value_cents", "currency", "status", "stage__name")
        .order_by("-created_at"),
    }
    return render(request, "crm/contact_detail.html", context, status=status)


@require_GET
@cached_page
def contact_detail(request: HttpRequest, pk: UUID) -> HttpResponse:
    return _contact_page(request, visible_contact(request, pk), InteractionForm())


@require_GET
@cached_page
def contact_timeline_page(request: HttpRequest, pk: UUID) -> HttpResponse:
    """The whole timeline (`#timeline`), or with `?after=<entry id>` the next page of entries
    (`#timeline_page`), for the infinite scroll."""
    contact = visible_contact(request, pk)
    if "after" not in request.GET:
        return HttpResponse(timeline_first_page(request, contact))
    try:
        after_id = UUID(request.GET["after"])
    except ValueError as error:
        raise Http404("No such timeline entry.") from error
    html = timeline_later_page(request, contact, after_id)
    if html is None:
        raise Http404("No such timeline entry.")
    return HttpResponse(html)


@require_POST
@varies_on_htmx
def contact_log_interaction(request: HttpRequest, pk: UUID) -> HttpResponse:
    """Log a call, email, meeting or message. Under htmx the form answers alone and fires
    `interactionLogged`, on which the timeline reloads itself in place."""
    contact = visible_contact(request, pk)
    form = InteractionForm(request.POST)
    if form.is_valid():
        interaction = submit_to_service(
            form, interaction_log, actor=request.user, contact=contact, **form.cleaned_data
        )
        if interaction is not None:
            if request.htmx:
                response = render(
                    request,
                    "crm/contact_detail.html#log_form",
                    {"contact": contact, "log_form": InteractionForm(), "logged": interaction},
                )
                return trigger_client_event(response, "interactionLogged")
            messages.success(
                request, gettext("Logged: %(summary)s") % {"summary": interaction.summary}
            )
            return redirect("crm:contact_detail", pk=contact.pk)
    if request.htmx:
        return render(
            request, "crm/contact_detail.html#log_form", {"contact": contact, "log_form": form}
        )
    return _contact_page(request, contact, form, status=400)
