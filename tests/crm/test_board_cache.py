"""The board's columns come from a shared cache (crm/board_cache.py), yet after any committed
write that changes a card, a count or a total, the next view of the board shows it: one test
per kind of writer. And a cached board costs fewer queries than a rendered one."""

import re

import pytest
from django.contrib.auth.models import update_last_login
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.board_cache import changes_boards
from crm.bulk_actions import deals_move, records_tag
from crm.merging import contacts_merge
from crm.models import Deal, DealStatus
from crm.owners import owners_reassign
from crm.pipeline_settings import stage_archive, stage_update, stages_reorder
from crm.services import (
    contact_erase_records,
    contact_update,
    deal_move,
    deal_update,
    organization_update,
)
from integrations.deal_closing import deal_close, deal_reopen
from tests.coop.factories import MembershipFactory
from tests.crm.factories import ContactFactory, DealFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

MEMORY = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "boards"}


@pytest.fixture(autouse=True)
def one_process_cache(settings, monkeypatch):
    """A memory cache for the boards: right for a single process, as in a test. The whole
    pages are not cached (coop/page_cache.py): these tests are about the boards' own cache."""
    settings.CACHES = {**settings.CACHES, "aggregates": MEMORY}
    caches["aggregates"].clear()
    monkeypatch.setattr("coop.page_cache._caching", lambda: False)


@pytest.fixture
def board(team, pipeline, stages, rep, manager):
    organization = OrganizationFactory(team=team, name="Acme Roofing")
    contact = ContactFactory(team=team, owner=rep, name="Olga Ortiz", organization=organization)
    deal = DealFactory(pipeline=pipeline, owner=rep, contact=contact, title="Solar roof")
    return {
        "team": team,
        "pipeline": pipeline,
        "stages": stages,
        "rep": rep,
        "manager": manager,
        "organization": organization,
        "contact": contact,
        "deal": deal,
    }


def _view(client, pipeline, **params) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("crm:pipeline_board", args=[pipeline.pk]), params).text
    return page[page.index('<div id="board"') :], len(queries)


def _columns(html) -> list[str]:
    return re.findall(r'<h2 id="stage-[^"]+">([^<]+?) <span', html)


def _write_then_view(client, board, write, django_capture_on_commit_callbacks, **params):
    before, _ = _view(client, board["pipeline"], **params)
    _view(client, board["pipeline"], **params)  # the cached one
    with django_capture_on_commit_callbacks(execute=True):
        write(board)
    return before, _view(client, board["pipeline"], **params)[0]


def test_a_second_view_is_served_from_the_cache_with_fewer_queries(rep_client, board):
    _first, first_queries = _view(rep_client, board["pipeline"])
    second, second_queries = _view(rep_client, board["pipeline"])
    assert second_queries <= first_queries - 3
    token = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', second)
    assert token and "<!--csrf-->" not in second
    assert ">Solar roof</a>" in second and "Olga Ortiz" in second


def test_each_viewer_gets_their_own_csrf_token_in_the_shared_cards(client, board):
    tokens = []
    for user in (board["rep"], board["manager"]):
        client.force_login(user)
        html, _ = _view(client, board["pipeline"])
        tokens.append(re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1))
        assert client.cookies["csrftoken"].value
    assert tokens[0] != tokens[1]


def _rename_deal(b):
    deal_update(
        actor=b["rep"],
        deal=b["deal"],
        title="Heat pump",
        value_cents=b["deal"].value_cents,
        contact=b["contact"],
        expected_close_date=b["deal"].expected_close_date,
    )


def _user_renamed(b):
    b["rep"].display_name = "Rita Rep"
    b["rep"].save()


# (writer, what the board shows after it)
SHOWN = {
    "deal created": (lambda b: DealFactory(pipeline=b["pipeline"], title="Heat pump"), "Heat pump"),
    "deal updated": (_rename_deal, "Heat pump"),
    "deals bulk-created (import)": (
        lambda b: Deal.objects.bulk_create(
            [DealFactory.build(pipeline=b["pipeline"], owner=b["rep"], title="Heat pump")]
        ),
        "Heat pump",
    ),
    "deals updated in bulk (import undo)": (
        lambda b: Deal.objects.filter(pk=b["deal"].pk).update(title="Heat pump"),
        "Heat pump",
    ),
    "deal owner reassigned": (
        lambda b: owners_reassign(
            actor=b["manager"],
            record_type="deal",
            record_ids=[b["deal"].pk],
            owner=MembershipFactory(team=b["team"], user__display_name="Nina New").user,
        ),
        "Nina New",
    ),
    "contact renamed": (
        lambda b: contact_update(actor=b["rep"], contact=b["contact"], name="Olga Stone"),
        "Olga Stone",
    ),
    "contacts merged": (
        lambda b: contacts_merge(
            actor=b["manager"],
            keep=ContactFactory(team=b["team"], name="Olga Kept"),
            remove=b["contact"],
            picks={},
        ),
        "Olga Kept",
    ),
    "contact erased": (
        lambda b: contact_erase_records(contact=b["contact"]),
        "Deal (erased contact)",
    ),
    "user renamed": (_user_renamed, "Rita Rep"),
    "stage renamed": (
        lambda b: stage_update(
            actor=b["manager"],
            stage=b["stages"]["Lead"],
            name="Enquiry",
            probability=10,
            is_won=False,
            is_lost=False,
        ),
        "Enquiry",
    ),
}


@pytest.mark.parametrize("writer", list(SHOWN))
def test_a_committed_write_shows_on_the_next_view(
    writer, rep_client, board, django_capture_on_commit_callbacks
):
    write, shown = SHOWN[writer]
    before, after = _write_then_view(rep_client, board, write, django_capture_on_commit_callbacks)
    assert shown not in before
    assert shown in after


def _counts(html) -> list[str]:
    return re.findall(r'<span class="deal-count">([^<]+)</span>', html)


@pytest.mark.parametrize(
    "write",
    [
        lambda b: deal_move(actor=b["rep"], deal=b["deal"], stage=b["stages"]["Proposal"]),
        lambda b: deals_move(actor=b["rep"], ids=[b["deal"].pk], stage=b["stages"]["Proposal"]),
        lambda b: deal_close(actor=b["rep"], deal=b["deal"], won=True),
        lambda b: b["deal"].delete(),
    ],
    ids=["moved", "moved in bulk", "closed", "deleted"],
)
def test_a_deal_leaving_its_column_changes_the_counts_at_once(
    write, rep_client, board, django_capture_on_commit_callbacks
):
    before, after = _write_then_view(rep_client, board, write, django_capture_on_commit_callbacks)
    assert _counts(before)[0] == "1 deal"
    assert _counts(after)[0] == "0 deals"


def test_a_reopened_deal_is_back_at_once(
    rep_client, manager, board, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        deal_close(actor=board["rep"], deal=board["deal"], won=True)
    before, after = _write_then_view(
        rep_client,
        board,
        lambda b: deal_reopen(actor=manager, deal=Deal.objects.get(pk=b["deal"].pk)),
        django_capture_on_commit_callbacks,
    )
    assert ">Solar roof</a>" not in before and ">Solar roof</a>" in after
    assert Deal.objects.get(pk=board["deal"].pk).status == DealStatus.OPEN


def test_a_tag_put_on_a_deal_narrows_the_tag_filter_at_once(
    rep_client, board, django_capture_on_commit_callbacks
):
    DealFactory(pipeline=board["pipeline"], title="Untagged")
    before, after = _write_then_view(
        rep_client,
        board,
        lambda b: records_tag(actor=b["rep"], kind="deals", ids=[b["deal"].pk], add=["solar"]),
        django_capture_on_commit_callbacks,
        tag="solar",
    )
    assert ">Solar roof</a>" not in before
    assert ">Solar roof</a>" in after and ">Untagged</a>" not in after


def test_an_organization_renamed_is_found_by_the_text_filter_at_once(
    rep_client, board, django_capture_on_commit_callbacks
):
    before, after = _write_then_view(
        rep_client,
        board,
        lambda b: organization_update(
            actor=b["rep"], organization=b["organization"], name="Zenith Energy"
        ),
        django_capture_on_commit_callbacks,
        q="Zenith",
    )
    assert ">Solar roof</a>" not in before and ">Solar roof</a>" in after


def test_stages_reordered_or_archived_change_the_columns_at_once(
    rep_client, manager, board, django_capture_on_commit_callbacks
):
    stages = board["stages"]
    _, reordered = _write_then_view(
        rep_client,
        board,
        lambda b: stages_reorder(
            actor=manager,
            pipeline=b["pipeline"],
            stage_ids=[s.pk for s in (stages["Proposal"], stages["Lead"], stages["Negotiation"])]
            + [s.pk for n, s in stages.items() if n not in ("Proposal", "Lead", "Negotiation")],
        ),
        django_capture_on_commit_callbacks,
    )
    assert _columns(reordered) == ["Proposal", "Lead", "Negotiation"]
    _, archived = _write_then_view(
        rep_client,
        board,
        lambda b: stage_archive(actor=manager, stage=stages["Negotiation"]),
        django_capture_on_commit_callbacks,
    )
    assert _columns(archived) == ["Proposal", "Lead"]


def test_a_login_does_not_empty_the_cache(rep_client, board, rep):
    _view(rep_client, board["pipeline"])
    _, cached_queries = _view(rep_client, board["pipeline"])
    update_last_login(None, rep)
    _, queries = _view(rep_client, board["pipeline"])
    assert queries == cached_queries


@pytest.mark.parametrize(
    ("sql", "changes"),
    [
        ('INSERT INTO "crm_deals" ("id") VALUES (%s)', True),
        ('UPDATE "crm_contacts" SET "name" = %s', True),
        ('DELETE FROM "crm_deal_tags" WHERE "deal_id" = %s', True),
        ('INSERT OR IGNORE INTO "crm_deal_tags" ("deal_id") VALUES (%s)', True),
        ('UPDATE "users" SET "display_name" = %s WHERE "id" = %s', True),
        ('UPDATE "users" SET "last_login" = %s WHERE "users"."id" = %s', False),
        ('SELECT * FROM "crm_deals"', False),
        ('INSERT INTO "crm_interactions" ("id") VALUES (%s)', False),
    ],
)
def test_which_statements_change_boards(sql, changes):
    assert changes_boards(sql) is changes


def test_a_column_page_is_cached_and_follows_a_rename(
    rep_client, board, django_capture_on_commit_callbacks
):
    for n in range(30):
        DealFactory(pipeline=board["pipeline"], title=f"Roof {n:02}")
    page, _ = _view(rep_client, board["pipeline"])
    more = re.search(r'class="more-cards" hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    first = rep_client.get(more, HTTP_HX_REQUEST="true").text
    assert 'name="csrfmiddlewaretoken"' in first and "<!--csrf-->" not in first
    assert rep_client.get(more, HTTP_HX_REQUEST="true").text.count("Roof") == first.count("Roof")
    last = Deal.objects.filter(title__startswith="Roof").order_by("-expected_close_date", "-id")
    with django_capture_on_commit_callbacks(execute=True):
        Deal.objects.filter(pk__in=[d.pk for d in last]).update(title="Renamed")
    again = rep_client.get(more, HTTP_HX_REQUEST="true").text
    assert "Roof" not in again and "Renamed" in again
