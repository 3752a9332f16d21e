"""Wellness pages. Every page shows the signed-in person's own data, published team figures
(each of at least `MIN_CONTRIBUTORS` people, never per person), or (the metrics page) daily
figures to staff holding an explicit permission. Each view of team figures is audited."""

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from coop.audit import audit_record
from coop.consent import PURPOSES, consent_grant, consent_revoke, consent_scopes_of
from coop.db_router import reads_from_replica
from coop.htmx import varies_on_htmx
from coop.models import AuditAction, ConsentEvent, ConsentScope
from health import scoring
from health.forms import CheckInForm, ConsentForm, MetricsFilterForm
from health.insights import recommendations_for, team_insights
from health.models import MIN_CONTRIBUTORS, CheckIn, SalesHealthMetric
from health.permissions import VIEW_SALES_HEALTH_METRICS, holds_explicitly
from health.services import (
    INSIGHT_WEEKS,
    STRESS_BANDS,
    allows_recommendations,
    checkin_save,
    insight_member_ids,
    today_for,
)

CHART_DAYS = 90
PAGE_SIZE = 30


@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    """The person's own check-in of today and their history (only ever their own)."""
    user = request.user
    today = today_for(user)
    todays = CheckIn.objects.filter(user=user, date=today).first()
    if request.method == "POST":
        form = CheckInForm(request.POST)
        if form.is_valid():
            checkin_save(user=user, **form.cleaned_data)
            messages.success(
                request,
                gettext("Check-in saved for %(day)s.") % {"day": date_format(today, "l j F")},
            )
            return redirect("health:index")
    else:
        initial = (
            {"stress": todays.stress, "sleep_hours": todays.sleep_hours, "energy": todays.energy}
            if todays
            else {}
        )
        form = CheckInForm(initial=initial)
    history = CheckIn.objects.filter(user=user).order_by("-date")
    page = Paginator(history, PAGE_SIZE).get_page(request.GET.get("page"))
    recent = list(
        history.filter(date__gt=today - timedelta(days=CHART_DAYS)).order_by("date")[:CHART_DAYS]
    )
    chart = {
        "labels": [c.date.isoformat() for c in recent],
        "stress": [c.stress for c in recent],
        "score": [c.wellness_score for c in recent],
    }
    return render(
        request,
        "health/index.html",
        {
            "form": form,
            "today": today,
            "todays": todays,
            "page": page,
            "chart": chart,
            "chart_days": CHART_DAYS,
            "scoring": scoring,
            "can_read_metrics": holds_explicitly(user, VIEW_SALES_HEALTH_METRICS),
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest) -> HttpResponse:
    """Each purpose in plain words, its state, and one button to allow or withdraw it."""
    if request.method == "POST":
        form = ConsentForm(request.POST)
        if not form.is_valid():
            messages.error(request, gettext("That choice was not understood; nothing was changed."))
            return redirect("health:consent")
        scope = ConsentScope(form.cleaned_data["scope"])
        if form.cleaned_data["action"] == "grant":
            consent_grant(user=request.user, scope=scope, method="consent page")
            messages.success(request, gettext("Allowed: %(use)s.") % {"use": scope.label})
        else:
            consent_revoke(user=request.user, scope=scope, method="consent page")
            messages.success(
                request,
                gettext("Withdrawn: %(use)s. %(consequence)s")
                % {"use": scope.label, "consequence": PURPOSES[scope].on_withdrawal},
            )
        return redirect("health:consent")
    granted = consent_scopes_of(request.user)
    purposes = [
        {"scope": scope, "purpose": PURPOSES[scope], "granted": scope.value in granted}
        for scope in ConsentScope
    ]
    events = ConsentEvent.objects.filter(user=request.user).order_by("-at")[:50]
    return render(request, "health/consent.html", {"purposes": purposes, "events": events})


@require_GET
@varies_on_htmx
@reads_from_replica
def insights(request: HttpRequest) -> HttpResponse:
    """The dashboard's wellness insights tab (an htmx fragment; a page of its own without JS).

    Every view is written to the audit log with the teams shown, naming those the viewer is
    not a member of (seen through the explicit `health.view_team_insights` permission).
    """
    user = request.user
    teams = team_insights(user)
    audit_record(
        actor=user,
        action=AuditAction.HEALTH_DATA_VIEWED,
        detail={
            "what": "team wellness insights",
            "teams": [insight.team.name for insight in teams],
            "not_member_of": [insight.team.name for insight in teams if not insight.team.is_member],
        },
    )
    allowed = allows_recommendations(user)
    context = {
        "teams": teams,
        "k": MIN_CONTRIBUTORS,
        "insight_weeks": INSIGHT_WEEKS,
        "stress_bands": STRESS_BANDS,
        "included": user.pk in insight_member_ids([user.pk]),
        "allows_recommendations": allowed,
        "recommendations": recommendations_for(user) if allowed else [],
    }
    template = "health/insights.html#insights" if request.htmx else "health/insights.html"
    return render(request, template, context)


@require_GET
@reads_from_replica
def metrics(request: HttpRequest) -> HttpResponse:
    """Read-only `sales_health_metrics` for staff holding the explicit permission (the admin
    cannot list a composite-key table). Everyone else gets a 404."""
    if not holds_explicitly(request.user, VIEW_SALES_HEALTH_METRICS):
        raise Http404
    form = MetricsFilterForm(request.GET or None)
    rows = SalesHealthMetric.objects.select_related("user").order_by("-date", "user__username")
    if form.is_bound and form.is_valid():
        if form.cleaned_data["username"]:
            rows = rows.filter(user__username__icontains=form.cleaned_data["username"])
        if form.cleaned_data["start"]:
            rows = rows.filter(date__gte=form.cleaned_data["start"])
        if form.cleaned_data["end"]:
            rows = rows.filter(date__lte=form.cleaned_data["end"])
    elif form.is_bound:
        rows = rows.none()
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    audit_record(
        actor=request.user,
        action=AuditAction.HEALTH_DATA_VIEWED,
        detail={"what": "sales health metrics", "query": request.GET.urlencode()},
    )
    return render(request, "health/metrics.html", {"form": form, "page": page})
