"""The language a person gets: in their pages (coop.middleware.UserLanguageMiddleware) and in
what is sent to them outside a request (emails, invitations, notifications)."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import wraps

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


def written_for[**P, R](
    recipient: Callable[P, object],
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator of a function that writes to one person (a notification, an email):
    it runs in the language of `recipient(*args, **kwargs)`, whoever's request or command
    calls it. `@written_for(lambda task: task.assignee)`."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @wraps(function)
        def in_their_language(*args: P.args, **kwargs: P.kwargs) -> R:
            with in_language_of(recipient(*args, **kwargs)):
                return function(*args, **kwargs)

        return in_their_language

    return decorate
