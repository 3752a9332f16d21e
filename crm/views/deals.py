"""Deal pages: create, edit, detail and move to another stage (closing is
`integrations.views.deal_close_view`)."""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coop.htmx import varies_on_htmx
from coop.page_cache import cached_page
from coop.pagination import BoundedPaginator
from coop.paths import path_for_pk
from coop.visibility import manages_team
from crm.forms import (
    DealCreateForm,
    DealFilterForm,
    DealForm,
    DealMoveForm,
    ForecastCategoryForm,
    contact_label,
    submit_to_service,
)
from crm.models import Contact, Deal, DealStatus, ForecastCategory, LostReason
from crm.selectors import contacts_matching, deals_matching
from crm.services import (
    deal_create,
    deal_forecast_category_set,
    deal_move,
    deal_update,
    may_set_forecast_category,
)
from crm.views.bulk import list_context, requested_tags
from crm.views.pipelines import render_moved


def visible_deal(request: HttpRequest, pk: UUID) -> Deal:
    """The deal if the user may see it; a 404 otherwise."""
    deals = Deal.objects.visible_to(request.user).select_related(
        "pipeline", "stage", "contact", "owner", "wellness_score_user", "lost_reason"
    )
    return get_object_or_404(deals, pk=pk)


DEALS_PER_PAGE = 25


@require_GET
@cached_page
@varies_on_htmx
def deal_list(request: HttpRequest) -> HttpResponse:
    params = request.GET.copy()
    params.setdefault("status", DealStatus.OPEN)
    form = DealFilterForm(params, user=request.user)
    deals = Deal.objects.none()
    tags, tag_error = requested_tags(request)
    if form.is_valid():
        filters = form.cleaned_data
        deals = deals_matching(
            user=request.user,
            query=filters["q"],
            status=filters["status"],
            pipeline=filters["pipeline"],
            stage=filters["stage"],
            tags=tags,
        ).prefetch_related("tags")
    number = request.GET.get("page")
    page = BoundedPaginator(deals, DEALS_PER_PAGE, page=number).get_page(number)
    # Each row's paths from one reverse() each, not two {% url %} per row.
    page.object_list = list(page.object_list)
    deal_path, contact_path = path_for_pk("crm:deal_detail"), path_for_pk("crm:contact_detail")
    for deal in page.object_list:
        deal.url = deal_path(deal.pk)
        deal.contact_url = contact_path(deal.contact_id) if deal.contact_id else ""
    template = "crm/deal_list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    export_query = params.copy()
    export_query.pop("page", None)
    context = {
        "form": form,
        "page_obj": page,
        "export_query": export_query.urlencode(),
        "tag_error": tag_error,
    }
    return render(request, template, context | list_context(request, "deals", tags))


CONTACT_OPTIONS_LIMIT = 20


@require_GET
def deal_contact_options(request: HttpRequest) -> HttpResponse:
    """`<option>`s of the visible contacts matching `contact_search` (optionally of one
    `team`), for the contact field of the deal forms."""
    query = request.GET.get("contact_search", "").strip()
    contacts = (
        contacts_matching(user=request.user, query=query) if query else Contact.objects.none()
    )
    if team_id := request.GET.get("team"):
        try:
            contacts = contacts.filter(team_id=UUID(team_id))
        except ValueError as error:
            raise Http404("No such team.") from error
    options = [(contact.pk, contact_label(contact)) for contact in contacts[:CONTACT_OPTIONS_LIMIT]]
    return render(
        request, "crm/deal_form.html#contact_options", {"options": options, "query": query}
    )


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _deal_form_page(request: HttpRequest, form: DealForm, deal: Deal | None) -> HttpResponse:
    status = 400 if form.is_bound else 200
    return render(request, "crm/deal_form.html", {"form": form, "deal": deal}, status=status)


@require_http_methods(["GET", "POST"])
def deal_new(request: HttpRequest) -> HttpResponse:
    # Prefill from the contact page or a board column; the form offers only allowed choices.
    initial = {key: request.GET[key] for key in ("contact", "stage") if key in request.GET}
    form = DealCreateForm(request.POST or None, user=request.user, initial=initial)
    if form.is_valid():
        stage = form.cleaned_data["stage"]
        deal = submit_to_service(
            form,
            deal_create,
            actor=request.user,
            pipeline=stage.pipeline,
            stage=stage,
            **form.deal_fields(),
        )
        if deal is not None:
            messages.success(
                request,
                gettext("Deal %(title)s opened in %(stage)s.")
                % {"title": deal.title, "stage": stage.name},
            )
            return redirect("crm:deal_detail", pk=deal.pk)
    return _deal_form_page(request, form, None)


@require_http_methods(["GET", "POST"])
def deal_edit(request: HttpRequest, pk: UUID) -> HttpResponse:
    deal = visible_deal(request, pk)
    if not deal.is_open:
        messages.error(
            request,
            gettext("This deal is closed as won; it can no longer change.")
            if deal.status == DealStatus.WON
            else gettext("This deal is closed as lost; it can no longer change."),
        )
        return redirect("crm:deal_detail", pk=deal.pk)
    form = DealForm(request.POST or None, user=request.user, deal=deal)
    if form.is_valid() and submit_to_service(
        form, deal_update, actor=request.user, deal=deal, **form.deal_fields()
    ):
        messages.success(request, gettext("Deal saved."))
        return redirect("crm:deal_detail", pk=deal.pk)
    return _deal_form_page(request, form, deal)


@require_GET
def deal_detail(request: HttpRequest, pk: UUID) -> HttpResponse:
    deal = visible_deal(request, pk)
    move_form = DealMoveForm(deal=deal, initial={"stage": deal.stage_id}) if deal.is_open else None
    category_form = None
    if deal.is_open and may_set_forecast_category(request.user, deal):
        category_form = ForecastCategoryForm(initial={"category": deal.forecast_category})
    team_id = deal.pipeline.team_id
    context = {
        "deal": deal,
        "lost_reasons": LostReason.objects.filter(team_id=team_id, archived=False)
        if deal.is_open
        else (),
        "can_reopen": not deal.is_open and manages_team(request.user, team_id),
        "move_form": move_form,
        "category_form": category_form,
        "category_changes": deal.forecast_category_changes.select_related("changed_by")[:10],
        "stage_visits": deal.stage_visits.all()[:20],
    }
    return render(request, "crm/deal_detail.html", context)


@require_POST
def deal_forecast_category_view(request: HttpRequest, pk: UUID) -> HttpResponse:
    """The owner's (or a manager's) forecast category for an open deal."""
    deal = visible_deal(request, pk)
    form = ForecastCategoryForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose pipeline, best case, commit or omitted."))
        return redirect("crm:deal_detail", pk=deal.pk)
    try:
        deal = deal_forecast_category_set(
            actor=request.user, deal=deal, category=form.cleaned_data["category"]
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        label = ForecastCategory(deal.forecast_category).label
        messages.success(request, gettext("Forecast category: %(label)s.") % {"label": label})
    return redirect("crm:deal_detail", pk=deal.pk)


@require_POST
@varies_on_htmx
def deal_move_view(request: HttpRequest, pk: UUID) -> HttpResponse:
    """Move a deal to another open stage: the board's drag and drop and its keyboard form post
    here with htmx and get the board back; the deal page's form gets a redirect."""
    deal = visible_deal(request, pk)
    form = DealMoveForm(request.POST, deal=deal)
    error, moved = "", None
    if not form.is_valid():
        error = gettext("Choose an open stage of this deal's pipeline.")
    else:
        try:
            moved = deal_move(actor=request.user, deal=deal, stage=form.cleaned_data["stage"])
        except ValidationError as exc:
            error = _error_text(exc)
    if request.htmx:
        status = (
            gettext("Moved %(title)s to %(stage)s.")
            % {"title": deal.title, "stage": moved.stage.name}
            if moved
            else ""
        )
        return render_moved(request, deal, status=status, error=error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, gettext("Moved to %(stage)s.") % {"stage": moved.stage.name})
    return redirect("crm:deal_detail", pk=deal.pk)
