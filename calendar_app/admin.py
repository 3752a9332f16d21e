"""Admin for calendar records. Changing times here bypasses invitations and reminders (the
services send and re-arm those), so event times are read-only: move meetings in the app."""

from django.contrib import admin, messages
from django.utils.translation import gettext, gettext_lazy

from calendar_app.caldav_sync import account_disconnect, account_failures_reset
from calendar_app.models import (
    Attendee,
    CalDavAccount,
    CalendarPreference,
    Event,
    Notification,
    Reminder,
    RemoteCalendar,
)
from coop.admin import AuditedAdmin


class AttendeeInline(admin.TabularInline):
    model = Attendee
    extra = 0
    fields = ["user", "guest_name", "guest_email", "guest_url", "rsvp", "invited_at"]
    readonly_fields = ["guest_url"]
    raw_id_fields = ["user"]


class ReminderInline(admin.TabularInline):
    model = Reminder
    extra = 0
    fields = ["user", "kind", "due_at", "sent_at"]
    readonly_fields = ["due_at", "sent_at"]
    raw_id_fields = ["user"]


@admin.register(Event)
class EventAdmin(AuditedAdmin):
    list_display = ["title", "organizer", "start_time", "end_time", "status", "sequence"]
    list_filter = ["status", "start_time"]
    search_fields = ["title", "location", "organizer__username", "organizer__display_name"]
    date_hierarchy = "start_time"
    list_select_related = ["organizer"]
    raw_id_fields = ["organizer", "team"]
    readonly_fields = ["start_time", "end_time", "status", "sequence", "created_at", "updated_at"]
    inlines = [AttendeeInline, ReminderInline]


@admin.register(Attendee)
class AttendeeAdmin(AuditedAdmin):
    list_display = ["__str__", "event", "rsvp", "invited_at"]
    list_filter = ["rsvp"]
    search_fields = ["event__title", "guest_name", "guest_email", "user__username"]
    list_select_related = ["event", "user"]
    raw_id_fields = ["event", "user"]
    readonly_fields = ["guest_url"]


@admin.register(Reminder)
class ReminderAdmin(AuditedAdmin):
    list_display = ["event", "user", "kind", "due_at", "sent_at"]
    list_filter = ["kind", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["event__title", "user__username"]
    list_select_related = ["event", "user"]
    raw_id_fields = ["event", "user"]
    readonly_fields = ["sent_at", "created_at"]


@admin.register(Notification)
class NotificationAdmin(AuditedAdmin):
    list_display = ["title", "user", "created_at", "read_at"]
    list_filter = [("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "body", "user__username"]
    list_select_related = ["user"]
    raw_id_fields = ["user", "event"]


@admin.register(CalendarPreference)
class CalendarPreferenceAdmin(AuditedAdmin):
    list_display = ["user", "reminder_minutes"]
    list_filter = ["reminder_minutes"]
    search_fields = ["user__username", "user__display_name"]
    raw_id_fields = ["user"]


class RemoteCalendarInline(admin.TabularInline):
    model = RemoteCalendar
    extra = 0
    fields = ["name", "url", "receives_meetings", "counts_as_busy"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CalDavAccount)
class CalDavAccountAdmin(AuditedAdmin):
    """Support's view of the connected CalDAV accounts: status, last error and failures. The
    app password is no field here, so no page shows it and no log entry names it; the person
    changes their account on their Calendar sync page. "Reset failures" gives stopped
    accounts another try through the same service as a successful test connection;
    deleting one disconnects it (`account_disconnect`)."""

    list_display = [
        "user",
        "server_url",
        "username",
        "status",
        "failure_count",
        "last_error",
        "last_synced_at",
    ]
    list_filter = ["status"]
    search_fields = ["user__username", "user__display_name", "username", "server_url"]
    list_select_related = ["user"]
    fields = [
        "user",
        "server_url",
        "username",
        "status",
        "failure_count",
        "last_error",
        "last_synced_at",
        "next_sync_at",
        "created_at",
    ]
    readonly_fields = fields
    inlines = [RemoteCalendarInline]
    actions = ["reset_failures"]

    def has_add_permission(self, request) -> bool:
        return False  # only the person can connect, with their app password

    @admin.action(description=gettext_lazy("Reset failures and sync again"), permissions=["change"])
    def reset_failures(self, request, queryset) -> None:
        accounts = account_failures_reset(account_ids=queryset.values_list("pk", flat=True))
        for account in accounts:
            self.log_change(request, account, "Reset failures")
        self.message_user(
            request,
            gettext("%(count)d account(s) reset; each syncs again now.") % {"count": len(accounts)},
            messages.SUCCESS,
        )

    def delete_model(self, request, obj) -> None:
        account_disconnect(user=obj.user)

    def delete_queryset(self, request, queryset) -> None:
        for account in queryset.select_related("user"):
            account_disconnect(user=account.user)
