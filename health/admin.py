"""Admin for health data: check-ins are read-only and visible only to staff who were given
the `health.read_checkins` permission on purpose (not even superusers get it implicitly).

`sales_health_metrics` has a composite primary key, which Django's admin refuses; staff with
the explicit permission read it on the read-only page `health:metrics` instead.
"""

from django.contrib import admin
from django.http import HttpRequest

from health.models import CheckIn
from health.permissions import READ_CHECKINS, holds_explicitly


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin):
    list_display = ["date", "user", "stress", "sleep_hours", "energy", "wellness_score"]
    list_filter = ["date"]
    search_fields = ["user__username", "user__display_name"]
    list_select_related = ["user"]
    date_hierarchy = "date"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return holds_explicitly(request.user, READ_CHECKINS)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return holds_explicitly(request.user, READ_CHECKINS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
