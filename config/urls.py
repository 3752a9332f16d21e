from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from coop import probes, views
from coop.forms import LoginForm

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("settings/", views.personal_settings, name="personal_settings"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    # The strings of static/js/*.js in the page's language (djangojs catalogues), for every
    # page, the login page included.
    path(
        "i18n/js/",
        login_not_required(JavaScriptCatalog.as_view(packages=["coop"])),
        name="javascript-catalog",
    ),
    path("", include("crm.urls")),
    path("", include("integrations.urls")),
    path("calendar/", include("calendar_app.urls")),
    path("forecasts/", include("finance.urls")),
    path("wellness/", include("health.urls")),
    path("admin/", admin.site.urls),
    path("healthz", probes.healthz, name="healthz"),
    path("readyz", probes.readyz, name="readyz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("bench/floor", views.bench_floor, name="bench_floor"),
]
