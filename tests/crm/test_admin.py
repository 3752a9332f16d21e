import datetime
import re
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.utils import timezone

from crm.models import (
    Contact,
    Deal,
    DealStatus,
    Interaction,
    InteractionType,
    Organization,
    Pipeline,
    PipelineStage,
)
from integrations.deal_closing import deal_close
from tests.crm.factories import (
    ContactFactory,
    DealFactory,
    InteractionFactory,
    OrganizationFactory,
    PipelineFactory,
)

pytestmark = pytest.mark.django_db

CRM_MODELS = [Organization, Contact, Interaction, Pipeline, PipelineStage, Deal]


@pytest.mark.parametrize("model", CRM_MODELS)
def test_every_crm_model_is_in_the_admin_with_search_and_filters(model):
    model_admin = admin.site._registry[model]
    assert model_admin.search_fields
    assert model_admin.list_filter


@pytest.fixture
def crm_rows(team, other_team, rep, outsider):
    """Rows of every CRM model in the North team, matching the searches and filters below,
    and in the South team, matching none (South's also older, in USD, closed)."""
    now = timezone.now()
    old = now - datetime.timedelta(days=400)
    solar_org = OrganizationFactory(team=team, name="Solar Org", size="10-49")
    wind_org = OrganizationFactory(team=other_team, name="Wind Org")
    sam = ContactFactory(team=team, owner=rep, name="Sam Solar", organization=solar_org)
    will = ContactFactory(team=other_team, owner=outsider, name="Will Wind")
    Contact.objects.filter(pk=will.pk).update(created_at=old)
    solar = PipelineFactory(team=team, name="Solar pipeline", currency="EUR")
    wind = PipelineFactory(team=other_team, name="Wind pipeline", currency="USD")
    solar_stages = {stage.name: stage for stage in solar.stages.all()}
    wind_stages = {stage.name: stage for stage in wind.stages.all()}
    return SimpleNamespace(
        team=team,
        now=now,
        organizations=(solar_org, wind_org),
        contacts=(sam, will),
        interactions=(
            InteractionFactory(contact=sam, summary="Solar call", timestamp=now),
            InteractionFactory(
                contact=will,
                summary="Wind email",
                interaction_type=InteractionType.EMAIL,
                timestamp=old,
            ),
        ),
        pipelines=(solar, wind),
        solar_stages=solar_stages,
        wind_stages=wind_stages,
        deals=(
            DealFactory(
                pipeline=solar,
                stage=solar_stages["Lead"],
                owner=rep,
                contact=sam,
                title="Solar roof",
                expected_close_date=now.date() + datetime.timedelta(days=10),
            ),
            DealFactory(
                pipeline=wind,
                stage=wind_stages["Lost"],
                owner=outsider,
                contact=will,
                title="Wind farm",
                status=DealStatus.LOST,
                closed_at=old,
                expected_close_date=old.date(),
            ),
        ),
    )


def _past_week(field: str, now) -> dict:
    """The parameters of the admin's "Past 7 days" for a date-time field."""
    return {
        f"{field}__gte": str(now - datetime.timedelta(days=7)),
        f"{field}__lt": str(now + datetime.timedelta(days=1)),
    }


def _cases(rows) -> dict:
    """Per model: (query parameters, the rows the changelist must show) for its search and
    each of its list filters."""
    (org, _), (sam, _), (call, _), (solar, _), (deal, _) = (
        rows.organizations,
        rows.contacts,
        rows.interactions,
        rows.pipelines,
        rows.deals,
    )
    solar_stages, wind_stages = rows.solar_stages, rows.wind_stages
    today = rows.now.date()
    return {
        Organization: [
            ({"q": "solar"}, [org]),
            ({"team__id__exact": rows.team.pk}, [org]),
            ({"size__exact": "10-49"}, [org]),
        ],
        Contact: [
            ({"q": "solar"}, [sam]),
            ({"team__id__exact": rows.team.pk}, [sam]),
            (_past_week("created_at", rows.now), [sam]),
        ],
        Interaction: [
            ({"q": "solar"}, [call]),
            ({"interaction_type__exact": "call"}, [call]),
            (_past_week("timestamp", rows.now), [call]),
        ],
        Pipeline: [
            ({"q": "solar"}, [solar]),
            ({"team__id__exact": rows.team.pk}, [solar]),
            ({"currency__exact": "EUR"}, [solar]),
        ],
        PipelineStage: [
            ({"q": "solar"}, list(solar_stages.values())),
            ({"is_won__exact": "1"}, [solar_stages["Won"], wind_stages["Won"]]),
            ({"is_lost__exact": "1"}, [solar_stages["Lost"], wind_stages["Lost"]]),
            ({"pipeline__id__exact": solar.pk}, list(solar_stages.values())),
        ],
        Deal: [
            ({"q": "solar"}, [deal]),
            ({"status__exact": "open"}, [deal]),
            ({"pipeline__id__exact": solar.pk}, [deal]),
            ({"stage__id__exact": solar_stages["Lead"].pk}, [deal]),
            (
                {
                    "expected_close_date__gte": str(today),
                    "expected_close_date__lt": str(today + datetime.timedelta(days=30)),
                },
                [deal],
            ),
        ],
    }


@pytest.mark.parametrize("model", CRM_MODELS)
def test_crm_changelists_show_only_what_the_search_and_each_filter_match(
    admin_list, crm_rows, model
):
    admin_list(model, _cases(crm_rows)[model])


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
    assert "1 deal closed as won." in response.text
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
