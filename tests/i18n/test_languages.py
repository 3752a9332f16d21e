"""Each person's language: their own setting, else the browser's (or the login page's
choice), else English; the settings page that sets it; the JavaScript catalogue."""

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from coop.i18n import language_for
from coop.languages import Language
from coop.models import ColorScheme, User
from coop.services import personal_settings_update

pytestmark = pytest.mark.django_db


def test_the_site_offers_the_languages_people_choose_from():
    codes = [code for code, _ in settings.LANGUAGES]
    assert codes == ["en-gb", "es", "fr", "de"]
    assert {language_for(User(language=value)) for value in Language.values} == set(codes)
    assert language_for(User(language="")) == "en-gb"
    assert language_for(None) == "en-gb"


@pytest.mark.parametrize(
    ("accept", "lang", "title"),
    [
        ("", "en-gb", "Log in"),
        ("de-DE,de;q=0.9,en;q=0.5", "de", "Anmelden"),
        ("fr-CH, fr;q=0.9", "fr", "Se connecter"),
        ("es", "es", "Iniciar sesión"),
        ("en-US,en;q=0.9", "en-gb", "Log in"),
        ("ja,zh;q=0.8", "en-gb", "Log in"),
    ],
)
def test_a_visitor_gets_the_browsers_language_else_english(client, accept, lang, title):
    headers = {"Accept-Language": accept} if accept else {}
    response = client.get(reverse("login"), headers=headers)
    assert f'<html lang="{lang}" ' in response.text
    assert f"<h1>{title}</h1>" in response.text
    assert response["Content-Language"] == lang
    assert "Accept-Language" in response["Vary"]


def test_the_login_page_lets_a_visitor_pick_a_language(client):
    page = client.get(reverse("login")).text
    assert 'action="/i18n/setlang/"' in page
    for code, name in settings.LANGUAGES:
        assert f'value="{code}" lang="{code}"' in page and name in page
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/accounts/login/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    page = client.get(reverse("login"), headers={"Accept-Language": "de"}).text
    assert "<h1>Se connecter</h1>" in page
    assert '<option value="fr" lang="fr" selected>' in page


def test_a_signed_in_persons_own_language_wins_over_the_browser(client, rep):
    rep.language = Language.FRENCH
    rep.save()
    client.force_login(rep)
    page = client.get(reverse("dashboard"), headers={"Accept-Language": "de"}).text
    assert '<html lang="fr" ' in page
    assert "Tableau de bord" in page and "Vos équipes" in page
    rep.language = ""
    rep.save()
    page = client.get(reverse("dashboard"), headers={"Accept-Language": "de"}).text
    assert '<html lang="de" ' in page and "Ihre Teams" in page


def test_the_top_bar_links_the_settings_page(rep_client):
    page = rep_client.get(reverse("dashboard")).text
    assert f'<a class="who" href="{reverse("personal_settings")}"' in page


def test_the_settings_page_shows_and_saves_a_persons_settings(rep_client, rep):
    page = rep_client.get(reverse("personal_settings")).text
    assert "<h1>Your settings</h1>" in page
    assert f'value="{rep.time_zone}"' in page
    response = rep_client.post(
        reverse("personal_settings"),
        {
            "display_name": "  Rafa  ",
            "time_zone": "Europe/Berlin",
            "language": "de",
            "color_scheme": "dark",
        },
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert (rep.display_name, rep.time_zone, rep.language, rep.color_scheme) == (
        "Rafa",
        "Europe/Berlin",
        "de",
        ColorScheme.DARK,
    )
    page = rep_client.get(response["Location"]).text
    assert '<html lang="de" ' in page
    assert "Ihre Einstellungen sind gespeichert." in page
    assert "<h1>Ihre Einstellungen</h1>" in page
    assert '<option value="dark" selected>Dunkel</option>' in page


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("time_zone", "Mars/Olympus", "is not a known time zone"),
        ("language", "xx", "Select a valid choice"),
        ("color_scheme", "neon", "Select a valid choice"),
        ("display_name", "two\nlines", "Use one line of text"),
    ],
)
def test_a_bad_setting_is_refused_and_nothing_changes(rep_client, rep, field, value, error):
    data = {"display_name": "Rafa", "time_zone": "UTC", "language": "", "color_scheme": "auto"}
    before = _settings_of(rep)
    response = rep_client.post(reverse("personal_settings"), {**data, field: value})
    assert response.status_code == 400
    assert error in response.text and 'role="alert"' in response.text
    rep.refresh_from_db()
    assert _settings_of(rep) == before


def _settings_of(user):
    return (user.display_name, user.time_zone, user.language, user.color_scheme)


def test_the_service_refuses_what_the_form_would_and_writes_nothing(rep):
    good = {"display_name": "", "time_zone": "UTC", "language": "", "color_scheme": "auto"}
    for bad in (
        {"time_zone": "Nowhere/Town"},
        {"language": "klingon"},
        {"color_scheme": "sepia"},
        {"display_name": "a\tb"},
    ):
        with pytest.raises(ValidationError):
            personal_settings_update(user=rep, **{**good, **bad})
    before = _settings_of(rep)
    rep.refresh_from_db()
    assert _settings_of(rep) == before


def test_the_javascript_strings_come_in_the_pages_language(client, rep):
    rep.language = Language.GERMAN
    rep.save()
    client.force_login(rep)
    page = client.get(reverse("dashboard")).text
    assert f'<script src="{reverse("javascript-catalog")}" defer></script>' in page
    catalogue = client.get(reverse("javascript-catalog")).text
    assert '"Actual revenue": "Tats\\u00e4chlicher Umsatz"' in catalogue
    client.logout()
    catalogue = client.get(reverse("javascript-catalog"), headers={"Accept-Language": "fr"})
    assert catalogue.status_code == 200
    assert '"Pipeline value": "Valeur du pipeline"' in catalogue.text


def test_messages_of_the_core_are_translated():
    with translation.override("es"), pytest.raises(ValidationError) as raised:
        personal_settings_update(
            user=User(), display_name="", time_zone="UTC", language="", color_scheme="x"
        )
    assert raised.value.messages == ["Tema de color desconocido: x."]
