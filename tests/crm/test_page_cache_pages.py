"""Every cached page (coop/page_cache.py) is served again from the cache, and after each kind
of committed write it is rendered afresh; a GET of a cached page replaces no generation
itself (else nothing would ever be served from the cache)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coop.page_cache import generation_replace
from crm.bulk_actions import records_tag
from crm.merging import contacts_merge
from crm.models import Organization
from crm.notes import note_create
from crm.services import contact_update, deal_move
from tests.coop.factories import UserFactory
from tests.coop.test_page_cache import HIT_QUERIES, browser
from tests.crm.factories import ContactFactory, DealFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

# name: (url of the world, request headers)
PAGES = {
    "contact detail": (lambda w: reverse("crm:contact_detail", args=[w["contact"].pk]), {}),
    "contact timeline": (lambda w: reverse("crm:contact_timeline", args=[w["contact"].pk]), {}),
    "contacts list": (lambda w: reverse("crm:contact_list"), {}),
    "deals list": (lambda w: reverse("crm:deal_list"), {}),
    "organizations list": (lambda w: reverse("crm:organization_list"), {}),
    "home": (lambda w: reverse("dashboard"), {}),
    "my day": (lambda w: reverse("crm:my_day"), {"HX-Request": "true"}),
    "reports": (lambda w: reverse("crm:reports"), {}),
    "search": (lambda w: reverse("crm:search") + "?q=olga", {}),
    "calendar week": (lambda w: reverse("crm:calendar") + "?view=week", {}),
    "board": (lambda w: reverse("crm:pipeline_board", args=[w["pipeline"].pk]), {}),
    "board column": (
        lambda w: reverse("crm:pipeline_column", args=[w["pipeline"].pk, w["stages"]["Lead"].pk]),
        {"HX-Request": "true"},
    ),
}


@pytest.fixture
def world(page_cache, team, rep, manager, pipeline, stages):
    organization = OrganizationFactory(team=team, name="Acme Roofing")
    contact = ContactFactory(team=team, owner=rep, name="Olga Ortiz", organization=organization)
    deal = DealFactory(pipeline=pipeline, owner=rep, contact=contact, title="Solar roof")
    return {
        "team": team,
        "rep": rep,
        "manager": manager,
        "pipeline": pipeline,
        "stages": stages,
        "organization": organization,
        "contact": contact,
        "deal": deal,
    }


def _get(client, world, page) -> int:
    url, headers = PAGES[page]
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(world), headers=headers)
    assert response.status_code == 200, page
    return len(queries)


def _admin_adds_a_deal(w):
    staff = browser(UserFactory(is_staff=True, is_superuser=True))
    staff.handler.enforce_csrf_checks = False
    data = {"title": "Admin deal", "pipeline": w["pipeline"].pk, "stage": w["stages"]["Lead"].pk}
    response = staff.post(
        reverse("admin:crm_deal_add"), {**data, "owner": w["rep"].pk, "value_cents": "5000"}
    )
    assert response.status_code == 302, response.text


WRITERS = {
    "note on the contact": lambda w: note_create(
        actor=w["rep"], record=w["contact"], body="Called back"
    ),
    "deal moved": lambda w: deal_move(
        actor=w["rep"], deal=w["deal"], stage=w["stages"]["Proposal"]
    ),
    "contact renamed": lambda w: contact_update(
        actor=w["rep"], contact=w["contact"], name="Olga Stone"
    ),
    "admin change": _admin_adds_a_deal,
    "bulk tagging": lambda w: records_tag(
        actor=w["rep"], kind="contacts", ids=[w["contact"].pk], add=["solar"]
    ),
    "merge": lambda w: contacts_merge(
        actor=w["manager"],
        keep=w["contact"],
        remove=ContactFactory(team=w["team"], name="Olga Twin"),
        picks={},
    ),
    "raw queryset update": lambda w: Organization.objects.filter(pk=w["organization"].pk).update(
        name="Zenith Energy"
    ),
}


@pytest.mark.parametrize("page", list(PAGES))
def test_a_page_is_served_again_from_the_cache_and_its_gets_replace_no_generation(
    world, page, django_capture_on_commit_callbacks
):
    client = browser(world["rep"])
    with django_capture_on_commit_callbacks() as callbacks:
        assert _get(client, world, page) > HIT_QUERIES
        assert _get(client, world, page) <= HIT_QUERIES
    assert generation_replace not in callbacks


# Every page after a write, and every kind of writer before a page: invalidation is one
# generation for all pages, so each page and each writer once covers both (not their product).
PAGE_AFTER_WRITER = [(page, list(WRITERS)[n % len(WRITERS)]) for n, page in enumerate(PAGES)]


@pytest.mark.parametrize(("page", "writer"), PAGE_AFTER_WRITER)
def test_a_committed_write_renders_the_page_afresh(
    world, page, writer, django_capture_on_commit_callbacks
):
    client = browser(world["rep"])
    _get(client, world, page)
    assert _get(client, world, page) <= HIT_QUERIES
    with django_capture_on_commit_callbacks(execute=True):
        WRITERS[writer](world)
    assert _get(client, world, page) > HIT_QUERIES
