from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from coop.db_router import reads_from_replica


@require_GET
@reads_from_replica
def dashboard(request: HttpRequest) -> HttpResponse:
    memberships = request.user.memberships.select_related("team")
    return render(request, "coop/dashboard.html", {"memberships": memberships})


@require_GET
def bench_floor(request: HttpRequest) -> HttpResponse:
    """The benchmark floor of the load test (`benchmarks/loadtest.py`): the least a
    logged-in page costs in this app (session, user and every middleware, no query or
    template of its own), so page throughput can be stated as a share of it."""
    return HttpResponse(f"ok {request.user.pk}", content_type="text/plain")
