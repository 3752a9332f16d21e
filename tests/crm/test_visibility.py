"""A person of another team gets a 404 for every page, partial and endpoint of a record,
and nothing is written. Staff see everything; a manager sees the teams they manage."""

import pytest
from django.urls import reverse

from crm.models import Contact, Interaction
from tests.crm.factories import InteractionFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _contact_endpoints(contact, entry):
    return [
        ("get", reverse("crm:contact_detail", args=[contact.pk]), {}),
        ("get", reverse("crm:contact_edit", args=[contact.pk]), {}),
        ("post", reverse("crm:contact_edit", args=[contact.pk]), {"name": "Hacked"}),
        ("get", reverse("crm:contact_timeline", args=[contact.pk]), {}),
        ("get", reverse("crm:contact_timeline", args=[contact.pk]), {"after": entry.pk}),
        (
            "post",
            reverse("crm:contact_log_interaction", args=[contact.pk]),
            {"interaction_type": "call", "summary": "Sneaky"},
        ),
    ]


def test_a_rep_of_another_team_gets_404_for_every_contact_endpoint(client, outsider, contact):
    entry = InteractionFactory(contact=contact, summary="Private")
    client.force_login(outsider)
    for method, url, data in _contact_endpoints(contact, entry):
        for headers in ({}, HTMX):
            response = getattr(client, method)(url, data, **headers)
            assert response.status_code == 404, (method, url, headers)
            assert "Olga Ortiz" not in response.text
    assert Contact.objects.get().name == "Olga Ortiz"
    assert list(Interaction.objects.values_list("summary", flat=True)) == ["Private"]


@pytest.mark.parametrize("person", ["rep", "manager", "finance_user", "staff_user"])
def test_team_members_and_staff_open_the_contact(client, request, person, contact):
    client.force_login(request.getfixturevalue(person))
    assert client.get(reverse("crm:contact_detail", args=[contact.pk])).status_code == 200


def test_a_manager_sees_the_teams_they_manage_and_not_others(client, manager, foreign_contact):
    client.force_login(manager)
    assert client.get(reverse("crm:contact_detail", args=[foreign_contact.pk])).status_code == 404


def _deal_endpoints(deal, stages):
    return [
        ("get", reverse("crm:deal_detail", args=[deal.pk]), {}),
        ("get", reverse("crm:deal_edit", args=[deal.pk]), {}),
        ("post", reverse("crm:deal_edit", args=[deal.pk]), {"title": "Hacked", "value": "1"}),
        ("post", reverse("crm:deal_move", args=[deal.pk]), {"stage": stages["Proposal"].pk}),
        ("post", reverse("integrations:deal_close", args=[deal.pk]), {"outcome": "won"}),
        ("get", reverse("crm:pipeline_board", args=[deal.pipeline_id]), {}),
    ]


def test_a_rep_of_another_team_gets_404_for_every_deal_endpoint(client, outsider, deal, stages):
    client.force_login(outsider)
    for method, url, data in _deal_endpoints(deal, stages):
        for headers in ({}, HTMX):
            response = getattr(client, method)(url, data, **headers)
            assert response.status_code == 404, (method, url, headers)
            assert "Solar roof" not in response.text
    deal.refresh_from_db()
    assert (deal.title, deal.stage, deal.status) == ("Solar roof", stages["Lead"], "open")


def test_other_teams_deals_and_pipelines_are_not_listed_or_offered(client, outsider, deal):
    client.force_login(outsider)
    assert "Sales" not in client.get(reverse("crm:pipeline_list")).text
    page = client.get(reverse("crm:deal_new"), {"contact": deal.contact_id}).text
    assert "Olga Ortiz" not in page
    assert "Sales (EUR)" not in page
