"""Show and parse dates and times in the signed-in user's own time zone and language; end
idle sessions; refuse NUL characters."""

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from coop.i18n import language_for


class UserLanguageMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware (the language cookie set on the login page, else the
    browser's Accept-Language, else English), except that a signed-in person who chose a
    language in their settings always gets it. Runs after authentication."""

    def process_request(self, request: HttpRequest) -> None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            language = language_for(user)
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
            return
        super().process_request(request)


class UserTimeZoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            with timezone.override(request.user.zone):
                return self.get_response(request)
        return self.get_response(request)


# When a signed-in session was last saved by `SessionIdleTimeoutMiddleware` (Unix seconds).
SESSION_ACTIVITY_KEY = "_coop_activity"


def _refresh_interval() -> int:
    return min(300, settings.SESSION_COOKIE_AGE // 10)


def _now() -> int:
    return int(timezone.now().timestamp())


class SessionIdleTimeoutMiddleware:
    """A signed-in session ends after SESSION_COOKIE_AGE seconds (`SESSION_IDLE_MINUTES`)
    without a request. The session store expires a session that long after its last save;
    this saves a signed-in session again once its last refresh is a tenth of that old (five
    minutes at most), so it ends between that much less than the timeout and the timeout
    after its last request, at one write per interval instead of one per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = _now()
            if now - request.session.get(SESSION_ACTIVITY_KEY, 0) >= _refresh_interval():
                request.session[SESSION_ACTIVITY_KEY] = now
        return self.get_response(request)


def stamp_session_activity(sender, request: HttpRequest, **kwargs) -> None:
    """`user_logged_in` receiver: a new session starts refreshed, so its first requests write
    nothing more."""
    request.session[SESSION_ACTIVITY_KEY] = _now()


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RejectNullCharactersMiddleware:
    """Refuse (400, our page) a request whose address, query string or form data holds a NUL
    character: PostgreSQL cannot store or even compare text containing one, so letting it
    through to a search or a filter would be a server error."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path:
            raise BadRequest(_("The address contains a NUL character."))
        data = [request.GET]
        if request.method == "POST" and request.content_type in FORM_TYPES:
            data.append(request.POST)
        for query in data:
            for key, values in query.lists():
                if "\x00" in key or any("\x00" in value for value in values):
                    raise BadRequest(_("The request contains a NUL character."))
        return self.get_response(request)
