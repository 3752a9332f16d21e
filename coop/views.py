from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from coop.db_router import reads_from_replica


@require_GET
@reads_from_replica
def dashboard(request: HttpRequest) -> HttpResponse:
    memberships = request.user.memberships.select_related("team")
    return render(request, "coop/dashboard.html", {"memberships": memberships})
