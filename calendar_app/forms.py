"""Forms of the calendar pages. Datetimes are entered in the user's zone (the middleware
activates it), parsed to aware datetimes; the services validate and write."""

import datetime
import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from calendar_app.caldav_client import public_address_refusal
from calendar_app.grid import local_datetime
from calendar_app.models import MAX_REMINDER_MINUTES
from coop.dates import validate_supported_date
from coop.validators import validate_single_line

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class EventForm(forms.Form):
    title = forms.CharField(
        label=gettext_lazy("Title"), max_length=200, validators=[validate_single_line]
    )
    start_time = forms.DateTimeField(
        label=gettext_lazy("Start"), widget=DATETIME_WIDGET, validators=[validate_supported_date]
    )
    end_time = forms.DateTimeField(
        label=gettext_lazy("End"), widget=DATETIME_WIDGET, validators=[validate_supported_date]
    )
    location = forms.CharField(
        label=gettext_lazy("Location"),
        max_length=255,
        required=False,
        validators=[validate_single_line],
    )
    description = forms.CharField(
        label=gettext_lazy("Description"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    def __init__(self, *args, zone_name: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["title"].widget.attrs["autofocus"] = True
        if zone_name:
            self.fields["start_time"].help_text = gettext("In your time zone, %(zone)s.") % {
                "zone": zone_name
            }

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", gettext("The meeting must end after it starts."))
        return data


class MoveForm(forms.Form):
    """A new time for an event: from the form on its page a start (and optionally an end), or
    from a drag a day (the event keeps its local time of day) or a start slot."""

    start_time = forms.DateTimeField(
        label=gettext_lazy("New start"),
        widget=DATETIME_WIDGET,
        required=False,
        validators=[validate_supported_date],
    )
    end_time = forms.DateTimeField(
        label=gettext_lazy("New end"),
        widget=DATETIME_WIDGET,
        required=False,
        help_text=gettext_lazy("Leave it empty to keep the meeting's length."),
        validators=[validate_supported_date],
    )
    date = forms.DateField(
        required=False, widget=forms.HiddenInput, validators=[validate_supported_date]
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # An empty `date` is no drop: then the start is needed.
        self.fields["start_time"].required = not self.data.get("date")

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", gettext("The meeting must end after it starts."))
        return data


class PreferenceForm(forms.Form):
    reminder_minutes = forms.IntegerField(
        label=gettext_lazy("Remind me before each meeting (minutes)"),
        min_value=0,
        max_value=MAX_REMINDER_MINUTES,
        help_text=gettext_lazy("0 sends the reminder when the meeting starts; at most one week."),
    )


def default_start(
    day: datetime.date | None, now: datetime.datetime, at: datetime.time | None = None
) -> datetime.datetime:
    """A sensible start for a new meeting in the current zone: the chosen day at `at` (10:00
    when no time is given, unless the day is today), else the next full hour."""
    local_now = timezone.localtime(now)
    if day is not None and (at is not None or day != local_now.date()):
        return local_datetime(day, at or datetime.time(10), timezone.get_current_timezone())
    return local_now.replace(minute=0, second=0, microsecond=0) + datetime.timedelta(hours=1)


class CalDavConnectForm(forms.Form):
    server_url = forms.URLField(
        label=gettext_lazy("Server address"),
        max_length=500,
        assume_scheme="https",
        help_text=gettext_lazy(
            "Your calendar server, e.g. https://cloud.example.coop/remote.php/dav/ "
            "(Nextcloud) or https://caldav.fastmail.com/ (Fastmail)."
        ),
    )
    username = forms.CharField(
        label=gettext_lazy("User name"), max_length=200, validators=[validate_single_line]
    )
    password = forms.CharField(
        label=gettext_lazy("App password"),
        max_length=500,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy(
            "Make an app password for Co-op CRM in your calendar's settings. It is stored "
            "encrypted and never shown again."
        ),
    )

    def clean_server_url(self) -> str:
        url = self.cleaned_data["server_url"]
        refusal = public_address_refusal(url)
        if refusal:
            raise forms.ValidationError(refusal)
        return url


class CalDavCalendarsForm(forms.Form):
    receiving = forms.TypedChoiceField(
        label=gettext_lazy("Put my CRM meetings in"),
        coerce=uuid.UUID,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    busy = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Count as busy"),
        coerce=uuid.UUID,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, calendars, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [(str(calendar.pk), str(calendar)) for calendar in calendars]
        self.fields["receiving"].choices = [
            ("", gettext("None: do not copy my meetings")),
            *choices,
        ]
        self.fields["busy"].choices = choices
