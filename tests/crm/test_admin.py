import re

import pytest
from django.contrib import admin

from crm.models import Contact, Deal, DealStatus, Interaction, Organization, Pipeline, PipelineStage
from integrations.deal_closing import deal_close
from tests.crm.factories import InteractionFactory

pytestmark = pytest.mark.django_db

CRM_MODELS = [Organization, Contact, Interaction, Pipeline, PipelineStage, Deal]


@pytest.mark.parametrize("model", CRM_MODELS)
def test_every_crm_model_is_in_the_admin_with_search_and_filters(model):
    model_admin = admin.site._registry[model]
    assert model_admin.search_fields
    assert model_admin.list_filter


@pytest.mark.parametrize("model", CRM_MODELS)
def test_crm_changelists_search_and_filter(client, staff_user, deal, model):
    InteractionFactory(contact=deal.contact, summary="Solar call")
    client.force_login(staff_user)
    url = f"/admin/crm/{model._meta.model_name}/"
    assert client.get(url).status_code == 200
    response = client.get(url, {"q": "sol"})
    assert response.status_code == 200


def test_deal_changelist_shows_money_in_its_currency_and_filters_by_status(
    client, staff_user, deal, rep
):
    deal_close(actor=rep, deal=deal, won=True)
    client.force_login(staff_user)
    response = client.get("/admin/crm/deal/", {"status__exact": "won"})
    assert [d.title for d in response.context["cl"].result_list] == ["Solar roof"]
    assert "€1,000.00" in response.text
    response = client.get("/admin/crm/deal/", {"status__exact": "open"})
    assert list(response.context["cl"].result_list) == []


def test_pipeline_admin_edits_stages_inline(client, staff_user, pipeline):
    client.force_login(staff_user)
    page = client.get(f"/admin/crm/pipeline/{pipeline.pk}/change/").text
    assert 'name="stages-0-probability"' in page
    assert 'value="Negotiation"' in page


def test_contact_admin_shows_only_the_latest_interactions_read_only(client, staff_user, contact):
    for n in range(25):
        InteractionFactory(contact=contact, summary=f"Entry {n}")
    client.force_login(staff_user)
    page = client.get(f"/admin/crm/contact/{contact.pk}/change/").text
    assert "Latest 20 interactions (read-only)" in page
    assert set(re.findall(r"Entry \d+", page)) == {f"Entry {n}" for n in range(5, 25)}
    assert 'name="interactions-0-summary"' not in page


def test_close_action_uses_deal_close_and_refuses_closed_deals(client, staff_user, deal, rep):
    client.force_login(staff_user)
    data = {"action": "close_as_won", "_selected_action": [deal.pk]}
    response = client.post("/admin/crm/deal/", data, follow=True)
    assert "1 deal(s) closed as won." in response.text
    deal.refresh_from_db()
    assert (deal.status, deal.stage.name) == (DealStatus.WON, "Won")
    response = client.post("/admin/crm/deal/", {**data, "action": "close_as_lost"}, follow=True)
    assert "Solar roof: This deal is already closed as won." in response.text
    deal.refresh_from_db()
    assert deal.status == DealStatus.WON


def test_adding_a_deal_in_the_admin_takes_the_pipeline_currency_and_an_open_stage(
    client, staff_user, pipeline, stages, rep
):
    client.force_login(staff_user)
    data = {
        "title": "Admin deal",
        "pipeline": pipeline.pk,
        "stage": stages["Won"].pk,
        "owner": rep.pk,
        "value_cents": "5000",
    }
    response = client.post("/admin/crm/deal/add/", data)
    assert "Open deals go in an open stage" in response.text
    assert not Deal.objects.exists()
    client.post("/admin/crm/deal/add/", {**data, "stage": stages["Lead"].pk})
    assert Deal.objects.get().currency == "EUR"
