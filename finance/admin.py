"""Admin for finance records. Forecast deals (composite primary key) cannot be registered:
Django 6.1's admin refuses such models, so they are shown on the forecast page and in its
exports, and here as a read-only summary on each forecast."""

from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy, ngettext

from coop.admin import AuditedAdmin, ReadOnlyAdmin
from coop.money import format_money
from crm.models import PipelineStage
from finance.models import (
    ExchangeRate,
    ForecastBucket,
    ForecastSubmission,
    LearnedRecord,
    RevenueEntry,
    RevenueForecast,
    RevenueTarget,
)


class ForecastBucketInline(admin.TabularInline):
    model = ForecastBucket
    extra = 0
    can_delete = False
    fields = [
        "period_start",
        "period_end",
        "deal_count",
        "expected_cents",
        "realized_cents",
        "p10_cents",
        "p50_cents",
        "p90_cents",
        "low95_cents",
        "high95_cents",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RevenueForecast)
class RevenueForecastAdmin(AuditedAdmin):
    """Forecasts are computed snapshots: they are read here, deleted if need be, never edited."""

    list_display = [
        "name",
        "team",
        "scope_user",
        "period_type",
        "start_date",
        "end_date",
        "expected",
        "created_at",
    ]
    list_filter = ["period_type", "team", "currency", ("baseline", admin.EmptyFieldListFilter)]
    search_fields = ["name", "team__name", "scope_user__username", "user__username"]
    date_hierarchy = "created_at"
    list_select_related = ["team", "scope_user"]
    inlines = [ForecastBucketInline]

    def get_readonly_fields(self, request, obj=None):
        return ["page_link", *(f.name for f in self.model._meta.concrete_fields)]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description=gettext_lazy("Expected"), ordering="total_expected_cents")
    def expected(self, obj: RevenueForecast) -> str:
        return format_money(obj.total_expected_cents, obj.currency)

    @admin.display(description=gettext_lazy("Forecast page (with its deals)"))
    def page_link(self, obj: RevenueForecast) -> str:
        count = obj.deals.count()
        words = ngettext(
            "%(count)d deal on the forecast page", "%(count)d deals on the forecast page", count
        ) % {"count": count}
        return format_html('<a href="{}">{}</a>', reverse("finance:detail", args=[obj.pk]), words)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(AuditedAdmin):
    list_display = ["date", "base", "quote", "rate"]
    list_filter = ["base", "quote"]
    search_fields = ["base", "quote"]
    date_hierarchy = "date"


@admin.register(RevenueEntry)
class RevenueEntryAdmin(AuditedAdmin):
    list_display = ["booked_on", "description", "team", "source", "amount", "owner"]
    list_filter = ["source", "team", "currency"]
    search_fields = ["description", "team__name", "owner__username", "deal__title"]
    date_hierarchy = "booked_on"
    list_select_related = ["team", "owner"]
    raw_id_fields = ["deal", "owner", "created_by"]

    @admin.display(description=gettext_lazy("Amount"), ordering="amount_cents")
    def amount(self, obj: RevenueEntry) -> str:
        return format_money(obj.amount_cents, obj.currency)


@admin.register(RevenueTarget)
class RevenueTargetAdmin(AuditedAdmin):
    list_display = ["team", "user", "period_type", "period_start", "amount"]
    list_filter = ["period_type", "team"]
    search_fields = ["team__name", "user__username"]
    raw_id_fields = ["user"]

    @admin.display(description=gettext_lazy("Target"), ordering="amount_cents")
    def amount(self, obj: RevenueTarget) -> str:
        return format_money(obj.amount_cents, obj.currency)


@admin.register(ForecastSubmission)
class ForecastSubmissionAdmin(ReadOnlyAdmin):
    """Forecast calls are kept forever as they were submitted (`finance.services.forecast_submit`
    adds them): listed and shown here, never added, edited or deleted."""

    list_display = [
        "submitted_at",
        "team",
        "submitted_by",
        "level",
        "period_type",
        "period_start",
        "amount",
        "commit",
    ]
    list_filter = ["level", "period_type", "team", "currency"]
    search_fields = ["submitted_by__username", "submitted_by__display_name", "team__name"]
    date_hierarchy = "submitted_at"
    list_select_related = ["team", "submitted_by"]

    @admin.display(description=gettext_lazy("Amount"), ordering="amount_cents")
    def amount(self, obj: ForecastSubmission) -> str:
        return format_money(obj.amount_cents, obj.currency)

    @admin.display(description=gettext_lazy("Commit offered"), ordering="commit_cents")
    def commit(self, obj: ForecastSubmission) -> str:
        return "" if obj.commit_cents is None else format_money(obj.commit_cents, obj.currency)


@admin.register(LearnedRecord)
class LearnedRecordAdmin(ReadOnlyAdmin):
    """The records behind the learned probabilities, as the last refit
    (`finance.services.learned_probabilities_refit`) left them: read here, never edited."""

    list_display = ["pipeline", "stage", "band_days", "wins", "closed", "fitted_at"]
    list_filter = ["pipeline", "band_days"]
    search_fields = ["pipeline__name"]
    list_select_related = ["pipeline"]
    ordering = ["pipeline__name", "stage_id", "band_days"]

    def get_queryset(self, request):
        stage_name = PipelineStage.objects.filter(pk=OuterRef("stage_id")).values("name")[:1]
        return super().get_queryset(request).annotate(stage_name=Subquery(stage_name))

    @admin.display(description=gettext_lazy("Stage"), ordering="stage_name")
    def stage(self, obj: LearnedRecord) -> str:
        """The stage's name; its id when the stage is gone since the refit."""
        return obj.stage_name or str(obj.stage_id)
