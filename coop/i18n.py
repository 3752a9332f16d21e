"""The language a person gets: in their pages (coop.middleware.UserLanguageMiddleware) and in
what is sent to them outside a request (emails, invitations, notifications)."""

from contextlib import AbstractContextManager

from django.conf import settings
from django.utils import translation


def language_for(user) -> str:
    """The language code to activate for `user`: their own choice, else the site's default
    (LANGUAGE_CODE). `user` may be None (a guest without an account): the default."""
    code = getattr(user, "language", "") or settings.LANGUAGE_CODE
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return settings.LANGUAGE_CODE


def in_language_of(user) -> AbstractContextManager:
    """`with in_language_of(recipient):` renders what is sent to them in their language."""
    return translation.override(language_for(user))
