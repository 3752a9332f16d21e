"""Forecast dashboard pages. Every queryset is filtered by what the user may see (anything
else is a 404); writes go through `finance.services`."""

import datetime
import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Max, Q
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from coop.cache import cached_aggregate
from coop.htmx import varies_on_htmx
from coop.models import Team
from coop.money import to_major_units
from coop.visibility import manager_team_ids, manages_team
from crm.models import Deal, Pipeline
from finance import categories, learned, lines, past_periods, scopes, services
from finance import submissions as calls
from finance import targets as quotas
from finance.charts import bar_pairs
from finance.forecasting import interval_model_text
from finance.forms import (
    GenerateForm,
    RevenueEntryForm,
    SubmissionForm,
    TargetForm,
    TargetImportForm,
    WhatIfForm,
)
from finance.models import (
    ForecastDeal,
    ForecastSubmission,
    RevenueEntry,
    RevenueForecast,
    RevenueTarget,
    SubmissionLevel,
)
from finance.periods import PeriodType, period_label, period_start, validate_finance_day
from finance.rates import MissingRateError
from finance.receivers import FINANCE_AGGREGATES

FORECASTS_PER_PAGE = 20
DEALS_PER_PAGE = 50
ENTRIES_PER_PAGE = 30


def _generate_form(request: HttpRequest, data=None) -> GenerateForm:
    return GenerateForm(data, scopes=scopes.forecast_scopes(request.user), user=request.user)


def _index_context(request: HttpRequest, form: GenerateForm) -> dict:
    forecasts = Paginator(scopes.forecasts_visible_to(request.user), FORECASTS_PER_PAGE)
    return {
        "page": forecasts.get_page(request.GET.get("page")),
        "form": form,
        "can_enter_revenue": bool(scopes.finance_team_ids(request.user)),
    }


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "finance/index.html", _index_context(request, _generate_form(request)))


@require_POST
@varies_on_htmx
def generate(request: HttpRequest) -> HttpResponse:
    form = _generate_form(request, request.POST)
    if form.is_valid():
        scope = form.chosen_scope
        try:
            forecast = services.forecast_generate(
                actor=request.user,
                team=scope.team,
                scope_user=scope.user,
                period_type=form.cleaned_data["period_type"],
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
                currency=form.cleaned_data["currency"],
                name=form.cleaned_data["name"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            url = reverse("finance:detail", args=[forecast.pk])
            messages.success(
                request, gettext("Forecast “%(name)s” generated.") % {"name": forecast.name}
            )
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    if request.htmx:
        return render(request, "finance/index.html#generate-form", {"form": form}, status=422)
    return render(request, "finance/index.html", _index_context(request, form), status=422)


def _visible_forecast(request: HttpRequest, pk) -> RevenueForecast:
    return get_object_or_404(scopes.forecasts_visible_to(request.user), pk=pk)


def _whatif_form(
    forecast: RevenueForecast, data=None, open_deals: lines.OpenDeals | None = None
) -> WhatIfForm:
    open_deals = open_deals or lines.open_deal_groups(forecast)
    return WhatIfForm(data, stages=open_deals.stages, currencies=open_deals.currencies)


def _compute_past_and_kpis(forecast: RevenueForecast, open_deals: lines.OpenDeals) -> dict:
    """The past-period comparisons; a missing rate there is shown, not a failure. One rate
    table and one revenue query serve them all."""
    try:
        rates = past_periods.page_rates(forecast)
        own, past = past_periods.revenue_groups(forecast)
        return {
            "actual": past_periods.actual_revenue_by_bucket(forecast, rates, own),
            "past": past_periods.pipeline_vs_actual(forecast, rates, past),
            "kpis": past_periods.financial_kpis(forecast, rates, open_deals.value_cents),
            "accuracy": past_periods.forecast_accuracy(forecast, rates),
        }
    except MissingRateError as error:
        return {"rate_problem": error.messages[0], "actual": {}}


def _past_and_kpis(forecast: RevenueForecast, open_deals: lines.OpenDeals) -> dict:
    """The past-period comparisons and financial KPIs, cached until the next write to deals,
    revenue, targets, rates or forecasts (finance/receivers.py)."""
    return cached_aggregate(
        FINANCE_AGGREGATES,
        (forecast.pk,),
        lambda: _compute_past_and_kpis(forecast, open_deals),
    )


def _period_rows(forecast: RevenueForecast, actual: dict, period_targets: dict) -> list[dict]:
    totals = categories.category_totals(forecast)
    rows = []
    for bucket in forecast.buckets.all():
        target = period_targets.get(bucket.period_start)
        rows.append(
            {
                "bucket": bucket,
                "label": period_label(bucket.period_start, forecast.period_type),
                "actual_cents": actual.get(bucket.period_start),
                "categories": totals.get(bucket.period_start, categories.CategoryTotals()),
                "target_cents": target,
                "attainment": quotas.attainment(bucket.realized_cents, target),
            }
        )
    return rows


def _bucketed_deals_page(request: HttpRequest, forecast: RevenueForecast, rows: list[dict]):
    """The deals page, its count taken from the buckets (every counted deal is in one)."""
    return _deals_page(request, forecast, count=sum(row["bucket"].deal_count for row in rows))


def _chart_data(forecast: RevenueForecast, rows: list[dict], past: list[dict] | None) -> dict:
    def major(cents):
        return None if cents is None else float(to_major_units(cents, forecast.currency))

    return {
        "currency": forecast.currency,
        "labels": [row["label"] for row in rows],
        "expected": [major(row["bucket"].expected_cents) for row in rows],
        "p10": [major(row["bucket"].p10_cents) for row in rows],
        "p90": [major(row["bucket"].p90_cents) for row in rows],
        "actual": [major(row["actual_cents"] or 0) for row in rows],
        "past": {
            "labels": [period_label(p["start"], forecast.period_type) for p in past or []],
            "pipeline": [major(p["pipeline_cents"]) for p in past or []],
            "actual": [major(p["actual_cents"]) for p in past or []],
        },
    }


def _deals_page(request: HttpRequest, forecast: RevenueForecast, count: int | None = None):
    deals = ForecastDeal.objects.filter(forecast=forecast).order_by("on_date", "title")
    paginator = Paginator(deals, DEALS_PER_PAGE)
    if count is not None:
        paginator.count = count  # known already: no COUNT query
    return paginator.get_page(request.GET.get("page"))


@require_GET
@varies_on_htmx
def detail(request: HttpRequest, pk) -> HttpResponse:
    forecast = _visible_forecast(request, pk)
    if request.htmx and request.htmx.target == "forecast-deals":
        context = {"forecast": forecast, "deals": _deals_page(request, forecast)}
        return render(request, "finance/forecast_detail.html#deals", context)
    open_deals = lines.open_deal_groups(forecast)
    extra = _past_and_kpis(forecast, open_deals)
    rows = _period_rows(forecast, extra["actual"], extra.get("kpis", {}).get("period_targets", {}))
    context = {
        "forecast": forecast,
        "rows": rows,
        "category_total": sum((row["categories"] for row in rows), categories.CategoryTotals()),
        "interval": forecast.confidence_interval,
        "interval_model": interval_model_text(forecast.confidence_interval.get("model", "")),
        "chart": _chart_data(forecast, rows, extra.get("past")),
        "deals": _bucketed_deals_page(request, forecast, rows),
        "whatif_form": _whatif_form(forecast, open_deals=open_deals),
        "scenarios": forecast.scenarios.order_by("-created_at"),
        "levers": lines.scenario_levers(forecast),
        "past_empty": not any(
            p["pipeline_cents"] or p["actual_cents"] for p in extra.get("past", [])
        ),
        **extra,
    }
    return render(request, "finance/forecast_detail.html", context)


@require_POST
def whatif(request: HttpRequest, pk) -> HttpResponse:
    """The what-if result and its delta against the forecast; computes, never writes."""
    forecast = _visible_forecast(request, pk)
    form = _whatif_form(forecast, request.POST)
    context = {"forecast": forecast, "whatif_form": form}
    if form.is_valid():
        outcome = services.what_if_outcome(forecast, form.what_if())
        baseline = {b.period_start: b.expected_cents for b in forecast.buckets.all()}
        context["result"] = {
            "total": outcome.total_expected_cents,
            "delta": outcome.total_expected_cents - forecast.total_expected_cents,
            "interval": outcome.interval,
            "rows": [
                {
                    "label": period_label(b.start, forecast.period_type),
                    "baseline": baseline.get(b.start, 0),
                    "expected": b.expected_cents,
                    "delta": b.expected_cents - baseline.get(b.start, 0),
                    "interval": b.interval,
                }
                for b in outcome.buckets
            ],
        }
    return render(request, "finance/forecast_detail.html#whatif-result", context)


@require_POST
def scenario_save(request: HttpRequest, pk) -> HttpResponse:
    forecast = _visible_forecast(request, pk)
    form = _whatif_form(forecast, request.POST)
    if form.is_valid():
        try:
            scenario = services.scenario_save(
                actor=request.user,
                baseline=forecast,
                what_if=form.what_if(),
                name=form.cleaned_data["name"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, gettext("Scenario “%(name)s” saved.") % {"name": scenario.name}
            )
            return redirect("finance:detail", pk=scenario.pk)
    else:
        form_word = gettext("Form")
        problems = "; ".join(
            f"{form.fields[name].label if name in form.fields else form_word}: {' '.join(errs)}"
            for name, errs in form.errors.items()
        )
        messages.error(
            request, gettext("The scenario was not saved. %(problems)s") % {"problems": problems}
        )
    return redirect(reverse("finance:detail", args=[forecast.pk]) + "#what-if")


EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@require_GET
def export(request: HttpRequest, pk, file_format: str) -> StreamingHttpResponse:
    forecast = _visible_forecast(request, pk)
    if file_format not in EXPORT_TYPES:
        raise Http404("Unknown export format")
    body = services.forecast_export(actor=request.user, forecast=forecast, file_format=file_format)
    response = StreamingHttpResponse(body, content_type=EXPORT_TYPES[file_format])
    filename = f"forecast-{slugify(forecast.name) or forecast.pk}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_http_methods(["GET", "POST"])
def revenue(request: HttpRequest) -> HttpResponse:
    """Actual revenue: the entries the user may see, and for finance staff a form to enter
    revenue that did not come from a deal."""
    team_ids = scopes.finance_team_ids(request.user)
    form = None
    if team_ids:
        form = RevenueEntryForm(
            request.POST if request.method == "POST" else None, team_ids=team_ids, user=request.user
        )
    elif request.method == "POST":
        raise Http404("Only finance staff enter revenue")
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.revenue_entry_create(
                actor=request.user,
                team=form.cleaned_data["team"],
                booked_on=form.cleaned_data["booked_on"],
                amount_cents=form.amount_cents(),
                currency=form.cleaned_data["currency"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                gettext("Revenue “%(description)s” recorded.") % {"description": entry.description},
            )
            return redirect("finance:revenue")
    entries = RevenueEntry.objects.visible_to(request.user).select_related("team", "owner")
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    status = 422 if request.method == "POST" else 200
    return render(request, "finance/revenue.html", {"form": form, "page": page}, status=status)


def _targets_page(request: HttpRequest, form, import_form, status: int = 200) -> HttpResponse:
    visible = RevenueTarget.objects.visible_to(request.user).select_related("team", "user")
    page = Paginator(visible.order_by("-period_start", "team__name"), ENTRIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {"form": form, "import_form": import_form, "page": page}
    return render(request, "finance/targets.html", context, status=status)


def _managed_teams(request: HttpRequest):
    return Team.objects.filter(pk__in=manager_team_ids(request.user)).order_by("name")


@require_http_methods(["GET", "POST"])
def targets(request: HttpRequest) -> HttpResponse:
    """Revenue targets: those the user sees and, for managers, forms to set one or import
    many from CSV."""
    managed = _managed_teams(request)
    if not managed.exists():
        if request.method == "POST":
            raise Http404("Only managers set targets")
        return _targets_page(request, None, None)
    data = request.POST if request.method == "POST" else None
    form = TargetForm(data, managed=managed, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            target = services.revenue_target_set(
                actor=request.user,
                team=form.cleaned_data["team"],
                person=form.cleaned_data["person"],
                period_type=form.cleaned_data["period_type"],
                first_day=form.cleaned_data["period_start"],
                amount_cents=form.amount_cents(),
                currency=form.cleaned_data["currency"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, gettext("Target set: %(target)s.") % {"target": target})
            return redirect("finance:targets")
    status = 422 if request.method == "POST" else 200
    return _targets_page(request, form, TargetImportForm(), status=status)


MAX_IMPORT_BYTES = 1_000_000


@require_POST
def targets_import(request: HttpRequest) -> HttpResponse:
    managed = _managed_teams(request)
    if not managed.exists():
        raise Http404("Only managers import targets")
    import_form = TargetImportForm(request.POST, request.FILES)
    if import_form.is_valid():
        upload = import_form.cleaned_data["file"]
        try:
            if upload.size > MAX_IMPORT_BYTES:
                raise ValidationError(gettext("The file is larger than 1 MB."))
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ValidationError(gettext("The file is not UTF-8 text.")) from None
            count = services.revenue_targets_import(actor=request.user, text=text)
        except ValidationError as error:
            import_form.add_error(None, error)
        else:
            messages.success(
                request,
                ngettext("%(count)d target imported.", "%(count)d targets imported.", count)
                % {"count": count},
            )
            return redirect("finance:targets")
    form = TargetForm(managed=managed, user=request.user)
    return _targets_page(request, form, import_form, status=422)


@require_GET
def attainment(request: HttpRequest) -> HttpResponse:
    """The home page's panel: the targets of the periods running today, and how far each is
    reached (loaded by the dashboard with htmx; a fragment on its own)."""
    rows = quotas.current_attainment(request.user)
    return render(request, "finance/targets.html#attainment", {"attainment_rows": rows})


def _submission_period(request: HttpRequest) -> datetime.date:
    """The month asked for (`start`, any day of it), else the current one."""
    today = timezone.localdate(timezone=request.user.zone)
    try:
        day = datetime.date.fromisoformat(request.GET.get("start", ""))
        validate_finance_day(day)
    except (ValueError, ValidationError):
        day = today
    return period_start(day, PeriodType.MONTHLY)


def _submission_team(request: HttpRequest):
    teams = Team.objects.filter(
        Q(memberships__user=request.user) | Q(pk__in=manager_team_ids(request.user))
    ).distinct()
    wanted = request.GET.get("team", "")
    try:
        chosen = teams.filter(pk=uuid.UUID(wanted)).first() if wanted else None
    except ValueError:
        chosen = None
    return chosen or teams.order_by("name").first(), teams.order_by("name")


def _history(team, level: str, submitted_by=None) -> list:
    history = ForecastSubmission.objects.filter(
        team=team, level=level, period_type=PeriodType.MONTHLY
    ).select_related("submitted_by", "team")
    if submitted_by is not None:
        history = history.filter(submitted_by=submitted_by)
    return list(history.order_by("-submitted_at", "-id")[:100])


@require_http_methods(["GET", "POST"])
def submissions(request: HttpRequest) -> HttpResponse:
    """Forecast calls for a month: the user's own number (defaulted from their commit) and,
    for a manager, the reps' numbers rolled up into the team's, adjusted with a comment."""
    team, teams = _submission_team(request)
    first = _submission_period(request)
    if team is None:
        if request.method == "POST":
            raise Http404("No team")
        return render(request, "finance/submissions.html", {"team": None})
    here = f"{reverse('finance:submissions')}?team={team.pk}&start={first.isoformat()}"
    manages = manages_team(request.user, team.pk)
    if request.method == "POST":
        form = SubmissionForm(request.POST)
        if form.is_valid():
            try:
                services.forecast_submit(
                    actor=request.user,
                    team=team,
                    level=form.cleaned_data["level"],
                    period_type=PeriodType.MONTHLY,
                    first_day=first,
                    amount_cents=form.amount_cents(),
                    currency=form.cleaned_data["currency"],
                    comment=form.cleaned_data["comment"],
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, gettext("Number submitted."))
        else:
            messages.error(request, gettext("Enter a number of at least zero and a short comment."))
        return redirect(here)
    own = _history(team, SubmissionLevel.REP, request.user)
    # Numbers are offered in the currency of the team's pipelines (the first by name).
    currency = team.pipelines.order_by("name").values_list("currency", flat=True).first() or "EUR"
    commit = calls.commit_default(
        team=team,
        person=request.user,
        period_type=PeriodType.MONTHLY,
        first=first,
        currency=currency,
    )
    context = {
        "team": team,
        "teams": teams,
        "first": first,
        "commit": commit,
        "currency": currency,
        "own_form": SubmissionForm(
            initial={
                "level": SubmissionLevel.REP,
                "amount": _major(commit, currency),
                "currency": currency,
            }
        ),
        "own_history": own,
        "own_accuracy": _charted(calls.submission_accuracy(own)),
        "manages": manages,
    }
    if manages:
        rollup = calls.team_rollup(team=team, period_type=PeriodType.MONTHLY, first=first)
        total = sum(row.submission.amount_cents for row in rollup if row.submission)
        team_history = _history(team, SubmissionLevel.TEAM)
        rep_history = _history(team, SubmissionLevel.REP)
        context |= {
            "rollup": [
                {
                    "row": row,
                    "accuracy": calls.submission_accuracy(
                        [s for s in rep_history if s.submitted_by_id == row.member.pk]
                    ),
                }
                for row in rollup
            ],
            "rollup_total": total,
            "team_form": SubmissionForm(
                auto_id="team_%s",
                initial={
                    "level": SubmissionLevel.TEAM,
                    "amount": _major(total, currency),
                    "currency": currency,
                },
            ),
            "team_history": team_history,
            "team_accuracy": _charted(calls.submission_accuracy(team_history)),
        }
    return render(request, "finance/submissions.html", context)


# The chart of numbers against what was won shows at most this many months (the table all).
CHART_MONTHS = 12


def _charted(accuracy: dict) -> dict:
    """`accuracy` with the SVG chart of its last CHART_MONTHS rows (none when they mix
    currencies: one axis needs one)."""
    rows = accuracy["rows"][-CHART_MONTHS:]
    if not rows or len({row["currency"] for row in rows}) != 1:
        return accuracy
    chart = bar_pairs(rows, "submitted_cents", "won_cents", "start", rows[0]["currency"])
    return accuracy | {"chart": chart}


def _major(cents: int | None, currency: str):
    return None if cents is None else to_major_units(cents, currency)


@require_GET
def deal_probability(request: HttpRequest, pk) -> HttpResponse:
    """The deal page's row (loaded with htmx): an open deal's learned win probability and
    the record it comes from. Any deal the user may see; others are a 404."""
    deals = Deal.objects.visible_to(request.user).select_related("stage")
    deal = get_object_or_404(deals, pk=pk)
    explanation = learned.deal_explanation(deal) if deal.is_open else None
    context = {"deal": deal, "explanation": explanation}
    return render(request, "finance/deal_probability.html", context)


# How far back the held-out period of the calibration starts, unless `cutoff` says.
HELD_OUT_DAYS = 90


@require_http_methods(["GET", "POST"])
def probabilities(request: HttpRequest) -> HttpResponse:
    """Configured against learned stage probabilities, per pipeline of the teams whose
    figures the user sees: Brier scores and reliability tables on the deals closed from
    `cutoff` (default: 90 days ago), learned from those closed before. Managers choose here
    which a pipeline's forecasts use (POST `pipeline`, `source`)."""
    pipelines = Pipeline.objects.filter(team_id__in=scopes.full_access_team_ids(request.user))
    if request.method == "POST":
        try:
            pipeline = pipelines.get(pk=uuid.UUID(request.POST.get("pipeline", "")))
        except (ValueError, Pipeline.DoesNotExist):
            raise Http404("No such pipeline") from None
        source = request.POST.get("source")
        try:
            if source not in {"learned", "configured"}:
                raise ValidationError(gettext("Choose learned or configured probabilities."))
            services.probability_choice_set(
                actor=request.user, pipeline=pipeline, use_learned=source == "learned"
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                (
                    gettext("%(pipeline)s: forecasts now use learned probabilities.")
                    if source == "learned"
                    else gettext("%(pipeline)s: forecasts now use configured probabilities.")
                )
                % {"pipeline": pipeline.name},
            )
        return redirect("finance:probabilities")
    today = timezone.localdate(timezone=request.user.zone)
    try:
        cutoff = datetime.date.fromisoformat(request.GET.get("cutoff", ""))
        validate_finance_day(cutoff)
    except (ValueError, ValidationError):
        cutoff = today - datetime.timedelta(days=HELD_OUT_DAYS)
    shown = list(
        pipelines.select_related("probability_choice")
        .annotate(fitted_at=Max("learned_records__fitted_at"))
        .order_by("name")[:20]
    )
    context = {
        "can_refit": _managed_teams(request).exists(),
        "cutoff": cutoff,
        "calibrations": [
            (pipeline, learned.pipeline_calibration(pipeline, cutoff)) for pipeline in shown
        ],
        "prior_weight": learned.PRIOR_WEIGHT,
    }
    return render(request, "finance/probabilities.html", context)


@require_POST
def probabilities_refit(request: HttpRequest) -> HttpResponse:
    """Refit now the learned probabilities of the teams the user manages (the nightly
    task's work, on demand)."""
    managed = list(_managed_teams(request).filter(pipelines__isnull=False).distinct())
    if not managed:
        raise Http404("Only managers refit learned probabilities")
    records = sum(services.learned_probabilities_refit(team=team) for team in managed)
    messages.success(
        request,
        ngettext(
            "Learned probabilities refit: %(count)d record for %(teams)s.",
            "Learned probabilities refit: %(count)d records for %(teams)s.",
            records,
        )
        % {"count": records, "teams": ", ".join(team.name for team in managed)},
    )
    return redirect("finance:probabilities")
