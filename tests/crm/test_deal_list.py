import pytest
from django.urls import reverse

from integrations.deal_closing import deal_close
from tests.crm.factories import ContactFactory, DealFactory, PipelineFactory, lost_reason_for

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def deals(pipeline, stages, rep, team, contact):
    DealFactory(pipeline=pipeline, owner=rep, title="Solar roof", contact=contact)
    DealFactory(pipeline=pipeline, owner=rep, title="Heat pump", stage=stages["Proposal"])
    closed = DealFactory(pipeline=pipeline, owner=rep, title="Old bikes")
    deal_close(actor=rep, deal=closed, won=False, lost_reason=lost_reason_for(closed))
    DealFactory(pipeline=PipelineFactory(team=team, name="Other"), owner=rep, title="Elsewhere")


def _titles(response):
    return sorted(deal.title for deal in response.context["page_obj"])


def test_deal_list_shows_open_deals_by_default(rep_client, deals):
    response = rep_client.get(reverse("crm:deal_list"))
    assert _titles(response) == ["Elsewhere", "Heat pump", "Solar roof"]


def test_deal_list_filters_by_status_pipeline_stage_and_search(rep_client, deals, pipeline, stages):
    url = reverse("crm:deal_list")
    assert _titles(rep_client.get(url, {"status": "lost"})) == ["Old bikes"]
    assert _titles(rep_client.get(url, {"status": ""})) == [
        "Elsewhere",
        "Heat pump",
        "Old bikes",
        "Solar roof",
    ]
    assert _titles(rep_client.get(url, {"pipeline": pipeline.pk})) == ["Heat pump", "Solar roof"]
    assert _titles(rep_client.get(url, {"stage": stages["Proposal"].pk})) == ["Heat pump"]
    assert _titles(rep_client.get(url, {"q": "olga"})) == ["Solar roof"]
    assert _titles(rep_client.get(url, {"q": "heat"})) == ["Heat pump"]


def test_live_filtering_answers_only_the_results(rep_client, deals):
    response = rep_client.get(reverse("crm:deal_list"), {"q": "solar"}, **HTMX)
    assert response.text.lstrip().startswith('<section id="results"')
    assert "Solar roof" in response.text


def test_a_foreign_pipeline_filter_is_an_error_not_a_leak(rep_client, deals, other_team, outsider):
    foreign = PipelineFactory(team=other_team)
    DealFactory(pipeline=foreign, owner=outsider, title="Secret")
    response = rep_client.get(reverse("crm:deal_list"), {"pipeline": foreign.pk})
    assert "Select a valid choice" in response.text
    assert "Secret" not in response.text
    assert list(response.context["page_obj"]) == []
    stage = foreign.stages.first()
    response = rep_client.get(reverse("crm:deal_list"), {"stage": stage.pk})
    assert "Stage: Select a valid choice" in response.text


def test_deal_list_never_shows_other_teams_deals(client, outsider, deals):
    client.force_login(outsider)
    response = client.get(reverse("crm:deal_list"), {"status": ""})
    assert _titles(response) == []
    assert "No deal matches these filters." in response.text


def test_deal_list_is_paginated(rep_client, pipeline, rep):
    for n in range(30):
        DealFactory(pipeline=pipeline, owner=rep, title=f"Deal {n:02d}", expected_close_date=None)
    first = rep_client.get(reverse("crm:deal_list"))
    assert len(first.context["page_obj"]) == 25
    assert "?page=2" in first.text
    second = rep_client.get(reverse("crm:deal_list"), {"page": 2})
    assert len(second.context["page_obj"]) == 5


def test_the_contact_of_a_deal_is_linked_from_the_list(rep_client, team, rep, pipeline):
    contact = ContactFactory(team=team, owner=rep, name="Zoe Zed")
    DealFactory(pipeline=pipeline, owner=rep, contact=contact)
    page = rep_client.get(reverse("crm:deal_list")).text
    assert f'<a href="/contacts/{contact.pk}/">Zoe Zed</a>' in page


def test_a_long_list_is_counted_only_a_few_pages_ahead(rep_client, pipeline, rep, monkeypatch):
    monkeypatch.setattr("coop.pagination.COUNT_AHEAD", 50)
    DealFactory.create_batch(60, pipeline=pipeline, owner=rep)
    first = rep_client.get(reverse("crm:deal_list")).text
    assert "More than 50 deals." in first
    assert "Page 1 of more than 2" in first
    assert "?page=2" in first
    # Further on, the count reaches the end of the list and is exact again.
    last = rep_client.get(reverse("crm:deal_list"), {"page": 3})
    assert len(last.context["page_obj"]) == 10
    assert "60 deals." in last.text
    assert "Page 3 of 3" in last.text
