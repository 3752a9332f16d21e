from django import forms
from django.contrib import admin, messages
from django.contrib.admin import actions
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db import IntegrityError, router, transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponseRedirect

from coop.audit import audit_record
from coop.models import AuditAction, AuditEvent, Consent, ConsentEvent, Membership, Team, User
from coop.validators import validate_single_line

# What the admin says when the database refuses a delete (other rows still refer to it).
DELETE_REFUSED = (
    "Nothing was deleted: other records still refer to it (for example a team's contacts or "
    "pipelines). Move or delete those first."
)


class SingleLineTextMixin:
    """For a ModelAdmin or an inline: each one-line text box refuses control characters, as
    the app's forms do (`coop.validators`); team, pipeline and stage names are typed here."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if isinstance(formfield, forms.CharField) and isinstance(formfield.widget, forms.TextInput):
            formfield.validators.append(validate_single_line)
        return formfield


class AuditedAdmin(SingleLineTextMixin, admin.ModelAdmin):
    """Base of every ModelAdmin of the project: each add, change and delete made in the admin
    also goes to the audit log (a test checks that every registered admin inherits this)."""

    def log_addition(self, request, obj, message):
        audit_record(actor=request.user, action=AuditAction.ADMIN_ADDED, obj=obj)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        audit_record(
            actor=request.user,
            action=AuditAction.ADMIN_CHANGED,
            obj=obj,
            detail={"changes": message} if message else None,
        )
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            audit_record(actor=request.user, action=AuditAction.ADMIN_DELETED, obj=obj)
        return super().log_deletions(request, queryset)

    def delete_view(self, request, object_id, extra_context=None):
        """Django's delete page (one transaction, with its log): a delete the database refuses
        when it commits is a message on the record's page, not a server error."""
        try:
            return super().delete_view(request, object_id, extra_context)
        except IntegrityError:
            self.message_user(request, DELETE_REFUSED, messages.ERROR)
            return HttpResponseRedirect(request.path.removesuffix("delete/") or "../")


class ServiceAdmin(AuditedAdmin):
    """An admin whose `save_model` writes through the module's services, so the admin keeps
    the rules the pages keep. A `ValidationError` a service raises there is shown on the form,
    like the form's own errors, and nothing is written: the exception rolls back the view's
    transaction before anything is logged, and the form is validated again with the
    service's refusal added."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as refusal:
            request.service_refusal = refusal
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "service_refusal", None)
        if refusal is None:
            return form

        class RefusedForm(form):
            def clean(self) -> dict:
                data = super().clean()
                for field, errors in refusal.update_error_dict({}).items():
                    self.add_error(field if field in self.fields else None, errors)
                return data

        return RefusedForm


@admin.action(permissions=["delete"], description=actions.delete_selected.short_description)
def delete_selected(modeladmin, request: HttpRequest, queryset: QuerySet):
    """Django's bulk delete in one transaction: it logs (the audit events, through
    `AuditedAdmin.log_deletions`) before it deletes, so a delete the database refuses takes
    its log with it rather than leaving entries that claim it happened."""
    try:
        with transaction.atomic(using=router.db_for_write(modeladmin.model)):
            return actions.delete_selected(modeladmin, request, queryset)
    except IntegrityError:
        modeladmin.message_user(request, DELETE_REFUSED, messages.ERROR)
        return None


# Replaces the site-wide action of the same name, for every model of the admin.
admin.site.add_action(delete_selected)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["team"]


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
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
class TeamAdmin(AuditedAdmin):
    list_display = ["name", "member_count", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(member_total=Count("memberships"))

    @admin.display(description="members", ordering="member_total")
    def member_count(self, team: Team) -> int:
        return team.member_total


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
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


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit log: readable by every staff member, writable by no one."""

    list_display = ["occurred_at", "actor_name", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type", "occurred_at"]
    search_fields = ["actor_name", "object_repr", "object_id", "request_id"]
    date_hierarchy = "occurred_at"
    readonly_fields = [field.name for field in AuditEvent._meta.fields]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff
