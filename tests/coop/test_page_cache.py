"""The page cache (coop/page_cache.py): a page asked for again by the same browser is served
from the cache, never to another browser or person, never after a committed write, with this
request's CSP nonce and a CSRF token that still works; and no page's GET replaces the data
generation itself."""

import datetime
import re

import pytest
from django.conf import settings
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.db import connection, transaction
from django.http import HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string

from coop import page_cache as page_cache_module
from coop.bulk import copy_insert
from coop.page_cache import changes_pages, generation_replace
from crm.models import Contact, Note
from crm.services import contact_update
from tests.crm.factories import ContactFactory

CURRENT_MINUTE = page_cache_module.current_minute

pytestmark = pytest.mark.django_db

# A cached page costs the session and the user, nothing more.
HIT_QUERIES = 2


def browser(user) -> Client:
    """A signed-in browser, with the CSRF cookie the login page leaves in every browser."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies[settings.CSRF_COOKIE_NAME] = get_random_string(
        CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS
    )
    return client


@pytest.fixture
def contact(team, rep):
    return ContactFactory(team=team, owner=rep, name="Olga Ortiz")


def _url(contact) -> str:
    return reverse("crm:contact_detail", args=[contact.pk])


def _queries(client, url, **headers) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.text, len(queries)


def _without_nonces(html: str) -> str:
    return re.sub(r'nonce="[^"]+"', "", html)


def test_a_second_get_is_served_from_the_cache(
    page_cache, rep, contact, django_assert_max_num_queries
):
    client = browser(rep)
    first, first_queries = _queries(client, _url(contact))
    with django_assert_max_num_queries(HIT_QUERIES):
        second = client.get(_url(contact))
    assert first_queries > HIT_QUERIES
    assert "Olga Ortiz" in second.text
    assert _without_nonces(second.text) == _without_nonces(first)


def test_a_committed_write_shows_on_the_next_get(
    page_cache, rep, contact, django_capture_on_commit_callbacks
):
    client = browser(rep)
    _queries(client, _url(contact))
    with django_capture_on_commit_callbacks(execute=True):
        contact_update(actor=rep, contact=contact, name="Olga Stone")
    page, queries = _queries(client, _url(contact))
    assert "Olga Stone" in page and queries > HIT_QUERIES


def test_a_rolled_back_write_keeps_the_cached_page(
    page_cache, rep, contact, django_capture_on_commit_callbacks
):
    client = browser(rep)
    _queries(client, _url(contact))
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        contact_update(actor=rep, contact=contact, name="Olga Stone")
        raise RuntimeError("rolled back")
    assert callbacks == []
    page, queries = _queries(client, _url(contact))
    assert queries <= HIT_QUERIES and "Olga Ortiz" in page


def test_another_session_or_person_never_gets_this_sessions_page(page_cache, rep, manager, contact):
    mine = browser(rep)
    my_page, _ = _queries(mine, _url(contact))
    _queries(mine, _url(contact))
    for other in (browser(rep), browser(manager)):
        page, queries = _queries(other, _url(contact))
        assert queries > HIT_QUERIES
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        assert token not in my_page


def test_a_hit_carries_this_requests_csp_nonce_in_body_and_header(page_cache, rep, contact):
    client = browser(rep)
    client.get(_url(contact))
    hit = client.get(_url(contact))
    nonces = set(re.findall(r'nonce="([^"]+)"', hit.text))
    header = re.search(r"'nonce-([^']+)'", hit.headers["Content-Security-Policy"]).group(1)
    assert nonces == {header}
    again = client.get(_url(contact))
    assert set(re.findall(r'nonce="([^"]+)"', again.text)) != nonces


def test_a_form_on_a_cached_page_posts(page_cache, rep, contact):
    client = browser(rep)
    client.get(_url(contact))
    _hit, queries = _queries(client, _url(contact))
    assert queries <= HIT_QUERIES
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', _hit).group(1)
    response = client.post(
        reverse("crm:note_new", args=["contacts", contact.pk]),
        {"csrfmiddlewaretoken": token, "body": "Called back"},
    )
    assert response.status_code in (200, 302)
    assert Note.objects.get(contact=contact).body == "Called back"


def _message_waiting(client, rf, text: str) -> None:
    """A flash message waiting in the browser's messages cookie, as a redirect leaves it."""
    storage = CookieStorage(rf.get("/"))
    storage.add(messages.SUCCESS, text)
    response = HttpResponse()
    storage.update(response)
    client.cookies[storage.cookie_name] = response.cookies[storage.cookie_name].value


def test_a_waiting_message_is_shown_not_a_cached_page(page_cache, rep, contact, rf):
    client = browser(rep)
    _queries(client, _url(contact))
    _queries(client, _url(contact))
    _message_waiting(client, rf, "Contact saved.")
    page, queries = _queries(client, _url(contact))
    assert "Contact saved." in page and queries > HIT_QUERIES
    page, queries = _queries(client, _url(contact))
    assert "Contact saved." not in page


def test_the_next_minute_renders_again(page_cache, rep, contact, monkeypatch):
    monkeypatch.setattr(page_cache_module, "current_minute", CURRENT_MINUTE)
    now = timezone.now().replace(second=30)
    monkeypatch.setattr(timezone, "now", lambda: now)
    client = browser(rep)
    _queries(client, _url(contact))
    assert _queries(client, _url(contact))[1] <= HIT_QUERIES
    monkeypatch.setattr(timezone, "now", lambda: now + datetime.timedelta(minutes=1))
    assert _queries(client, _url(contact))[1] > HIT_QUERIES


def test_without_a_shared_cache_nothing_is_cached(rep, contact):
    assert isinstance(caches["aggregates"], DummyCache)
    client = browser(rep)
    _queries(client, _url(contact))
    page, queries = _queries(client, _url(contact))
    assert queries > HIT_QUERIES and "Olga Ortiz" in page


def test_a_copy_into_a_table_replaces_the_generation(
    page_cache, team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        now = timezone.now()
        row = ContactFactory.build(team=team, owner=None, name="Copied")
        row.created_at = row.updated_at = now
        copy_insert(Contact, [row])
    assert generation_replace in callbacks


@pytest.mark.parametrize(
    ("sql", "changes"),
    [
        ('INSERT INTO "crm_notes" ("id") VALUES (%s)', True),
        ('UPDATE "crm_contacts" SET "name" = %s', True),
        ('DELETE FROM "coop_memberships" WHERE "id" = %s', True),
        ('INSERT OR IGNORE INTO "crm_deal_tags" ("deal_id") VALUES (%s)', True),
        ('UPDATE "users" SET "display_name" = %s WHERE "id" = %s', True),
        ('UPDATE "users" SET "last_login" = %s, "is_staff" = %s WHERE "id" = %s', True),
        ('UPDATE "users" SET "last_login" = %s WHERE "users"."id" = %s', False),
        ('UPDATE "django_session" SET "session_data" = %s', False),
        ('INSERT INTO "axes_accesslog" ("id") VALUES (%s)', False),
        ('INSERT INTO "coop_audit_events" ("id") VALUES (%s)', False),
        ('SELECT * FROM "crm_deals"', False),
    ],
)
def test_which_statements_change_pages(sql, changes):
    assert changes_pages(sql) is changes


def test_a_page_read_from_a_replica_is_not_cached(page_cache, rep, contact, monkeypatch):
    """The replica may not have the last commit yet when the generation is replaced."""
    home = reverse("dashboard")
    client = browser(rep)
    _queries(client, home)
    assert _queries(client, home)[1] <= HIT_QUERIES
    monkeypatch.setattr("coop.page_cache.replica_alias", lambda: "replica")
    client = browser(rep)
    _queries(client, home)
    assert _queries(client, home)[1] > HIT_QUERIES
    assert _queries(client, _url(contact))[1] > HIT_QUERIES
    assert _queries(client, _url(contact))[1] <= HIT_QUERIES
