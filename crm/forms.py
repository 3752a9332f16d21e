"""Forms of the CRM pages. They parse and check input; the services in `crm.services` write."""

import datetime
import uuid
from collections.abc import Callable
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from coop.dates import validate_supported_date
from coop.models import Membership, Team, User
from coop.money import minor_unit_exponent, to_major_units, to_minor_units
from coop.validators import validate_single_line
from coop.visibility import manager_team_ids, teams_managed_by, teams_visible_to
from crm.exchange import COLUMNS
from crm.imports import DATE_FORMATS, POLICIES
from crm.models import (
    Contact,
    Deal,
    DealStatus,
    ForecastCategory,
    ImportKind,
    InteractionType,
    Organization,
    OrganizationSize,
    Pipeline,
    PipelineStage,
    TaskPriority,
)

# Types a person logs by hand; platform events are written by the platform itself, and
# calendar events by scheduling a meeting.
LOGGABLE_TYPES = [
    (value, label)
    for value, label in InteractionType.choices
    if value not in (InteractionType.PLATFORM_EVENT, InteractionType.CALENDAR_EVENT)
]


def submit_to_service[T](form: forms.Form, service: Callable[..., T], **arguments) -> T | None:
    """Call a write service with a valid form's data; when the service refuses the input, put
    its messages on the form (by field when it names them) and return None."""
    try:
        return service(**arguments)
    except ValidationError as error:
        form.add_error(None, error)
        return None


def teams_for(user: User):
    """Teams a user may add records to: those whose records they see."""
    return teams_visible_to(user).order_by("name")


class ContactForm(forms.Form):
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), empty_label=None)
    name = forms.CharField(label=_("Name"), max_length=200, validators=[validate_single_line])
    email = forms.EmailField(label=pgettext_lazy("field", "Email"), required=False)
    phone = forms.CharField(
        label=_("Phone"), max_length=40, required=False, validators=[validate_single_line]
    )
    organization = forms.CharField(
        label=_("Organization"),
        max_length=200,
        required=False,
        help_text=_("Pick one of the suggestions, or type a new name to create the organization."),
        validators=[validate_single_line],
    )
    job_title = forms.CharField(
        label=_("Job title"), max_length=150, required=False, validators=[validate_single_line]
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )

    def __init__(self, *args, user: User, contact: Contact | None = None, **kwargs) -> None:
        if contact is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": contact.name,
                    "email": contact.email,
                    "phone": contact.phone,
                    "organization": contact.organization.name if contact.organization else "",
                    "job_title": contact.job_title,
                    "notes": contact.notes,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autocomplete"] = "off"
        self.fields["email"].widget.attrs["autocomplete"] = "off"
        self.fields["phone"].widget.input_type = "tel"
        self.fields["organization"].widget.attrs.update(
            {
                "list": "organization-options",
                "autocomplete": "off",
                "hx-get": reverse("crm:organization_options"),
                "hx-trigger": "input changed delay:300ms",
                "hx-target": "#organization-options",
                "hx-swap": "innerHTML",
            }
        )
        if contact is not None:
            del self.fields["team"]
        else:
            self.fields["team"].queryset = teams_for(user)


class OrganizationForm(forms.Form):
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), empty_label=None)
    name = forms.CharField(label=_("Name"), max_length=200, validators=[validate_single_line])
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    domain = forms.CharField(
        label=_("Domain"),
        max_length=253,
        required=False,
        validators=[validate_single_line],
        help_text=_("Leave empty to take it from the website."),
    )
    phone = forms.CharField(
        label=_("Phone"), max_length=40, required=False, validators=[validate_single_line]
    )
    address = forms.CharField(
        label=_("Address"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    industry = forms.CharField(
        label=_("Industry or sector"),
        max_length=120,
        required=False,
        validators=[validate_single_line],
    )
    size = forms.ChoiceField(
        choices=[("", "—"), *OrganizationSize.choices], required=False, label=_("Size")
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )

    def __init__(
        self, *args, user: User, organization: Organization | None = None, **kwargs
    ) -> None:
        if organization is not None:
            kwargs.setdefault(
                "initial",
                {name: getattr(organization, name) for name in self.base_fields if name != "team"},
            )
        super().__init__(*args, **kwargs)
        self.fields["phone"].widget.input_type = "tel"
        if organization is not None:
            del self.fields["team"]
        else:
            self.fields["team"].queryset = teams_for(user)


class InteractionForm(forms.Form):
    interaction_type = forms.ChoiceField(label=_("Type"), choices=LOGGABLE_TYPES)
    summary = forms.CharField(label=_("Summary"), max_length=255, validators=[validate_single_line])
    details = forms.CharField(
        label=_("Details"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    timestamp = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("In your time zone. Leave empty for now."),
        validators=[validate_supported_date],
    )

    def clean_timestamp(self) -> datetime.datetime | None:
        value = self.cleaned_data["timestamp"]
        if value is not None and value > timezone.now() + datetime.timedelta(minutes=5):
            raise forms.ValidationError(
                gettext(
                    "An interaction is logged once it happened; pick a time that is not in the "
                    "future (schedule a meeting from the calendar instead)."
                )
            )
        return value


def _amount_to_cents(form: forms.Form, field: str, amount: Decimal, currency: str) -> int | None:
    """The amount in minor units of `currency`, or None after adding an error to `field`."""
    exponent = minor_unit_exponent(currency)
    if amount.as_tuple().exponent < -exponent:
        form.add_error(
            field,
            gettext("An amount in %(currency)s has at most %(places)s decimal places.")
            % {"currency": currency, "places": exponent},
        )
        return None
    return to_minor_units(amount, currency)


def contact_label(contact: Contact) -> str:
    """A contact as offered in a choice: the name, told apart by organization or email."""
    detail = contact.organization.name if contact.organization else contact.email
    return f"{contact.name} · {detail}" if detail else contact.name


class DealForm(forms.Form):
    """A deal's editable facts; the value is typed in the pipeline's currency (e.g. 1250.50)."""

    title = forms.CharField(label=_("Title"), max_length=200, validators=[validate_single_line])
    value = forms.DecimalField(
        label=_("Value"),
        min_value=Decimal(0),
        max_digits=15,
        decimal_places=3,
        help_text=_("In the pipeline's currency."),
    )
    contact = forms.ModelChoiceField(
        label=_("Contact"),
        queryset=Contact.objects.none(),
        required=False,
        empty_label=_("— no contact —"),
    )
    expected_close_date = forms.DateField(
        label=_("Expected close date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[validate_supported_date],
    )

    def __init__(self, *args, user: User, deal: Deal | None = None, **kwargs) -> None:
        if deal is not None:
            kwargs.setdefault(
                "initial",
                {
                    "title": deal.title,
                    "value": to_major_units(deal.value_cents, deal.currency),
                    "contact": deal.contact_id,
                    "expected_close_date": deal.expected_close_date,
                },
            )
        super().__init__(*args, **kwargs)
        self.deal = deal
        contacts = Contact.objects.visible_to(user).select_related("organization")
        if deal is not None:
            contacts = contacts.filter(team_id=deal.pipeline.team_id)
            self.fields["value"].label = gettext("Value (%(currency)s)") % {
                "currency": deal.currency
            }
            self.fields["value"].help_text = ""
        self._offer_only_the_chosen_contact(contacts)

    def _offer_only_the_chosen_contact(self, contacts) -> None:
        """Validate against every allowed contact but render only the chosen one: a team can
        have thousands. The search box beside the field fetches matching options."""
        field = self.fields["contact"]
        field.queryset = contacts
        field.label_from_instance = contact_label
        chosen = self.data.get("contact") if self.is_bound else self.initial.get("contact")
        try:
            chosen_id = uuid.UUID(str(getattr(chosen, "pk", chosen)))
        except ValueError:
            chosen_id = None
        chosen_contact = contacts.filter(pk=chosen_id).first() if chosen_id else None
        field.widget.choices = [("", field.empty_label)] + (
            [(chosen_contact.pk, contact_label(chosen_contact))] if chosen_contact else []
        )

    def currency(self) -> str:
        return self.deal.currency

    def deal_fields(self) -> dict:
        """The arguments `deal_create` and `deal_update` share."""
        return {
            field: self.cleaned_data[field]
            for field in ("title", "value_cents", "contact", "expected_close_date")
        }

    def clean(self) -> dict:
        data = super().clean()
        if data.get("value") is not None and self.currency():
            data["value_cents"] = _amount_to_cents(self, "value", data["value"], self.currency())
        return data


class DealCreateForm(DealForm):
    """A new deal: its pipeline and open stage come first, then the deal's facts."""

    stage = forms.ModelChoiceField(
        label=_("Pipeline and stage"),
        queryset=PipelineStage.objects.none(),
        empty_label=_("— choose —"),
    )
    field_order = ["stage", "title", "value", "contact", "expected_close_date"]

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, user=user, **kwargs)
        stage_field = self.fields["stage"]
        stage_field.queryset = (
            PipelineStage.objects.filter(
                pipeline__in=Pipeline.objects.visible_to(user),
                is_won=False,
                is_lost=False,
                archived_at__isnull=True,
            )
            .select_related("pipeline")
            .order_by("pipeline__name", "position")
        )
        stage_field.label_from_instance = lambda stage: (
            f"{stage.pipeline.name} ({stage.pipeline.currency}): {stage.name}"
        )

    def currency(self) -> str:
        stage = self.cleaned_data.get("stage")
        return stage.pipeline.currency if stage else ""


class DealMoveForm(forms.Form):
    stage = forms.ModelChoiceField(queryset=PipelineStage.objects.none(), label=_("Move to stage"))

    def __init__(self, *args, deal: Deal, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = PipelineStage.objects.filter(
            pipeline_id=deal.pipeline_id, is_won=False, is_lost=False, archived_at__isnull=True
        )


class ForecastCategoryForm(forms.Form):
    category = forms.ChoiceField(choices=ForecastCategory.choices, label=_("Forecast category"))


class DealFilterForm(forms.Form):
    q = forms.CharField(label=_("Search by title or contact"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Any status")), *DealStatus.choices],
        required=False,
        initial="open",
    )
    pipeline = forms.ModelChoiceField(
        label=_("Pipeline"),
        queryset=Pipeline.objects.none(),
        required=False,
        empty_label=_("All pipelines"),
    )
    stage = forms.ModelChoiceField(queryset=PipelineStage.objects.none(), required=False)

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.input_type = "search"
        pipelines = Pipeline.objects.visible_to(user)
        self.fields["pipeline"].queryset = pipelines.order_by("name")
        self.fields["stage"].queryset = PipelineStage.objects.filter(pipeline__in=pipelines)
        self.fields["stage"].widget = forms.HiddenInput()


class BoardFilterForm(forms.Form):
    """The pipeline board's filter and order (the tags come as `?tag=`, see requested_tags)."""

    q = forms.CharField(
        label=_("Search by title, contact or organization"), required=False, max_length=100
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("Anyone")
    )
    sort = forms.ChoiceField(
        label=_("Order cards by"),
        choices=[("close", _("Expected close date")), ("value", _("Value, highest first"))],
        required=False,
    )

    def __init__(self, *args, pipeline: Pipeline, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.input_type = "search"
        self.fields["q"].validators.append(validate_single_line)
        members = Membership.objects.filter(team_id=pipeline.team_id, user__is_active=True)
        self.fields["owner"].queryset = User.objects.filter(
            pk__in=members.values("user_id")
        ).order_by("display_name", "username")

    def clean_q(self) -> str:
        return " ".join(self.cleaned_data["q"].split())

    def clean_sort(self) -> str:
        return self.cleaned_data["sort"] or "close"


IMPORT_MAX_BYTES = 100 * 1024 * 1024


class ImportOptionsForm(forms.Form):
    """What to import and how; the column mapping comes as `map_<column index>` fields."""

    kind = forms.ChoiceField(label=_("Records"), choices=ImportKind.choices)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), empty_label=None)
    date_format = forms.ChoiceField(
        label=_("Dates in the file look like"),
        choices=[(value, example) for value, example in DATE_FORMATS.items()],
    )
    policy = forms.ChoiceField(
        label=_("When a row matches an existing record"),
        choices=POLICIES.items(),
        widget=forms.RadioSelect,
        initial="skip",
    )
    keep_valid = forms.BooleanField(
        label=_("Import the valid rows and give me a file of the others"),
        required=False,
        help_text=_("Otherwise nothing is imported while one row is refused."),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_managed_by(user).order_by("name")


class ImportUploadForm(ImportOptionsForm):
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        help_text=_(
            "UTF-8 CSV (commas or semicolons) or an Excel workbook's first sheet; "
            "the first row names the columns."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
    )
    field_order = ["file", "kind", "team", "date_format", "policy", "keep_valid"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise ValidationError(gettext("A file of at most 100 MB, please: split larger ones."))
        return upload


def mapping_from(data, headers: list[str], kind: str) -> list[str]:
    """The field chosen for each column (`map_<index>`), those unknown to `kind` ignored."""
    fields = {column.field for column in COLUMNS[kind]}
    chosen = [data.get(f"map_{index}", "") for index in range(len(headers))]
    return [value if value in fields else "" for value in chosen]


def _shown(value) -> str:
    return str(value) if value not in (None, "") else gettext("(empty)")


# The merge page's field labels, translated (the models' field names are not).
MERGE_LABELS = {
    "name": _("Name"),
    "email": pgettext_lazy("field", "Email"),
    "phone": _("Phone"),
    "job_title": _("Job title"),
    "notes": _("Notes"),
    "organization": _("Organization"),
    "website": _("Website"),
    "domain": _("Domain"),
    "address": _("Address"),
    "industry": _("Industry"),
    "size": _("Size"),
}


class MergeForm(forms.Form):
    """For each field whose values differ, which record's value the merged one keeps."""

    def __init__(self, *args, keep, remove, fields: tuple[str, ...], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in fields:
            mine, theirs = getattr(keep, name), getattr(remove, name)
            if mine == theirs:
                continue
            self.fields[name] = forms.ChoiceField(
                label=MERGE_LABELS.get(name)
                or keep._meta.get_field(name).verbose_name.capitalize(),
                choices=[("keep", _shown(mine)), ("remove", _shown(theirs))],
                widget=forms.RadioSelect,
                initial="remove" if mine in (None, "") else "keep",
            )


class TaskForm(forms.Form):
    """A next step on a record. `assignee` is offered only to a manager of the record's team
    (`members`: that team's active members); anyone else's tasks are their own."""

    title = forms.CharField(label=_("Next step"), max_length=200, validators=[validate_single_line])
    due_date = forms.DateField(
        label=_("Due"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[validate_supported_date],
    )
    due_time = forms.TimeField(
        label=pgettext_lazy("time of day", "At"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Optional, in the assignee's time zone."),
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=TaskPriority.choices, coerce=int, initial=TaskPriority.NORMAL
    )
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        if members is None:
            del self.fields["assignee"]
        else:
            self.fields["assignee"].queryset = members
            self.fields["assignee"].empty_label = gettext("Me")
        self.fields["due_date"].initial = timezone.localdate()

    def task_fields(self) -> dict:
        data = dict(self.cleaned_data)
        if data.get("assignee") is None:
            data.pop("assignee", None)
        return data


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Note"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Markdown: **bold**, *italic*, lists, links. Type @username to notify a team member."
        ),
    )


BULK_ACTIONS = {
    "tags_add": _("Add tags"),
    "tags_remove": _("Remove tags"),
    "owner": _("Assign owner"),
    "stage": _("Change stage"),
    "export": pgettext_lazy("verb", "Export"),
}
BULK_ACTIONS_BY_KIND = {
    "contacts": ("tags_add", "tags_remove", "owner", "export"),
    "organizations": ("tags_add", "tags_remove", "owner", "export"),
    "deals": ("tags_add", "tags_remove", "owner", "stage", "export"),
}


class BulkActionForm(forms.Form):
    """What to do with the rows selected in a list (their ids come as `ids`, checked by
    `crm.bulk_actions.selected_ids`); only the field the action needs is required."""

    action = forms.ChoiceField(label=_("With the selected rows"))
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=500,
        help_text=_("Separate tags with commas; a new name makes a new tag."),
    )
    owner = forms.ModelChoiceField(
        label=_("New owner"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Choose…"),
    )
    stage = forms.ModelChoiceField(
        label=_("New stage"), queryset=PipelineStage.objects.none(), required=False
    )
    format = forms.ChoiceField(
        label=_("File"), choices=[("csv", "CSV"), ("xlsx", "XLSX")], required=False
    )

    NEEDS = {"tags_add": "tags", "tags_remove": "tags", "owner": "owner", "stage": "stage"}

    def __init__(self, *args, user: User, kind: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A new owner is a manager's choice (crm.owners): offered to managers only, among the
        # active members of the teams they manage.
        managed = Membership.objects.filter(team_id__in=manager_team_ids(user))
        actions = [
            action
            for action in BULK_ACTIONS_BY_KIND[kind]
            if action != "owner" or user.is_staff or managed.exists()
        ]
        self.fields["action"].choices = [(action, BULK_ACTIONS[action]) for action in actions]
        self.offers_owner = "owner" in actions
        if self.offers_owner:
            self.fields["owner"].queryset = User.objects.filter(
                is_active=True, pk__in=managed.values("user_id")
            ).order_by("display_name", "username")
        if kind == "deals":
            self.fields["stage"].queryset = (
                PipelineStage.objects.filter(
                    pipeline__in=Pipeline.objects.visible_to(user), is_won=False, is_lost=False
                )
                .select_related("pipeline")
                .order_by("pipeline__name", "position")
            )
            self.fields["stage"].label_from_instance = lambda stage: (
                f"{stage.pipeline.name}: {stage.name}"
            )

    def clean(self):
        data = super().clean()
        needed = self.NEEDS.get(data.get("action", ""))
        if needed and not data.get(needed):
            self.add_error(needed, gettext("This action needs it."))

        return data
