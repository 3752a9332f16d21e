import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

# The language choice and the JavaScript catalogue serve the login page too.
PUBLIC_URL_NAMES = {
    "login",
    "logout",
    "healthz",
    "readyz",
    "favicon",
    "calendar_app:feed",
    "set_language",
    "javascript-catalog",
}


def _concrete_paths(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    """Every project URL (outside the admin), with dummy values for its parameters."""
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            child_ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _concrete_paths(entry, prefix + str(entry.pattern), child_ns)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            route = re.sub(r"<uuid:[^>]+>", "00000000-0000-0000-0000-000000000000", route)
            route = re.sub(r"<int:[^>]+>", "1", route)
            route = re.sub(r"<[^>]+>", "x", route)
            yield f"{namespace}{entry.name}", "/" + route


def test_every_page_but_login_redirects_anonymous_users_to_login(client):
    paths = [(name, path) for name, path in _concrete_paths(get_resolver())]
    assert len(paths) >= 6
    login_url = reverse("login")
    for name, path in paths:
        if name in PUBLIC_URL_NAMES:
            continue
        response = client.get(path)
        assert response.status_code == 302, (name, path, response.status_code)
        assert response["Location"].startswith(login_url), (name, path)


def test_admin_is_closed_to_anonymous_users_and_non_staff(client, rep):
    assert client.get("/admin/").status_code == 302
    client.force_login(rep)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_dashboard_greets_the_user_and_lists_their_team(rep_client, rep):
    response = rep_client.get(reverse("dashboard"))
    assert response.status_code == 200
    assert str(rep) in response.text
    assert "North" in response.text


def test_navigation_links_every_module_and_admin_only_for_staff(client, rep, staff_user):
    client.force_login(rep)
    page = client.get(reverse("dashboard")).text
    for label in ["Dashboard", "Contacts", "Calendar", "Forecasts", "Wellness"]:
        assert f">{label}</a>" in page
    assert ">Admin</a>" not in page
    client.force_login(staff_user)
    assert ">Admin</a>" in client.get(reverse("dashboard")).text


def test_login_with_good_credentials_reaches_dashboard(client, rep):
    response = client.post(
        reverse("login"),
        {"username": "rep", "password": "a-long-test-password-42"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert response.context["user"] == rep


def test_login_with_a_wrong_password_shows_an_error(client, rep):
    response = client.post(reverse("login"), {"username": "rep", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text
    assert "_auth_user_id" not in client.session


def test_a_post_without_csrf_token_is_refused(rep):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "rep", "password": "x"})
    assert response.status_code == 403
    assert "Form expired" in response.text
    client.force_login(rep)
    assert client.post(reverse("logout")).status_code == 403
    assert "_auth_user_id" in client.session


def test_logout_is_a_post_that_ends_the_session(rep_client):
    response = rep_client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in rep_client.session


def test_unknown_url_gets_our_404_page(rep_client):
    response = rep_client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert 'class="site-header"' in response.text


def test_server_error_page_is_ours_and_needs_no_request_context(rep):
    from django.test import RequestFactory
    from django.views.defaults import server_error

    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_403_page_uses_our_layout(rep_client):
    from django.core.exceptions import PermissionDenied
    from django.test import RequestFactory
    from django.views.defaults import permission_denied

    request = RequestFactory().get("/")
    response = permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    assert "Access denied" in response.content.decode()


def test_pages_send_a_csp_without_unsafe_script_sources(rep_client):
    response = rep_client.get(reverse("dashboard"))
    policy = response["Content-Security-Policy"]
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert "'self'" in script_src
    assert "'nonce-" in script_src
    assert "unsafe-inline" not in script_src
    assert "unsafe-eval" not in script_src
    assert "default-src 'self'" in policy


def test_pages_have_no_inline_scripts_or_handlers_except_nonced_ones(rep_client):
    response = rep_client.get(reverse("dashboard"))
    html = response.text
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, tag
        if "django_htmx" in tag or "htmx" in tag:
            assert f'nonce="{nonce}"' in tag, tag
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler found"
    assert 'style="' not in html


def test_htmx_is_served_by_the_app_and_requests_carry_the_csrf_header(rep_client):
    html = rep_client.get(reverse("dashboard")).text
    assert re.search(r'<script src="/static/django_htmx/htmx[^"]*\.js"', html)
    assert 'hx-headers=\'{"x-csrftoken": "' in html
    assert '"includeIndicatorStyles": false' in html


def test_favicon_ico_leads_to_the_static_icon_the_pages_link(client, rep_client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")
    assert f'<link rel="icon" href="{response["Location"]}"' in rep_client.get("/").text


def test_a_nul_character_in_a_search_or_a_form_is_a_clear_400(rep_client):
    response = rep_client.get(reverse("crm:contact_list"), {"q": "a\x00b"})
    assert response.status_code == 400
    assert "Request not understood" in response.text
    response = rep_client.post(reverse("crm:contact_new"), {"name": "x\x00"})
    assert response.status_code == 400
    assert "Nothing was changed" in response.text
    # In the address too, e.g. the public feed's token.
    assert rep_client.get("/calendar/feed/a%00b.ics").status_code == 400
