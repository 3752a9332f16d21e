"""The busiest pages make the same, small number of queries at 10 and at 1,000 rows."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.models import Contact, Deal, Interaction, InteractionType
from crm.services import contact_timelines_touch

pytestmark = pytest.mark.django_db

# Each budget: session, user and the nav's unread-notification count, plus the page's own.
CONTACT_LIST_BUDGET = 5  # + count, page of contacts with organization and owner joined
# + contact, first timeline page, its upcoming meetings, the contact's deals
CONTACT_DETAIL_BUDGET = 7
# Seen again unchanged, the timeline comes from the cache (crm/timeline.py): contact and deals.
CONTACT_DETAIL_CACHED_BUDGET = 5
BOARD_BUDGET = 7  # + pipeline, stages, per-stage aggregates, cards
DEAL_LIST_BUDGET = 6  # + count, page of deals with their joins, the pipeline filter's choices


def _contacts(team, owner, n):
    Contact.objects.bulk_create(
        Contact(team=team, owner=owner, name=f"Person {i:04d}", email=f"p{i}@x.example")
        for i in range(n)
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


def _count(client, url, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("rows", [10, 1000])
def test_contact_list_queries_do_not_grow_with_contacts(
    rep_client, team, rep, rows, django_assert_max_num_queries
):
    _contacts(team, rep, rows)
    url = reverse("crm:contact_list")
    with django_assert_max_num_queries(CONTACT_LIST_BUDGET):
        assert "Person 0000" in rep_client.get(url).text
    with django_assert_max_num_queries(CONTACT_LIST_BUDGET):
        rep_client.get(url, {"q": "person", "page": 2})


@pytest.mark.parametrize("rows", [10, 1000])
def test_contact_detail_queries_do_not_grow_with_the_timeline(
    rep_client, contact, rep, pipeline, stages, rows, django_assert_max_num_queries
):
    _interactions(contact, rep, rows)
    _deals(pipeline, stages, rep, contact, rows // 10)
    with django_assert_max_num_queries(CONTACT_DETAIL_BUDGET):
        page = rep_client.get(reverse("crm:contact_detail", args=[contact.pk])).text
    assert f"Call {rows - 1}" in page


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
    assert _timeline_html(again) == _timeline_html(first)


def _timeline_html(page: str) -> str:
    return page[page.index('<div id="timeline"') : page.index('<aside class="contact-facts"')]


@pytest.mark.parametrize("rows", [10, 1000])
def test_board_queries_do_not_grow_with_deals(
    rep_client, pipeline, stages, rep, contact, rows, django_assert_max_num_queries
):
    _deals(pipeline, stages, rep, contact, rows)
    with django_assert_max_num_queries(BOARD_BUDGET):
        rep_client.get(reverse("crm:pipeline_board", args=[pipeline.pk]))


@pytest.mark.parametrize("rows", [10, 1000])
def test_deal_list_queries_do_not_grow_with_deals(
    rep_client, pipeline, stages, rep, contact, rows, django_assert_max_num_queries
):
    _deals(pipeline, stages, rep, contact, rows)
    with django_assert_max_num_queries(DEAL_LIST_BUDGET):
        rep_client.get(reverse("crm:deal_list"), {"q": "deal", "page": 2})


def test_the_counts_are_equal_at_10_and_1000_rows(rep_client, team, rep, pipeline, stages):
    contact = Contact.objects.create(team=team, owner=rep, name="Busy")
    pages = [
        reverse("crm:contact_list"),
        reverse("crm:contact_detail", args=[contact.pk]),
        reverse("crm:pipeline_board", args=[pipeline.pk]),
        reverse("crm:deal_list"),
    ]
    _contacts(team, rep, 10)
    _interactions(contact, rep, 10)
    _deals(pipeline, stages, rep, contact, 10)
    small = [_count(rep_client, url) for url in pages]
    _contacts(team, rep, 990)
    _interactions(contact, rep, 990)
    _deals(pipeline, stages, rep, contact, 990)
    assert [_count(rep_client, url) for url in pages] == small, small
