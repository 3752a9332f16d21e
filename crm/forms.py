"""Forms of the CRM pages. They parse and check input; the services in `crm.services` write."""

import datetime

from django import forms
from django.utils import timezone

from coop.models import Team, User
from crm.models import Contact, InteractionType

# Types a person logs by hand; platform events are written by the platform itself, and
# calendar events by scheduling a meeting.
LOGGABLE_TYPES = [
    (value, label)
    for value, label in InteractionType.choices
    if value not in (InteractionType.PLATFORM_EVENT, InteractionType.CALENDAR_EVENT)
]


def teams_for(user: User):
    """Teams a user may add records to: their own, or every team for staff."""
    teams = Team.objects.order_by("name")
    return teams if user.is_staff else teams.filter(memberships__user=user)


class ContactForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    name = forms.CharField(max_length=200)
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=40, required=False)
    organization = forms.CharField(
        max_length=200, required=False, help_text="Typed names are matched within the team."
    )
    job_title = forms.CharField(max_length=150, required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)

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
        if contact is not None:
            del self.fields["team"]
        else:
            self.fields["team"].queryset = teams_for(user)


class InteractionForm(forms.Form):
    interaction_type = forms.ChoiceField(label="Type", choices=LOGGABLE_TYPES)
    summary = forms.CharField(max_length=255)
    details = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    timestamp = forms.DateTimeField(
        label="When",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="In your time zone. Leave empty for now.",
    )

    def clean_timestamp(self) -> datetime.datetime | None:
        value = self.cleaned_data["timestamp"]
        if value is not None and value > timezone.now() + datetime.timedelta(minutes=5):
            raise forms.ValidationError(
                "An interaction is logged once it happened; pick a time that is not in the "
                "future (schedule a meeting from the calendar instead)."
            )
        return value
