from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from coop.models import Consent, ConsentEvent, Membership, Team, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["team"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "display_name", "email", "time_zone", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_superuser", "is_active", "memberships__role", "teams"]
    search_fields = ["username", "display_name", "first_name", "last_name", "email"]
    fieldsets = (*DjangoUserAdmin.fieldsets, ("Co-op", {"fields": ("display_name", "time_zone")}))
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("Co-op", {"fields": ("display_name", "email", "time_zone")}),
    )
    inlines = [MembershipInline]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "member_count", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(member_total=Count("memberships"))

    @admin.display(description="members", ordering="member_total")
    def member_count(self, team: Team) -> int:
        return team.member_total


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role", "joined_at"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "user__display_name", "team__name"]
    autocomplete_fields = ["user", "team"]
    list_select_related = ["user", "team"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and shows records; nobody adds, edits or deletes them here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["user", "scope", "text_version", "granted_at"]
    list_filter = ["scope"]
    search_fields = ["user__username", "user__display_name"]
    list_select_related = ["user"]


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "scope", "action", "text_version", "method", "actor"]
    list_filter = ["scope", "action", "method"]
    search_fields = ["user__username", "user__display_name"]
    list_select_related = ["user", "actor"]
    date_hierarchy = "at"
