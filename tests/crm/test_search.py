"""The one search: grouped by kind, ranked, within the visibility rule, pluggable."""

import pytest
from django.db import connection
from django.db.models import Q
from django.urls import reverse

from crm.models import Contact
from crm.search import (
    _PROVIDERS,
    SearchHit,
    SearchProvider,
    corrected_query,
    ilike_contains,
    search_everything,
    search_provider_register,
    search_words_refresh,
)
from tests.crm.factories import ContactFactory, DealFactory, OrganizationFactory, TaskFactory

pytestmark = pytest.mark.django_db


def _titles(groups, kind):
    return [hit.title for group in groups if group.kind == kind for hit in group.hits]


def test_results_come_grouped_by_kind(team, rep, pipeline):
    ContactFactory(team=team, name="Solveig Berg")
    OrganizationFactory(team=team, name="Solar Coop")
    DealFactory(pipeline=pipeline, title="Solar roof")

    groups = search_everything(user=rep, query="sol")

    assert [group.kind for group in groups] == ["contacts", "organizations", "deals"]
    assert _titles(groups, "deals") == ["Solar roof"]


def test_a_name_starting_with_the_query_comes_first(team, rep, pipeline):
    for title in ("Roof for the solar farm", "Solar roof", "Big solar array"):
        DealFactory(pipeline=pipeline, title=title)

    assert _titles(search_everything(user=rep, query="solar"), "deals")[0] == "Solar roof"


def test_contacts_are_found_by_email_too(team, rep):
    ContactFactory(team=team, name="Olga Ortiz", email="olga@windpower.example")
    assert _titles(search_everything(user=rep, query="windpower"), "contacts") == ["Olga Ortiz"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram similarity is PostgreSQL's")
def test_a_typo_still_finds_the_deal_on_postgresql(rep, pipeline):
    DealFactory(pipeline=pipeline, title="Heat pump retrofit")
    assert _titles(search_everything(user=rep, query="retrofitt"), "deals") == [
        "Heat pump retrofit"
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram similarity is PostgreSQL's")
def test_each_mistyped_word_is_corrected_from_the_records_words(team, rep, pipeline):
    DealFactory(pipeline=pipeline, title="Solar roof #12")
    DealFactory(pipeline=pipeline, title="Roofing felt")
    ContactFactory(team=team, name="Solveig Rofstad")
    assert corrected_query("solr rof #12") == "solar roof #12"
    assert _titles(search_everything(user=rep, query="solr rof"), "deals") == ["Solar roof #12"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram similarity is PostgreSQL's")
def test_words_written_in_bulk_join_the_dictionary_on_refresh(team, rep):
    Contact.objects.bulk_create([Contact(team=team, name="Bartholomew Quince")])
    assert corrected_query("bartholomeu") == "bartholomeu"
    search_words_refresh()
    assert corrected_query("bartholomeu") == "bartholomew"
    assert _titles(search_everything(user=rep, query="Bartholomeu"), "contacts") == [
        "Bartholomew Quince"
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram similarity is PostgreSQL's")
def test_a_correction_finds_nothing_of_another_team(rep, foreign_contact):
    assert search_everything(user=rep, query=foreign_contact.name[:-1] + "x") == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram similarity is PostgreSQL's")
def test_a_typo_search_answers_in_constant_queries(
    team, rep_client, pipeline, django_assert_max_num_queries
):
    for n in range(12):
        DealFactory(pipeline=pipeline, title=f"Solar roof {n}")
    # Session, user, unread notifications, one query per kind (four), the correction, and
    # again one per kind.
    with django_assert_max_num_queries(12):
        response = rep_client.get(reverse("crm:search"), {"q": "solr"})
    assert response.status_code == 200
    assert "Solar roof 0" in response.content.decode()


def test_tasks_are_found_and_lead_to_their_record(rep, pipeline, outsider, other_team):
    deal = DealFactory(pipeline=pipeline, title="Community solar", owner=rep)
    TaskFactory(deal=deal, title="Send the offer", assignee=rep)
    foreign = DealFactory(pipeline__team=other_team, owner=outsider)
    TaskFactory(deal=foreign, title="Send the other offer", assignee=outsider)

    groups = search_everything(user=rep, query="send the")

    assert [group.kind for group in groups] == ["tasks"]
    (hit,) = groups[0].hits
    assert hit.title == "Send the offer"
    assert hit.url == reverse("crm:deal_detail", args=[deal.pk])
    assert "Community solar" in hit.detail


def test_other_teams_records_are_never_found(rep, foreign_contact):
    assert search_everything(user=rep, query=foreign_contact.name[:5]) == []


def test_too_short_a_query_finds_nothing(team, rep):
    ContactFactory(team=team, name="Al")
    assert search_everything(user=rep, query=" a ") == []


def test_each_kind_gives_at_most_the_limit(team, rep):
    ContactFactory.create_batch(7, team=team, name="Anna Same")
    assert len(_titles(search_everything(user=rep, query="anna", limit=5), "contacts")) == 5


def test_a_registered_provider_adds_its_kind(rep, monkeypatch):
    monkeypatch.setattr("crm.search._PROVIDERS", dict(_PROVIDERS))

    def find(user, query, limit):
        return [SearchHit(f"Task about {query}", "/tasks/1/")]

    search_provider_register(SearchProvider("tasks", "Tasks", find, order=40))

    groups = search_everything(user=rep, query="offer")
    assert [(g.label, g.hits[0].title) for g in groups] == [("Tasks", "Task about offer")]


def test_the_search_page_answers_in_constant_queries(
    team, rep_client, pipeline, django_assert_max_num_queries
):
    for n in range(12):
        ContactFactory(team=team, name=f"Mira {n}")
        DealFactory(pipeline=pipeline, title=f"Mira deal {n}")
    # Session, user, unread notifications, then one query per kind (contacts, organizations,
    # deals, tasks).
    with django_assert_max_num_queries(7):
        response = rep_client.get(reverse("crm:search"), {"q": "mira"})
    assert response.status_code == 200
    assert "Mira deal 0" in response.content.decode()


def test_the_htmx_search_answers_the_results_fragment(team, rep_client):
    ContactFactory(team=team, name="Zora Quist")
    response = rep_client.get(reverse("crm:search"), {"q": "zora"}, headers={"HX-Request": "true"})
    text = response.content.decode()
    assert "Zora Quist" in text
    assert "<html" not in text
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_the_search_page_says_when_nothing_matches(rep_client):
    text = rep_client.get(reverse("crm:search"), {"q": "nothing-like-this"}).content.decode()
    assert "Nothing matches" in text


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the ILIKE lookup is PostgreSQL's")
def test_wildcards_in_the_query_are_taken_literally(team):
    ContactFactory(team=team, name="Anna 100% Solar")
    ContactFactory(team=team, name="Anna 1000 Solar")
    ContactFactory(team=team, name="Lee a_b")
    ContactFactory(team=team, name="Lee axb")
    names = Contact.objects.filter(
        Q(ilike_contains("name", "100%")) | Q(ilike_contains("name", "a_b"))
    ).values_list("name", flat=True)
    assert sorted(names) == ["Anna 100% Solar", "Lee a_b"]
