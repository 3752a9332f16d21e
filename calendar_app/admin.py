"""Admin for calendar records. Changing times here bypasses invitations and reminders (the
services send and re-arm those), so event times are read-only: move meetings in the app."""

from django.contrib import admin

from calendar_app.models import Attendee, CalendarPreference, Event, Notification, Reminder
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
