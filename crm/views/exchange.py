"""Export of the contact, organization and deal lists as they are filtered on their pages."""

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from crm.forms import DealFilterForm
from crm.models import DealStatus
from crm.selectors import contacts_matching, deals_matching, organizations_matching
from crm.services import EXPORT_FORMATS, records_export
from crm.tagging import tag_names_clean

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _filtered(request: HttpRequest, kind: str):
    """The records of the list page with the same query string, and the filters applied."""
    try:
        tags = tag_names_clean(request.GET.getlist("tag"))
    except ValidationError as error:
        raise Http404("No such tags.") from error
    if kind == "deals":
        params = request.GET.copy()
        params.setdefault("status", DealStatus.OPEN)
        form = DealFilterForm(params, user=request.user)
        if not form.is_valid():
            raise Http404("No such deals.")
        data = form.cleaned_data
        records = deals_matching(
            user=request.user,
            query=data["q"],
            status=data["status"],
            pipeline=data["pipeline"],
            stage=data["stage"],
            tags=tags,
        )
        filters = {name: str(value or "") for name, value in data.items()}
        filters["tags"] = ", ".join(tags)
        return records, {name: value for name, value in filters.items() if value}
    query = request.GET.get("q", "").strip()
    matching = contacts_matching if kind == "contacts" else organizations_matching
    filters = {"q": query, "tags": ", ".join(tags)}
    records = matching(user=request.user, query=query, tags=tags)
    return records, {name: value for name, value in filters.items() if value}


@require_GET
def records_export_view(request: HttpRequest, kind: str):
    """`?format=csv` (the default) or `xlsx`, with the list page's filters."""
    file_format = request.GET.get("format", "csv")
    if file_format not in EXPORT_FORMATS:
        raise Http404("Unknown export format")
    records, filters = _filtered(request, kind)
    body = records_export(
        actor=request.user, kind=kind, records=records, file_format=file_format, filters=filters
    )
    response = StreamingHttpResponse(body, content_type=CONTENT_TYPES[file_format])
    filename = f"{kind}-{timezone.localdate().isoformat()}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
