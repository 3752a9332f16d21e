from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from coop.db_router import reads_from_replica


@require_GET
@reads_from_replica
def dashboard(request: HttpRequest) -> HttpResponse:
    memberships = request.user.memberships.select_related("team")
    return render(request, "coop/dashboard.html", {"memberships": memberships})


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the probes, downloads):
    send them to the static icon the pages link to."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


@require_GET
def bench_floor(request: HttpRequest) -> HttpResponse:
    """The benchmark floor of the load test (`benchmarks/loadtest.py`): the least a
    logged-in page costs in this app (session, user and every middleware, no query or
    template of its own), so page throughput can be stated as a share of it."""
    return HttpResponse(f"ok {request.user.pk}", content_type="text/plain")
