from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.i18n import set_language as django_set_language

from coop.db_router import reads_from_replica
from coop.forms import PersonalSettingsForm
from coop.i18n import language_for
from coop.page_cache import cached_page
from coop.services import personal_settings_update


@require_GET
@cached_page
@reads_from_replica
def dashboard(request: HttpRequest) -> HttpResponse:
    memberships = request.user.memberships.select_related("team")
    return render(request, "coop/dashboard.html", {"memberships": memberships})


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the probes, downloads):
    send them to the static icon the pages link to."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


@require_GET
def bench_floor(request: HttpRequest) -> HttpResponse:
    """The benchmark floor of the load test (`benchmarks/loadtest.py`): the least a
    logged-in page costs in this app (session, user and every middleware, no query or
    template of its own), so page throughput can be stated as a share of it."""
    return HttpResponse(f"ok {request.user.pk}", content_type="text/plain")


@require_http_methods(["GET", "POST"])
def personal_settings(request: HttpRequest) -> HttpResponse:
    """ "Your settings": display name, time zone, language and colour scheme."""
    user = request.user
    form = PersonalSettingsForm(
        request.POST or None,
        initial={
            "display_name": user.display_name,
            "time_zone": user.time_zone,
            "language": user.language,
            "color_scheme": user.color_scheme,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = personal_settings_update(user=user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            # The confirmation reads in the language just chosen (blank: the browser's).
            if user.language:
                translation.activate(language_for(user))
            else:
                translation.activate(translation.get_language_from_request(request))
            messages.success(request, _("Your settings are saved."))
            return redirect("personal_settings")
    status = 400 if form.errors else 200
    return render(request, "coop/settings.html", {"form": form}, status=status)


# The login page's language choice for people not signed in: Django's view (a cookie), open
# to them. A signed-in person's own setting wins over the cookie (UserLanguageMiddleware).
set_language = login_not_required(django_set_language)
