"""The one search of the top bar: as you type, the matching records grouped by kind; the same
results as a page when the form is sent (Enter) or the address is shared."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from coop.htmx import varies_on_htmx
from coop.page_cache import cached_page
from crm.search import QUERY_MIN, search_everything, search_query_clean


@require_GET
@cached_page
@varies_on_htmx
def search(request: HttpRequest) -> HttpResponse:
    query = search_query_clean(request.GET.get("q", ""))
    context = {
        "query": query,
        "groups": search_everything(user=request.user, query=query),
        "too_short": len(query) < QUERY_MIN,
    }
    template = "crm/search.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context)
