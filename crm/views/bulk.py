"""Bulk actions on the rows selected in the contact, organization and deal lists, the tag
filter those lists share, and the tag suggestions of the tag inputs."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_POST

from coop.htmx import varies_on_htmx
from crm.bulk_actions import deals_move, records_assign_owner, records_tag, selected_ids
from crm.forms import BulkActionForm
from crm.selectors import contacts_matching, deals_matching, organizations_matching
from crm.services import records_export
from crm.tagging import TAGGABLE, tag_names_clean, tag_names_visible_to
from crm.views.exchange import CONTENT_TYPES

DETAIL_URLS = {
    "contacts": "crm:contact_detail",
    "organizations": "crm:organization_detail",
    "deals": "crm:deal_detail",
}
LIST_URLS = {
    "contacts": "crm:contact_list",
    "organizations": "crm:organization_list",
    "deals": "crm:deal_list",
}
MATCHING = {
    "contacts": contacts_matching,
    "organizations": organizations_matching,
    "deals": deals_matching,
}
TAG_FILTER_CHOICES = 50


def requested_tags(request: HttpRequest, params: QueryDict | None = None) -> tuple[list[str], str]:
    """The tag names a list is filtered by (`?tag=` once per tag, or `tag` of `params`), and
    an error message for names no tag can have (the list is then shown unfiltered by tags)."""
    try:
        return tag_names_clean((request.GET if params is None else params).getlist("tag")), ""
    except ValidationError as error:
        return [], " ".join(error.messages)


def list_context(request: HttpRequest, kind: str, tags: list[str]) -> dict:
    """What a list page needs for its tag filter and its bulk action bar."""
    return {
        "bulk_kind": kind,
        "bulk_form": BulkActionForm(user=request.user, kind=kind),
        "tag_choices": tag_names_visible_to(request.user, limit=TAG_FILTER_CHOICES),
        "active_tags": tags,
        "back_url": request.get_full_path(),
    }


def _back(request: HttpRequest, kind: str) -> str:
    """Where to go after the action: the list page it came from (with its filters), never
    another address."""
    list_url = reverse(LIST_URLS[kind])
    back = request.POST.get("next", "")
    if back.startswith(list_url) and "\\" not in back and "//" not in back:
        return back
    return list_url


def _refused(request: HttpRequest, kind: str, reasons: list[str]) -> HttpResponse:
    context = {"reasons": reasons, "back_url": _back(request, kind)}
    return render(request, "crm/bulk_refused.html", context, status=400)


def _export(request: HttpRequest, kind: str, ids: list, file_format: str) -> HttpResponse:
    records = MATCHING[kind](user=request.user).filter(pk__in=ids)
    if records.count() != len(ids):
        raise ValidationError(
            gettext("Some selected rows no longer exist or are not visible to you.")
        )
    body = records_export(
        actor=request.user,
        kind=kind,
        records=records,
        file_format=file_format,
        filters={"selected": len(ids)},
    )
    response = StreamingHttpResponse(body, content_type=CONTENT_TYPES[file_format])
    filename = f"{kind}-selected-{timezone.localdate().isoformat()}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
def bulk_action(request: HttpRequest, kind: str) -> HttpResponse:
    """Apply the chosen action to the selected rows (`ids`) in one service call; back to the
    list with what was done, or a 400 page saying why nothing was."""
    form = BulkActionForm(request.POST, user=request.user, kind=kind)
    if not form.is_valid():
        reasons = [
            f"{form.fields[name].label}: {' '.join(errors)}"
            if name != "__all__"
            else " ".join(errors)
            for name, errors in form.errors.items()
        ]
        return _refused(request, kind, reasons)
    data = form.cleaned_data
    action = data["action"]
    try:
        ids = selected_ids(request.POST.getlist("ids"))
        if action == "export":
            return _export(request, kind, ids, data["format"] or "csv")
        if action in ("tags_add", "tags_remove"):
            names = tag_names_clean([data["tags"]])
            add, remove = (names, []) if action == "tags_add" else ([], names)
            count = records_tag(actor=request.user, kind=kind, ids=ids, add=add, remove=remove)
            values = {}
            done = (
                gettext("Tags added to %(records)s.")
                if add
                else gettext("Tags removed from %(records)s.")
            )
        elif action == "owner":
            count = records_assign_owner(
                actor=request.user, kind=kind, ids=ids, owner=data["owner"]
            )
            done, values = gettext("%(owner)s now owns %(records)s."), {"owner": data["owner"]}
        else:
            count = deals_move(actor=request.user, ids=ids, stage=data["stage"])
            done = gettext("Moved to %(stage)s: %(records)s.")
            values = {"stage": data["stage"].name}
    except ValidationError as error:
        return _refused(request, kind, error.messages)
    messages.success(request, done % {**values, "records": _records(kind, count)})
    return redirect(_back(request, kind))


def _records(kind: str, count: int) -> str:
    """`count` records of `kind`, as a sentence names them ("3 contacts")."""
    if kind == "contacts":
        text = ngettext("%(count)s contact", "%(count)s contacts", count)
    elif kind == "organizations":
        text = ngettext("%(count)s organization", "%(count)s organizations", count)
    else:
        text = ngettext("%(count)s deal", "%(count)s deals", count)
    return text % {"count": count}


@require_GET
def tag_options(request: HttpRequest) -> HttpResponse:
    """`<option>`s for a tag input's suggestions: the visible tag names starting with the
    last name being typed in `tags` (names before it are kept in each option's value)."""
    typed = request.GET.get("tags", "")[:500]
    before, _, last = typed.rpartition(",")
    prefix = f"{before.strip()}, " if before.strip() else ""
    options = [
        {"value": f"{prefix}{tag['name']}", "name": tag["name"]}
        for tag in tag_names_visible_to(request.user, prefix=last.strip(), limit=20)
    ]
    return render(request, "crm/partials/tag_options.html", {"options": options})


@require_POST
@varies_on_htmx
def record_tags(request: HttpRequest, kind: str, pk) -> HttpResponse:
    """Add the tag named in `tags` to one visible record, or take the one named in `remove`
    off it (`crm.bulk_actions.records_tag` on a selection of one). Under htmx the tags
    answer alone, with the reason when refused; otherwise back to the record's page."""
    record = get_object_or_404(TAGGABLE[kind].objects.visible_to(request.user), pk=pk)
    add, remove = request.POST.get("tags", ""), request.POST.get("remove", "")
    error = ""
    try:
        records_tag(
            actor=request.user,
            kind=kind,
            ids=[record.pk],
            add=[add] if add else [],
            remove=[remove] if remove else [],
        )
    except ValidationError as refused:
        error = " ".join(refused.messages)
    if not request.htmx:
        if error:
            return _refused_on(request, DETAIL_URLS[kind], record, error)
        return redirect(DETAIL_URLS[kind], pk=record.pk)
    context = {
        "record_tags": record.tags.all(),
        "tags_url": request.path,
        "tag_error": error,
    }
    return render(request, "crm/partials/record_tags.html", context)


def _refused_on(request: HttpRequest, url_name: str, record, error: str) -> HttpResponse:
    context = {"reasons": [error], "back_url": reverse(url_name, args=[record.pk])}
    return render(request, "crm/bulk_refused.html", context, status=400)
