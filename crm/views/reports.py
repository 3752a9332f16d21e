"""The Reports page: funnel, win/loss, velocity, activity and pipeline changes, each a chart
with its table and, with `?format=csv`, the table as a file (definitions in crm/reports.py)."""

from datetime import timedelta

from django import forms
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext, pgettext_lazy
from django.views.decorators.http import require_GET

from coop.audit import audit_record
from coop.dates import validate_supported_date
from coop.models import AuditAction, User
from coop.page_cache import cached_page
from coop.spreadsheets import csv_stream
from coop.visibility import teams_visible_to
from crm.models import Pipeline
from crm.reports import (
    MAX_DAYS,
    REPORTS,
    ReportFilters,
    activity,
    funnel,
    pipeline_changes,
    velocity,
    win_loss,
)

DEFAULT_DAYS = 90
# The reports' names as people read them (crm/reports.py keeps the names' keys and English
# labels; a report missing here shows its English label).
REPORT_LABELS = {
    "funnel": pgettext_lazy("report", "Funnel"),
    "winloss": pgettext_lazy("report", "Win/loss"),
    "velocity": pgettext_lazy("report", "Velocity"),
    "activity": pgettext_lazy("report", "Activity"),
    "changes": pgettext_lazy("report", "Pipeline changes"),
}


def _label(name: str) -> str:
    return REPORT_LABELS.get(name, REPORTS[name])


class ReportFilterForm(forms.Form):
    report = forms.ChoiceField(choices=[(name, _label(name)) for name in REPORTS], required=False)
    pipeline = forms.ModelChoiceField(
        queryset=Pipeline.objects.none(), required=False, empty_label=gettext_lazy("All pipelines")
    )
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label=gettext_lazy("Everyone")
    )
    start = forms.DateField(
        required=False,
        validators=[validate_supported_date],
        label=pgettext_lazy("period start", "From"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        required=False,
        validators=[validate_supported_date],
        label=pgettext_lazy("period end", "To"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pipeline"].queryset = (
            Pipeline.objects.visible_to(user).select_related("team").order_by("team__name", "name")
        )
        self.fields["owner"].queryset = (
            User.objects.filter(is_active=True, memberships__team__in=teams_visible_to(user))
            .distinct()
            .order_by("display_name", "username")
        )

    def clean(self) -> dict:
        data = super().clean()
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError(gettext("The period starts after it ends."))
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(
                ngettext(
                    "Choose a period of at most %(days)s day.",
                    "Choose a period of at most %(days)s days.",
                    MAX_DAYS,
                )
                % {"days": MAX_DAYS}
            )
        data["start"], data["end"] = start, end
        data["report"] = data.get("report") or "funnel"
        return data


def _bars(rows, label, value) -> list[dict]:
    """Horizontal bars of an SVG chart: label, value, width in % of the largest, y offset."""
    values = [value(row) or 0 for row in rows]
    top = max(values, default=0) or 1
    return [
        {"label": label(row), "value": v, "width": round(v / top * 100, 1), "y": i * 28}
        for i, (row, v) in enumerate(zip(rows, values, strict=True))
    ]


def _days(value) -> str:
    return "" if value is None else f"{value:.1f}"


def _report(name: str, viewer: User, filters: ReportFilters) -> dict:
    """The report's data, its chart bars, and its table (header and rows) for the page and
    the CSV file."""
    if name == "funnel":
        rows = funnel(viewer=viewer, filters=filters)
        table = [
            [r.stage, r.entered, r.converted, "" if r.rate is None else f"{r.rate:.0f}"]
            for r in rows
        ]
        return {
            "bars": _bars(rows, lambda r: r.stage, lambda r: r.entered),
            "header": [
                gettext("Stage"),
                gettext("Entered"),
                gettext("Converted to a later stage"),
                gettext("Conversion %"),
            ],
            "table": table,
            "needs_pipeline": filters.pipeline is None,
        }
    if name == "winloss":
        result = win_loss(viewer=viewer, filters=filters)
        sections = []
        table = []
        for title, rows in (
            (gettext("By owner"), result.by_owner),
            (gettext("By lost reason"), result.by_reason),
            (gettext("By stage at loss"), result.by_stage),
        ):
            sections.append(
                {"title": title, "bars": _bars(rows, lambda r: r.label, lambda r: r.won + r.lost)}
            )
            table += [
                [
                    title,
                    r.label,
                    r.currency,
                    r.won,
                    f"{r.won_cents / 100:.2f}",
                    r.lost,
                    f"{r.lost_cents / 100:.2f}",
                    "" if r.win_rate is None else f"{r.win_rate:.0f}",
                ]
                for r in rows
            ]
        header = [
            gettext("Group"),
            gettext("Label"),
            gettext("Currency"),
            pgettext("deal status", "Won"),
            gettext("Won value"),
            pgettext("deal status", "Lost"),
            gettext("Lost value"),
            gettext("Win %"),
        ]
        return {"sections": sections, "header": header, "table": table}
    if name == "velocity":
        result = velocity(viewer=viewer, filters=filters)
        table = [[r.stage, r.stays, _days(r.median_days), _days(r.p90_days)] for r in result.stages]
        if result.cycle_deals:
            table.append(
                [
                    gettext("Sales cycle (won deals)"),
                    result.cycle_deals,
                    _days(result.cycle_median_days),
                    _days(result.cycle_p90_days),
                ]
            )
        return {
            "bars": _bars(result.stages, lambda r: r.stage, lambda r: r.median_days),
            "header": [
                gettext("Stage"),
                gettext("Stays ended"),
                gettext("Median days"),
                gettext("P90 days"),
            ],
            "table": table,
        }
    if name == "activity":
        rows = activity(viewer=viewer, filters=filters)
        # The chart: each person's total over the period (a bar per person and week would be
        # hundreds of bars for a year); the table keeps the weeks.
        totals: dict[str, int] = {}
        for r in rows:
            totals[r.person] = totals.get(r.person, 0) + r.interactions + r.meetings + r.tasks_done
        return {
            "bars": _bars(
                sorted(totals.items(), key=lambda item: (-item[1], item[0])),
                lambda item: item[0],
                lambda item: item[1],
            ),
            "header": [
                gettext("Week of"),
                gettext("Person"),
                gettext("Calls, emails and messages"),
                gettext("Meetings"),
                gettext("Tasks done"),
            ],
            "table": [
                [f"{r.week:%Y-%m-%d}", r.person, r.interactions, r.meetings, r.tasks_done]
                for r in rows
            ],
        }
    changes = pipeline_changes(viewer=viewer, filters=filters)
    return {
        "bars": _bars(changes, lambda c: c.kind, lambda c: c.deals),
        "header": [gettext("Change"), gettext("Count")],
        "table": [[c.kind, c.deals] for c in changes],
        "changes": changes,
    }


@require_GET
@cached_page
def reports(request: HttpRequest) -> HttpResponse:
    form = ReportFilterForm(request.GET or None, user=request.user)
    if not request.GET:
        form = ReportFilterForm({"report": "funnel"}, user=request.user)
    context = {"form": form, "reports": REPORTS}
    if not form.is_valid():
        return render(request, "crm/reports.html", context, status=400)
    data = form.cleaned_data
    pipeline = data["pipeline"]
    if pipeline is None and data["report"] == "funnel":
        pipeline = form.fields["pipeline"].queryset.first()
    filters = ReportFilters(
        start=data["start"],
        end=data["end"],
        zone=timezone.get_current_timezone(),
        pipeline=pipeline,
        owner=data["owner"],
    )
    result = _report(data["report"], request.user, filters)
    if request.GET.get("format") == "csv":
        audit_record(
            actor=request.user,
            action=AuditAction.EXPORTED,
            detail={"report": data["report"], "filters": request.GET.dict()},
        )
        rows = [result["header"], *result["table"]]
        response = StreamingHttpResponse(csv_stream(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="report-{data["report"]}-{filters.start}-{filters.end}.csv"'
        )
        return response
    query = request.GET.copy()
    query["format"] = "csv"
    context |= {
        "report": data["report"],
        "filters": filters,
        "result": result,
        "csv_query": query.urlencode(),
        "report_label": _label(data["report"]),
        "tabs": [(name, _label(name), _with(request.GET, report=name)) for name in REPORTS],
    }
    return render(request, "crm/reports.html", context)


def _with(params, **changes) -> str:
    query = params.copy()
    query.pop("format", None)
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()
