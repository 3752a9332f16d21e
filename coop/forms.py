"""The login form."""

from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator


class LoginForm(AuthenticationForm):
    """Django's login form, with the username's length really validated: Django only sets
    the field's `max_length` after construction (no validator), so an over-long username
    reached authentication and django-axes' attempt log, a server error on PostgreSQL."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = get_user_model()._meta.get_field("username").max_length
        self.fields["username"].validators.append(MaxLengthValidator(limit))
