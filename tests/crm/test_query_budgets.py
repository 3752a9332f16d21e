"""The busiest pages make the same, small number of queries at 10 and at 1,000 rows."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.board import BOARD_CARDS_PER_PAGE
from crm.models import Contact, Deal, Interaction, InteractionType
from crm.selectors import TIMELINE_PAGE_SIZE
from crm.services import contact_timelines_touch
from crm.views.contacts import CONTACTS_PER_PAGE
from crm.views.deals import DEALS_PER_PAGE
from tests.crm.factories import NoteFactory, OrganizationFactory, TaskFactory

pytestmark = pytest.mark.django_db

# Each budget: session, user and the nav's unread-notification count, plus the page's own.
# + count, page of contacts with organization and owner joined, their tags, the tag filter's
# names and the bulk bar's owners
CONTACT_LIST_BUDGET = 8
# + contact, first timeline page (interactions, notes, done tasks), its upcoming meetings and
# open tasks, the team's usernames (for a note's mentions), the contact's deals, its tags
CONTACT_DETAIL_BUDGET = 12
# Seen again unchanged, the timeline comes from the cache (crm/timeline.py): contact, deals
# and tags.
CONTACT_DETAIL_CACHED_BUDGET = 6
# + pipeline, the owner filter's people, stages, per-stage aggregates, the ids of each column's
# first cards, the cards, the tag filter's names (with the owner filter: the owner)
BOARD_BUDGET = 11
# + pipeline, stages, a page of one column's cards (with the owner filter: the owner)
BOARD_MORE_BUDGET = 7
# + count, page of deals with their joins, the pipeline filter's choices, their tags, the tag
# filter's names, the bulk bar's owners and stages
DEAL_LIST_BUDGET = 10


def _contacts(team, owner, n, first=0):
    """Contacts `first` to `first + n - 1` (their emails unique in the team, as the
    database requires)."""
    Contact.objects.bulk_create(
        Contact(team=team, owner=owner, name=f"Person {i:04d}", email=f"p{i}@x.example")
        for i in range(first, first + n)
    )


def _interactions(contact, author, n):
    start = timezone.now() - datetime.timedelta(days=1)
    Interaction.objects.bulk_create(
        Interaction(
            contact=contact,
            author=author,
            interaction_type=InteractionType.CALL,
            summary=f"Call {i}",
            timestamp=start + datetime.timedelta(seconds=i),
        )
        for i in range(n)
    )
    # bulk_create sends no signals: say the timeline changed, as bulk writers must.
    contact_timelines_touch(contacts=Contact.objects.filter(pk=contact.pk))


def _deals(pipeline, stages, owner, contact, n):
    open_stages = [stages["Lead"], stages["Proposal"], stages["Negotiation"]]
    Deal.objects.bulk_create(
        Deal(
            pipeline=pipeline,
            stage=open_stages[i % 3],
            contact=contact,
            owner=owner,
            title=f"Deal {i}",
            value_cents=1000 + i,
            currency="EUR",
        )
        for i in range(n)
    )


def _contact_rows(page: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/contacts/[^"]+/">([^<]+)</a>', page)


def _deal_rows(page: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/deals/[^"]+/">([^<]+)</a>', page)


def _contact_deals(page: str) -> list[str]:
    return re.findall(r'<li><a href="/deals/[^"]+/">([^<]+)</a>', page)


def _timeline_entries(page: str) -> int:
    return page.count('<li class="timeline-entry')


def _board(page: str) -> tuple[list[int], int]:
    """The deal count of each column, and the number of cards shown."""
    counts = re.findall(r'<span class="deal-count">(\d+) deals?</span>', page)
    return [int(n) for n in counts], page.count('<li class="deal-card"')


def _board_of(rows: int) -> tuple[list[int], int]:
    """What the board shows for `rows` deals spread over Lead, Proposal and Negotiation."""
    counts = [len(range(stage, rows, 3)) for stage in range(3)]
    return counts, sum(min(n, BOARD_CARDS_PER_PAGE) for n in counts)


@pytest.mark.parametrize("rows", [10, 1000])
def test_contact_list_queries_do_not_grow_with_contacts(
    rep_client, team, rep, rows, django_assert_max_num_queries
):
    _contacts(team, rep, rows)
    url = reverse("crm:contact_list")
    with django_assert_max_num_queries(CONTACT_LIST_BUDGET):
        first = rep_client.get(url).text
    shown = range(min(rows, CONTACTS_PER_PAGE))
    assert _contact_rows(first) == [f"Person {i:04d}" for i in shown]
    with django_assert_max_num_queries(CONTACT_LIST_BUDGET):
        second = rep_client.get(url, {"q": "person", "page": 2}).text
    # The second page, or the last one when there is only one.
    shown = range(CONTACTS_PER_PAGE, 2 * CONTACTS_PER_PAGE) if rows > CONTACTS_PER_PAGE else shown
    assert _contact_rows(second) == [f"Person {i:04d}" for i in shown]


@pytest.mark.parametrize("rows", [10, 1000])
def test_contact_detail_queries_do_not_grow_with_the_timeline(
    rep_client, contact, rep, pipeline, stages, rows, django_assert_max_num_queries
):
    _interactions(contact, rep, rows)
    _deals(pipeline, stages, rep, contact, rows // 10)
    with django_assert_max_num_queries(CONTACT_DETAIL_BUDGET):
        page = rep_client.get(reverse("crm:contact_detail", args=[contact.pk])).text
    assert f"Call {rows - 1}" in page
    assert _timeline_entries(page) == min(rows, TIMELINE_PAGE_SIZE)
    assert sorted(_contact_deals(page)) == sorted(f"Deal {i}" for i in range(rows // 10))


@pytest.mark.parametrize("rows", [10, 1000])
def test_contact_detail_seen_again_takes_its_timeline_from_the_cache(
    rep_client, contact, rep, rows, django_assert_num_queries
):
    _interactions(contact, rep, rows)
    url = reverse("crm:contact_detail", args=[contact.pk])
    first = rep_client.get(url).text
    with django_assert_num_queries(CONTACT_DETAIL_CACHED_BUDGET):
        again = rep_client.get(url).text
    assert f"Call {rows - 1}" in again
    assert _timeline_entries(again) == min(rows, TIMELINE_PAGE_SIZE)
    assert _timeline_html(again) == _timeline_html(first)


def _timeline_html(page: str) -> str:
    return page[page.index('<div id="timeline"') : page.index('<aside class="contact-facts"')]


@pytest.mark.parametrize("rows", [10, 1000])
def test_board_queries_do_not_grow_with_deals(
    rep_client, pipeline, stages, rep, contact, rows, django_assert_max_num_queries
):
    _deals(pipeline, stages, rep, contact, rows)
    with django_assert_max_num_queries(BOARD_BUDGET):
        page = rep_client.get(reverse("crm:pipeline_board", args=[pipeline.pk])).text
    assert _board(page) == _board_of(rows)


@pytest.mark.parametrize("rows", [10, 1000])
def test_board_queries_do_not_grow_with_deals_under_a_filter(
    rep_client, pipeline, stages, rep, contact, rows, django_assert_max_num_queries
):
    _deals(pipeline, stages, rep, contact, rows)
    url = reverse("crm:pipeline_board", args=[pipeline.pk])
    with django_assert_max_num_queries(BOARD_BUDGET):
        page = rep_client.get(url, {"owner": rep.pk, "q": "deal", "sort": "value"}).text
    assert _board(page) == _board_of(rows)


@pytest.mark.parametrize("rows", [10, 1000])
def test_more_cards_queries_do_not_grow_with_deals(
    rep_client, pipeline, stages, rep, contact, rows, django_assert_max_num_queries
):
    _deals(pipeline, stages, rep, contact, rows)
    lead = reverse("crm:pipeline_column", args=[pipeline.pk, stages["Lead"].pk])
    shown, after = 0, ""
    for sort in ("close", "value"):
        params = {"owner": rep.pk, "sort": sort}
        with django_assert_max_num_queries(BOARD_MORE_BUDGET):
            first = rep_client.get(lead, params, headers={"HX-Request": "true"}).text
        shown = first.count('<li class="deal-card"')
        assert shown == min(len(range(0, rows, 3)), BOARD_CARDS_PER_PAGE)
        after = re.findall(r"after=([^\"&]+)", first)
        if after:
            with django_assert_max_num_queries(BOARD_MORE_BUDGET):
                second = rep_client.get(
                    lead, {**params, "after": after[0]}, headers={"HX-Request": "true"}
                ).text
            assert second.count('<li class="deal-card"') == min(
                len(range(0, rows, 3)) - BOARD_CARDS_PER_PAGE, BOARD_CARDS_PER_PAGE
            )
        else:
            assert rows < 3 * BOARD_CARDS_PER_PAGE


@pytest.mark.parametrize("rows", [10, 1000])
def test_deal_list_queries_do_not_grow_with_deals(
    rep_client, pipeline, stages, rep, contact, rows, django_assert_max_num_queries
):
    _deals(pipeline, stages, rep, contact, rows)
    with django_assert_max_num_queries(DEAL_LIST_BUDGET):
        page = rep_client.get(reverse("crm:deal_list"), {"q": "deal", "page": 2}).text
    assert f"{rows} deals." in page
    shown = _deal_rows(page)
    # The second page, or the last one when there is only one.
    assert len(shown) == (DEALS_PER_PAGE if rows > DEALS_PER_PAGE else rows)
    assert set(shown) <= {f"Deal {i}" for i in range(rows)}


def _page(client, url) -> tuple[int, str]:
    """The number of queries answering `url`, and the page."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.text


def test_the_counts_are_equal_at_10_and_1000_rows(rep_client, team, rep, pipeline, stages):
    contact = Contact.objects.create(team=team, owner=rep, name="Busy")
    urls = [
        reverse("crm:contact_list"),
        reverse("crm:contact_detail", args=[contact.pk]),
        reverse("crm:pipeline_board", args=[pipeline.pk]),
        reverse("crm:deal_list"),
    ]
    counts, names = {}, ["Busy"]
    for rows, more in ((10, 10), (1000, 990)):
        _contacts(team, rep, more, first=rows - more)
        names += [f"Person {i:04d}" for i in range(rows - more, rows)]
        _interactions(contact, rep, more)
        _deals(pipeline, stages, rep, contact, more)
        counts[rows], pages = zip(*(_page(rep_client, url) for url in urls), strict=True)
        contact_list, contact_detail, board, deal_list = pages
        assert _contact_rows(contact_list) == sorted(names)[:CONTACTS_PER_PAGE]
        assert _timeline_entries(contact_detail) == min(rows, TIMELINE_PAGE_SIZE)
        assert len(_contact_deals(contact_detail)) == rows
        assert _board(board) == _board_of(rows)
        assert f"{rows} deals." in deal_list
        assert len(_deal_rows(deal_list)) == min(rows, DEALS_PER_PAGE)
    assert counts[1000] == counts[10], counts


# Session, user, the record, whether the viewer manages the team (who may assign) and, for
# an organization, its open tasks: the notes and done tasks of both, and a contact's open
# tasks, are on their timelines, never loaded for this section (they were: up to four more).
ACTIVITY_BUDGET = {"contacts": 4, "organizations": 5}


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("kind", ["contacts", "organizations"])
def test_a_records_next_steps_section_loads_only_what_it_shows(
    rep_client, contact, rep, rows, kind, django_assert_max_num_queries
):
    record = contact if kind == "contacts" else OrganizationFactory(team=contact.team)
    link = {kind[:-1]: record, "deal": None}
    for n in range(rows):
        TaskFactory(**link, assignee=rep, title=f"Open step {n}")
        TaskFactory(**link, assignee=rep, completed_at=timezone.now())
        NoteFactory(**link, author=rep, body=f"Note {n}")
    url = reverse("crm:record_activity", args=[kind, record.pk])
    with django_assert_max_num_queries(ACTIVITY_BUDGET[kind]):
        html = rep_client.get(url, headers={"HX-Request": "true"}).text
    shown = 0 if kind == "contacts" else rows
    assert html.count('class="task-item') == shown
    assert "Add next step" in html and "Add note" in html
