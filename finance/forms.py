from decimal import Decimal

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext_lazy

from coop.models import Team, User
from coop.money import CURRENCY_CHOICES, to_minor_units
from coop.validators import validate_single_line
from finance.forecasting import WhatIf
from finance.models import SubmissionLevel
from finance.periods import (
    PeriodType,
    period_end,
    period_start,
    validate_finance_day,
    validate_period_count,
)
from finance.scopes import Scope


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class GenerateForm(forms.Form):
    scope = forms.ChoiceField(label=gettext_lazy("Whose deals"))
    period_type = forms.ChoiceField(
        label=gettext_lazy("Periods"), choices=PeriodType.choices, initial=PeriodType.MONTHLY
    )
    start = forms.DateField(
        label=gettext_lazy("From"), widget=DateInput(), validators=[validate_finance_day]
    )
    end = forms.DateField(
        label=gettext_lazy("To"), widget=DateInput(), validators=[validate_finance_day]
    )
    currency = forms.ChoiceField(label=gettext_lazy("Report currency"), choices=CURRENCY_CHOICES)
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=255,
        required=False,
        help_text=gettext_lazy("Optional; a name is made up."),
        validators=[validate_single_line],
    )

    def __init__(self, *args, scopes: list[Scope], user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.scopes = {scope.key: scope for scope in scopes}
        self.fields["scope"].choices = [(scope.key, scope.label) for scope in scopes]
        today = timezone.localdate(timezone=user.zone)
        quarter = period_start(today, PeriodType.QUARTERLY)
        self.fields["start"].initial = quarter
        self.fields["end"].initial = period_end(quarter, PeriodType.QUARTERLY)

    def clean(self):
        """Besides each field: the end not before the start, and at most `MAX_PERIODS`
        periods, counted before the service builds any."""
        data = super().clean()
        start, end, period_type = data.get("start"), data.get("end"), data.get("period_type")
        if start and end and end < start:
            self.add_error("end", gettext("The end date must be on or after the start date."))
        elif start and end and period_type:
            try:
                validate_period_count(start, end, period_type)
            except forms.ValidationError as error:
                self.add_error(None, error)
        return data

    @property
    def chosen_scope(self) -> Scope:
        return self.scopes[self.cleaned_data["scope"]]


class WhatIfForm(forms.Form):
    """The what-if levers. One probability field per stage of the forecast's open deals."""

    value_change_percent = forms.DecimalField(
        label=gettext_lazy("Change open deal values by (%)"),
        initial=0,
        min_value=-100,
        max_value=500,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "1"}),
    )
    slip_percent = forms.IntegerField(
        label=gettext_lazy("Slip this share of open deals to the next period (%)"),
        initial=0,
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"step": "5"}),
    )
    shock_currency = forms.ChoiceField(label=gettext_lazy("Shock the rate of"), required=False)
    shock_percent = forms.DecimalField(
        label=gettext_lazy("by (%)"),
        initial=0,
        min_value=-90,
        max_value=500,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "1"}),
    )
    name = forms.CharField(
        label=gettext_lazy("Scenario name"),
        max_length=255,
        required=False,
        validators=[validate_single_line],
    )

    def __init__(self, *args, stages: list[dict], currencies: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.stages = stages
        for stage in stages:
            self.fields[f"stage_{stage['stage_id']}"] = forms.IntegerField(
                label=ngettext(
                    "%(stage)s (%(count)d deal): win probability (%%)",
                    "%(stage)s (%(count)d deals): win probability (%%)",
                    stage["deals"],
                )
                % {"stage": stage["stage_name"], "count": stage["deals"]},
                initial=stage["probability"],
                min_value=0,
                max_value=100,
                widget=forms.NumberInput(attrs={"step": "5"}),
            )
        self.fields["shock_currency"].choices = [("", gettext("— no rate shock —"))] + [
            (code, code) for code in currencies
        ]
        if not currencies:
            self.fields["shock_currency"].disabled = True
            self.fields["shock_percent"].disabled = True

    def stage_fields(self):
        return [self[f"stage_{stage['stage_id']}"] for stage in self.stages]

    def what_if(self) -> WhatIf:
        data = self.cleaned_data
        overrides = {
            str(stage["stage_id"]): data[f"stage_{stage['stage_id']}"]
            for stage in self.stages
            if data[f"stage_{stage['stage_id']}"] != stage["probability"]
        }
        currency = data.get("shock_currency") or ""
        return WhatIf(
            stage_probabilities=overrides,
            value_change_percent=data["value_change_percent"] or Decimal(0),
            slip_percent=data["slip_percent"] or 0,
            shock_currency=currency,
            shock_percent=(data["shock_percent"] or Decimal(0)) if currency else Decimal(0),
        )


class RevenueEntryForm(forms.Form):
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team"), queryset=Team.objects.none(), empty_label=None
    )
    booked_on = forms.DateField(
        label=gettext_lazy("Booked on"), widget=DateInput(), validators=[validate_finance_day]
    )
    amount = forms.DecimalField(
        label=gettext_lazy("Amount"), min_value=Decimal("0.01"), max_digits=14, decimal_places=2
    )
    currency = forms.ChoiceField(label=gettext_lazy("Currency"), choices=CURRENCY_CHOICES)
    description = forms.CharField(
        label=gettext_lazy("Description"), max_length=255, validators=[validate_single_line]
    )

    def __init__(self, *args, team_ids: set, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(pk__in=team_ids)
        self.fields["booked_on"].initial = timezone.localdate(timezone=user.zone)

    def amount_cents(self) -> int:
        return to_minor_units(self.cleaned_data["amount"], self.cleaned_data["currency"])


class TargetForm(forms.Form):
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team"), queryset=Team.objects.none(), empty_label=None
    )
    person = forms.ModelChoiceField(
        label=gettext_lazy("Person"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("The whole team"),
        help_text=gettext_lazy("Empty: the team's own target."),
    )
    period_type = forms.ChoiceField(
        label=gettext_lazy("Period"), choices=PeriodType.choices, initial=PeriodType.MONTHLY
    )
    period_start = forms.DateField(
        label=gettext_lazy("Period starts on"),
        widget=DateInput(),
        validators=[validate_finance_day],
    )
    amount = forms.DecimalField(
        label=gettext_lazy("Target"), min_value=Decimal("0.01"), max_digits=14, decimal_places=2
    )
    currency = forms.ChoiceField(
        label=gettext_lazy("Currency"), choices=CURRENCY_CHOICES, initial="EUR"
    )

    def __init__(self, *args, managed: QuerySet[Team], user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = managed
        self.fields["person"].queryset = (
            User.objects.filter(memberships__team__in=managed, is_active=True)
            .distinct()
            .order_by("username")
        )
        today = timezone.localdate(timezone=user.zone)
        self.fields["period_start"].initial = period_start(today, PeriodType.MONTHLY)

    def amount_cents(self) -> int:
        return to_minor_units(self.cleaned_data["amount"], self.cleaned_data["currency"])


class TargetImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "Header: team,person,period_type,period_start,amount,currency "
            "(person: a username, or empty for the team's target)."
        ),
    )


class SubmissionForm(forms.Form):
    level = forms.ChoiceField(choices=SubmissionLevel.choices, widget=forms.HiddenInput())
    amount = forms.DecimalField(
        label=pgettext_lazy("a forecast number", "Number"),
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
    )
    currency = forms.ChoiceField(
        label=gettext_lazy("Currency"), choices=CURRENCY_CHOICES, initial="EUR"
    )
    comment = forms.CharField(
        max_length=500,
        required=False,
        validators=[validate_single_line],
        label=gettext_lazy("Comment"),
    )

    def amount_cents(self) -> int:
        return to_minor_units(self.cleaned_data["amount"], self.cleaned_data["currency"])
