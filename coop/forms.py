"""The login form and a person's own settings."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from coop.languages import Language
from coop.models import ColorScheme, User, validate_time_zone
from coop.validators import validate_single_line


class LoginForm(AuthenticationForm):
    """Django's login form, with the username's length really validated: Django only sets
    the field's `max_length` after construction (no validator), so an over-long username
    reached authentication and django-axes' attempt log, a server error on PostgreSQL."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = get_user_model()._meta.get_field("username").max_length
        self.fields["username"].validators.append(MaxLengthValidator(limit))


class PersonalSettingsForm(forms.Form):
    """ "Your settings": how the app greets, dates, speaks to and colours it for a person."""

    display_name = forms.CharField(
        label=_("Display name"),
        max_length=User._meta.get_field("display_name").max_length,
        required=False,
        validators=[validate_single_line],
        help_text=_("How your colleagues see you; blank shows your username."),
    )
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=User._meta.get_field("time_zone").max_length,
        validators=[validate_time_zone],
        help_text=_("An IANA time zone such as Europe/Madrid: dates and times are shown in it."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[("", _("Same as the browser")), *Language.choices],
        required=False,
        help_text=_("The language of the pages and of the emails the app sends you."),
    )
    color_scheme = forms.ChoiceField(
        label=_("Colour scheme"), choices=ColorScheme.choices, initial=ColorScheme.AUTO
    )
