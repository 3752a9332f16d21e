from django import forms
from django.utils.translation import gettext, gettext_lazy

from coop.dates import validate_supported_date
from coop.models import ConsentScope


class CheckInForm(forms.Form):
    stress = forms.IntegerField(
        label=gettext_lazy("Stress today (0 to 100)"),
        min_value=0,
        max_value=100,
        help_text=gettext_lazy("0 = no stress at all, 100 = the most stress you can imagine."),
        error_messages={
            "required": gettext_lazy("Enter your stress level, a whole number from 0 to 100.")
        },
    )
    sleep_hours = forms.DecimalField(
        label=gettext_lazy("Hours slept last night"),
        required=False,
        min_value=0,
        max_value=24,
        max_digits=3,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.5"}),
    )
    energy = forms.TypedChoiceField(
        label=gettext_lazy("Energy"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[
            ("", gettext_lazy("Not answered")),
            (1, gettext_lazy("1 — exhausted")),
            (2, gettext_lazy("2 — low")),
            (3, gettext_lazy("3 — okay")),
            (4, gettext_lazy("4 — good")),
            (5, gettext_lazy("5 — full of energy")),
        ],
    )


class ConsentForm(forms.Form):
    scope = forms.ChoiceField(choices=ConsentScope.choices)
    action = forms.ChoiceField(
        choices=[("grant", gettext_lazy("Allow")), ("revoke", gettext_lazy("Withdraw"))]
    )


class MetricsFilterForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Username"), required=False, max_length=150)
    start = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_supported_date],
    )
    end = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_supported_date],
    )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise forms.ValidationError(gettext("“To” must not be before “From”."))
        return data
