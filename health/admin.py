"""Admin for health data: check-ins are read-only and visible only to staff who were given
the `health.read_checkins` permission on purpose (not even superusers get it implicitly).

`sales_health_metrics` has a composite primary key, which Django's admin refuses; staff with
the explicit permission read it on the read-only page `health:metrics` instead.
"""

from django.contrib import admin
from django.http import HttpRequest

from coop.admin import ReadOnlyAdmin
from coop.audit import audit_record
from coop.models import AuditAction
from health.models import CheckIn
from health.permissions import READ_CHECKINS, holds_explicitly


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyAdmin):
    """Every list or record of check-ins a staff member opens is written to the audit log."""

    list_display = ["date", "user", "stress", "sleep_hours", "energy", "wellness_score"]
    list_filter = ["date"]
    search_fields = ["user__username", "user__display_name"]
    list_select_related = ["user"]
    date_hierarchy = "date"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return holds_explicitly(request.user, READ_CHECKINS)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return holds_explicitly(request.user, READ_CHECKINS)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if response.status_code == 200:
            audit_record(
                actor=request.user,
                action=AuditAction.HEALTH_DATA_VIEWED,
                detail={"what": "check-in list", "query": request.GET.urlencode()},
            )
        return response

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200:
            audit_record(
                actor=request.user,
                action=AuditAction.HEALTH_DATA_VIEWED,
                obj=self.get_object(request, object_id),
                detail={"what": "check-in"},
            )
        return response
