"""Admin for the CRM. Adds and changes go through `crm.services`, as the pages' do, so the admin
keeps the same rules; what no service changes (a record's team, a deal's pipeline and stage, a
closed deal) is read-only here. Deals change status only through `deal_close`: its admin
actions are added by `integrations.admin`, which sits above the modules that closing touches."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from coop.admin import AuditedAdmin, ServiceAdmin, SingleLineTextMixin
from coop.money import format_money
from crm.models import (
    Contact,
    Deal,
    Interaction,
    InteractionType,
    LostReason,
    Note,
    Organization,
    OwnerChange,
    Pipeline,
    PipelineStage,
    StageChange,
    Tag,
    Task,
)
from crm.pipeline_settings import (
    lost_reason_add,
    lost_reason_update,
    pipeline_create,
    pipeline_update,
    stage_add,
    stage_archive,
    stage_restore,
    stage_update,
)
from crm.selectors import TIMELINE_ORDER
from crm.services import (
    CONTACT_FIELDS,
    ORGANIZATION_FIELDS,
    contact_create,
    contact_update,
    deal_create,
    deal_update,
    interaction_log,
    organization_create,
    organization_update,
)

RECENT_INTERACTIONS = 20


def read_only_once_saved(model_admin: admin.ModelAdmin, obj, *fields: str) -> list[str]:
    """The admin's read-only fields, plus `fields` when `obj` exists already."""
    return [*model_admin.readonly_fields, *(fields if obj is not None else ())]


def adopt(obj, saved) -> None:
    """Make the admin's instance the row a service saved: the admin goes on to log it and to
    redirect to it."""
    obj.pk = saved.pk
    obj.refresh_from_db()
    obj._state.adding = False


class OwnerRequiredForm(forms.ModelForm):
    """The services hand a record to a member of its team and never leave it without owner."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "owner" in self.fields:
            self.fields["owner"].required = True


@admin.register(Organization)
class OrganizationAdmin(ServiceAdmin):
    list_display = ["name", "team", "domain", "industry", "size", "created_at"]
    list_filter = ["team", "size"]
    search_fields = ["name", "website", "domain", "industry"]
    list_select_related = ["team"]
    autocomplete_fields = ["team"]
    fields = ["team", *ORGANIZATION_FIELDS]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        """An organization's contacts are of its team: it never moves to another."""
        return read_only_once_saved(self, obj, "team")

    def save_model(self, request: HttpRequest, obj: Organization, form, change: bool) -> None:
        fields = {field: form.cleaned_data[field] for field in ORGANIZATION_FIELDS}
        if change:
            saved = organization_update(actor=request.user, organization=obj, **fields)
        else:
            team = form.cleaned_data["team"]
            saved = organization_create(actor=request.user, team=team, **fields)
        adopt(obj, saved)


class RecentInteractionsFormSet(BaseInlineFormSet):
    """Only the newest entries: a contact's timeline can hold thousands."""

    def get_queryset(self) -> QuerySet[Interaction]:
        if not hasattr(self, "_recent"):
            timeline = super().get_queryset().select_related("author").order_by(*TIMELINE_ORDER)
            self._recent = timeline[:RECENT_INTERACTIONS]
        return self._recent


class InteractionInline(admin.TabularInline):
    model = Interaction
    formset = RecentInteractionsFormSet
    fields = ["timestamp", "interaction_type", "summary", "author"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = format_lazy(
        _("Latest {count} interactions (read-only)"), count=RECENT_INTERACTIONS
    )


class ContactAdminForm(OwnerRequiredForm):
    class Meta:
        model = Contact
        fields = ["team", "owner", "name", "email", "phone", "organization", "job_title", "notes"]

    def validate_constraints(self) -> None:
        """The services check a contact's email first and name the contact that has it; the
        database constraint backs them."""

    def clean(self) -> dict:
        data = super().clean()
        team = data.get("team") or (self.instance.team if self.instance.team_id else None)
        organization = data.get("organization")
        if team and organization and organization.team_id != team.pk:
            self.add_error("organization", gettext("The organization belongs to another team."))
        return data


@admin.register(Contact)
class ContactAdmin(ServiceAdmin):
    list_display = ["name", "email", "organization", "team", "owner", "all_interactions"]
    list_filter = ["team", "created_at"]
    search_fields = ["name", "email", "phone", "organization__name"]
    list_select_related = ["organization", "team", "owner"]
    autocomplete_fields = ["team", "owner", "organization"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [InteractionInline]
    form = ContactAdminForm

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        """A contact stays in its team: its deals and meetings are that team's."""
        return read_only_once_saved(self, obj, "team")

    def save_model(self, request: HttpRequest, obj: Contact, form, change: bool) -> None:
        data = form.cleaned_data
        organization = data["organization"]
        fields = {
            **{field: data[field] for field in CONTACT_FIELDS},
            "owner": data["owner"],
            "organization_name": organization.name if organization else "",
        }
        if change:
            saved = contact_update(actor=request.user, contact=obj, **fields)
        else:
            saved = contact_create(actor=request.user, team=data["team"], **fields)
        adopt(obj, saved)

    @admin.display(description=_("timeline"))
    def all_interactions(self, contact: Contact) -> str:
        url = reverse("admin:crm_interaction_changelist") + f"?contact__id__exact={contact.pk}"
        return format_html('<a href="{}">{}</a>', url, gettext("Interactions"))


@admin.register(Interaction)
class InteractionAdmin(ServiceAdmin):
    """New entries are logged by `interaction_log`, authored by the person adding them; an
    entry can be corrected (a misfiled call moved to the right contact), except a meeting's,
    which follows its calendar event."""

    list_display = ["summary", "interaction_type", "contact", "author", "timestamp"]
    list_filter = ["interaction_type", "timestamp"]
    search_fields = ["summary", "contact__name", "=contact__email"]
    date_hierarchy = "timestamp"
    show_full_result_count = False  # a million rows: skip the second COUNT(*)
    list_select_related = ["contact", "author"]
    autocomplete_fields = ["contact"]
    readonly_fields = ["author", "calendar_event", "created_at", "updated_at"]

    def formfield_for_choice_field(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "interaction_type":
            # A meeting's entry is written by scheduling the meeting.
            kwargs["choices"] = [
                choice
                for choice in db_field.get_choices()
                if choice[0] != InteractionType.CALENDAR_EVENT
            ]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Interaction | None = None) -> bool:
        if obj is not None and obj.interaction_type == InteractionType.CALENDAR_EVENT:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Interaction, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        saved = interaction_log(
            actor=request.user,
            contact=data["contact"],
            interaction_type=data["interaction_type"],
            summary=data["summary"],
            details=data["details"],
            timestamp=data["timestamp"],
        )
        adopt(obj, saved)


class PipelineStageInline(SingleLineTextMixin, admin.TabularInline):
    """Stages are added and changed through `crm.pipeline_settings`, like the settings page's;
    they are archived (an action of the stage admin), never deleted here."""

    model = PipelineStage
    fields = ["position", "name", "probability", "is_won", "is_lost", "archived_at"]
    readonly_fields = ["position", "archived_at"]
    extra = 0
    ordering = ["position"]
    can_delete = False


@admin.register(Pipeline)
class PipelineAdmin(ServiceAdmin):
    """Pipelines and their stages change through `crm.pipeline_settings`, the services of the
    managers' settings pages, so the admin keeps their rules and their audit trail."""

    list_display = ["name", "team", "currency", "created_at"]
    list_filter = ["team", "currency"]
    search_fields = ["name", "team__name"]
    list_select_related = ["team"]
    autocomplete_fields = ["team"]
    inlines = [PipelineStageInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Pipeline | None = None) -> list[str]:
        """A pipeline's deals are of its team and in its currency."""
        if obj is not None and obj.deals.exists():
            return read_only_once_saved(self, obj, "team", "currency")
        return read_only_once_saved(self, obj, "team")

    def save_model(self, request: HttpRequest, obj: Pipeline, form, change: bool) -> None:
        data = form.cleaned_data
        if change:
            saved = pipeline_update(
                actor=request.user,
                pipeline=obj,
                name=data["name"],
                currency=data.get("currency", obj.currency),
            )
        else:
            saved = pipeline_create(
                actor=request.user,
                team=data["team"],
                name=data["name"],
                currency=data["currency"],
                default_stages=False,
            )
        adopt(obj, saved)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        # What the admin's change message reads, as `BaseModelFormSet.save` would set it.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for stage_form in formset.forms:
            if not stage_form.has_changed():
                continue
            data = stage_form.cleaned_data
            fields = {
                "name": data["name"],
                "probability": data["probability"],
                "is_won": data["is_won"],
                "is_lost": data["is_lost"],
            }
            if stage_form.instance.pk and not stage_form.instance._state.adding:
                stage = stage_update(actor=request.user, stage=stage_form.instance, **fields)
                formset.changed_objects.append((stage, stage_form.changed_data))
            else:
                stage = stage_add(actor=request.user, pipeline=form.instance, **fields)
                formset.new_objects.append(stage)


@admin.register(PipelineStage)
class PipelineStageAdmin(ServiceAdmin):
    list_display = [
        "name",
        "pipeline",
        "position",
        "probability",
        "is_won",
        "is_lost",
        "archived_at",
    ]
    list_filter = ["is_won", "is_lost", "pipeline"]
    search_fields = ["name", "pipeline__name"]
    list_select_related = ["pipeline"]
    fields = ["pipeline", "name", "probability", "is_won", "is_lost"]
    readonly_fields = ["position", "archived_at", "expected_value_cents", "expected_value_currency"]
    actions = ["archive", "restore"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        """A stage's deals are of its pipeline."""
        return read_only_once_saved(self, obj, "pipeline")

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        """Stages are archived, never deleted: their deals and history name them."""
        return False

    def save_model(self, request: HttpRequest, obj: PipelineStage, form, change: bool) -> None:
        data = form.cleaned_data
        fields = {
            "name": data["name"],
            "probability": data["probability"],
            "is_won": data["is_won"],
            "is_lost": data["is_lost"],
        }
        if change:
            saved = stage_update(actor=request.user, stage=obj, **fields)
        else:
            saved = stage_add(actor=request.user, pipeline=data["pipeline"], **fields)
        adopt(obj, saved)

    @admin.action(description=_("Archive selected stages (those without open deals)"))
    def archive(self, request: HttpRequest, queryset: QuerySet[PipelineStage]) -> None:
        self._each(request, queryset, stage_archive, archived=True)

    @admin.action(description=_("Restore selected archived stages"))
    def restore(self, request: HttpRequest, queryset: QuerySet[PipelineStage]) -> None:
        self._each(request, queryset, stage_restore, archived=False)

    def _each(self, request: HttpRequest, queryset, service, *, archived: bool) -> None:
        count = 0
        for stage in queryset.select_related("pipeline"):
            try:
                service(actor=request.user, stage=stage)
            except ValidationError as error:
                self.message_user(
                    request, f"{stage.name}: {' '.join(error.messages)}", messages.WARNING
                )
            else:
                count += 1
        if archived:
            done = ngettext("%(count)s stage archived.", "%(count)s stages archived.", count)
        else:
            done = ngettext("%(count)s stage restored.", "%(count)s stages restored.", count)
        self.message_user(request, done % {"count": count})


@admin.register(LostReason)
class LostReasonAdmin(ServiceAdmin):
    """A team's lost reasons, through the same services as the managers' page; archived, never
    deleted (the deals lost for a reason keep it)."""

    list_display = ["name", "team", "position", "archived"]
    list_filter = ["archived", "team"]
    search_fields = ["name", "team__name"]
    list_select_related = ["team"]
    fields = ["team", "name", "archived"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return read_only_once_saved(self, obj, "team")

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        """Archive a reason deals use instead (their history keeps it); an unused one goes,
        e.g. with its team (the database refuses to delete a reason in use anyway)."""
        if obj is not None and obj.deals.exists():
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: LostReason, form, change: bool) -> None:
        data = form.cleaned_data
        if change:
            saved = lost_reason_update(
                actor=request.user, reason=obj, name=data["name"], archived=data["archived"]
            )
        else:
            saved = lost_reason_add(actor=request.user, team=data["team"], name=data["name"])
        adopt(obj, saved)


class HistoryAdmin(AuditedAdmin):
    """A history kept by the services: read here, never written."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(StageChange)
class StageChangeAdmin(HistoryAdmin):
    list_display = ["deal", "kind", "from_stage_name", "to_stage_name", "changed_at", "changed_by"]
    list_filter = ["kind", "changed_at"]
    search_fields = ["deal__title", "to_stage_name"]
    list_select_related = ["deal", "changed_by"]


@admin.register(OwnerChange)
class OwnerChangeAdmin(HistoryAdmin):
    list_display = [
        "record_type",
        "record_id",
        "from_owner",
        "to_owner",
        "changed_by",
        "changed_at",
    ]
    list_filter = ["record_type", "changed_at"]
    list_select_related = ["from_owner", "to_owner", "changed_by"]


class DealAdminForm(OwnerRequiredForm):
    class Meta:
        model = Deal
        fields = [
            "title",
            "pipeline",
            "stage",
            "contact",
            "owner",
            "value_cents",
            "expected_close_date",
        ]

    def clean(self) -> dict:
        data = super().clean()
        pipeline, stage = data.get("pipeline"), data.get("stage")
        if pipeline and stage and stage.pipeline_id != pipeline.pk:
            self.add_error("stage", gettext("The stage belongs to another pipeline."))
        if stage and stage.is_closing:
            self.add_error(
                "stage", gettext("Open deals go in an open stage; use the close actions.")
            )
        return data


@admin.register(Deal)
class DealAdmin(ServiceAdmin):
    """Deals open through `deal_create` and change through `deal_update`, which keep the
    stages' expected values; a closed deal is shown, never edited (its value is booked
    revenue, its owner holds its wellness score)."""

    list_display = ["title", "value", "status", "stage", "pipeline", "owner", "expected_close_date"]
    list_filter = ["status", "pipeline", "stage", "expected_close_date"]
    search_fields = ["title", "contact__name", "owner__username", "owner__display_name"]
    date_hierarchy = "expected_close_date"
    list_select_related = ["stage", "pipeline", "owner"]
    autocomplete_fields = ["contact", "owner", "pipeline"]
    readonly_fields = [
        "value",
        "currency",
        "status",
        "closed_at",
        "stage_entered_at",
        "wellness_score_at_deal",
        "created_at",
        "updated_at",
    ]
    form = DealAdminForm

    def get_readonly_fields(self, request: HttpRequest, obj: Deal | None = None) -> list[str]:
        """A deal's pipeline and stage change through the board (deal_move), not here."""
        return read_only_once_saved(self, obj, "pipeline", "stage")

    def has_change_permission(self, request: HttpRequest, obj: Deal | None = None) -> bool:
        if obj is not None and not obj.is_open:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Deal, form, change: bool) -> None:
        data = form.cleaned_data
        fields = {
            field: data[field]
            for field in ("title", "value_cents", "contact", "owner", "expected_close_date")
        }
        if change:
            saved = deal_update(actor=request.user, deal=obj, **fields)
        else:
            saved = deal_create(
                actor=request.user, pipeline=data["pipeline"], stage=data["stage"], **fields
            )
        adopt(obj, saved)

    @admin.display(description=_("value"), ordering="value_cents")
    def value(self, deal: Deal) -> str:
        return format_money(deal.value_cents, deal.currency)


class ReadOnlyAdmin(AuditedAdmin):
    """Shown and deleted here, written only by their services (the record pages): who may
    assign a task and who is told of a mention are their rules."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ["title", "due_date", "priority", "assignee", "team", "completed_at"]
    list_filter = ["priority", "team", "due_date", ("completed_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "assignee__username", "assignee__display_name"]
    list_select_related = ["assignee", "team"]
    date_hierarchy = "due_date"


@admin.register(Note)
class NoteAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "author", "team", "created_at"]
    list_filter = ["team", "created_at"]
    search_fields = ["body", "author__username", "author__display_name"]
    list_select_related = ["author", "team"]


@admin.register(Tag)
class TagAdmin(AuditedAdmin):
    """Rename or recolour a team's tag; it stays in its team, where its records are."""

    list_display = ["name", "team", "color", "created_at"]
    list_filter = ["team", "color"]
    search_fields = ["name"]
    list_select_related = ["team"]
    autocomplete_fields = ["team"]
    fields = ["team", "name", "color"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return read_only_once_saved(self, obj, "team")
