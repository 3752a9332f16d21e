import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from crm.models import Contact, DealStatus, Organization
from crm.services import (
    contact_create,
    organization_create,
    organization_domain,
    organization_update,
)
from tests.crm.factories import (
    ContactFactory,
    DealFactory,
    InteractionFactory,
    OrganizationFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("https://WWW.Example.coop/about", "example.coop"),
        ("example.coop", "example.coop"),
        ("http://shop.example.coop:8080", "shop.example.coop"),
        ("anna@Example.coop", "example.coop"),
        ("", ""),
    ],
)
def test_organization_domain_is_the_bare_lower_case_host(text, domain):
    assert organization_domain(text) == domain


def test_organization_create_takes_the_domain_from_the_website(rep, team):
    organization = organization_create(
        actor=rep, team=team, name=" Acme Coop ", website="https://www.acme.example/"
    )
    assert organization.name == "Acme Coop"
    assert organization.domain == "acme.example"


def test_organization_names_are_unique_in_a_team_whatever_the_case(rep, team):
    organization_create(actor=rep, team=team, name="Acme")
    with pytest.raises(ValidationError, match="already has an organization"):
        organization_create(actor=rep, team=team, name="ACME")
    assert Organization.objects.count() == 1


def test_organization_create_refuses_another_teams_member(outsider, team):
    with pytest.raises(ValidationError):
        organization_create(actor=outsider, team=team, name="Acme")
    assert not Organization.objects.exists()


def test_organization_update_refuses_an_organization_the_actor_cannot_see(outsider, team):
    organization = OrganizationFactory(team=team, name="Acme")
    with pytest.raises(ValidationError):
        organization_update(actor=outsider, organization=organization, name="Mine")
    organization.refresh_from_db()
    assert organization.name == "Acme"


def test_organization_fields_refuse_control_characters(rep, team):
    with pytest.raises(ValidationError):
        organization_create(actor=rep, team=team, name="Acme", industry="Food\nDrink")


def test_a_contact_typed_with_an_existing_name_in_other_case_joins_it(rep, team):
    organization = OrganizationFactory(team=team, name="Acme")
    contact = contact_create(actor=rep, team=team, name="Ann", organization_name="acme")
    assert contact.organization == organization
    assert Organization.objects.count() == 1


def test_list_searches_by_name_domain_or_industry_and_counts_contacts(rep_client, team):
    acme = OrganizationFactory(team=team, name="Acme", domain="acme.example", industry="Bakery")
    OrganizationFactory(team=team, name="Globex", domain="globex.example")
    ContactFactory.create_batch(2, team=team, organization=acme)
    for query in ("acm", "acme.ex", "baker"):
        response = rep_client.get(reverse("crm:organization_list"), {"q": query}, **HTMX)
        assert response.status_code == 200
        assert "Acme" in response.text and "Globex" not in response.text, query
        assert '<td class="numeric">2</td>' in response.text
        assert "<html" not in response.text


def test_list_hides_other_teams_organizations(rep_client, other_team):
    OrganizationFactory(team=other_team, name="Hidden Ltd")
    response = rep_client.get(reverse("crm:organization_list"))
    assert "Hidden Ltd" not in response.text
    assert "No organizations yet" in response.text


def test_list_is_paginated(rep_client, team):
    OrganizationFactory.create_batch(26, team=team)
    response = rep_client.get(reverse("crm:organization_list"))
    assert "26 organizations" in response.text
    assert response.context["page_obj"].paginator.num_pages == 2


def test_create_page_adds_an_organization_and_shows_it(rep_client, team):
    response = rep_client.post(
        reverse("crm:organization_new"),
        {
            "team": team.pk,
            "name": "Acme",
            "website": "https://www.acme.example",
            "phone": "+33 1 23 45 67 89",
            "address": "1 rue du Port\n44000 Nantes",
            "industry": "Bakery",
            "size": "10-49",
        },
        follow=True,
    )
    organization = Organization.objects.get()
    assert response.redirect_chain[-1][0] == reverse(
        "crm:organization_detail", args=[organization.pk]
    )
    assert organization.domain == "acme.example"
    assert "Organization Acme added." in response.text
    assert "1 rue du Port<br>44000 Nantes" in response.text
    assert "10-49 people" in response.text


def test_create_page_shows_a_duplicate_name_on_the_form(rep_client, team):
    OrganizationFactory(team=team, name="Acme")
    response = rep_client.post(reverse("crm:organization_new"), {"team": team.pk, "name": "acme"})
    assert response.status_code == 400
    assert "already has an organization of this name" in response.text
    assert Organization.objects.count() == 1


def test_edit_page_changes_the_organization(rep_client, team):
    organization = OrganizationFactory(team=team, name="Acme")
    response = rep_client.post(
        reverse("crm:organization_edit", args=[organization.pk]),
        {"name": "Acme Coop", "domain": "ACME.example", "size": "250+"},
    )
    assert response.status_code == 302
    organization.refresh_from_db()
    assert (organization.name, organization.domain, organization.size) == (
        "Acme Coop",
        "acme.example",
        "250+",
    )


def test_other_teams_get_a_404_for_an_organization(client, outsider, team):
    organization = OrganizationFactory(team=team)
    client.force_login(outsider)
    for name in ("crm:organization_detail", "crm:organization_edit"):
        assert client.get(reverse(name, args=[organization.pk])).status_code == 404


def test_organization_page_shows_contacts_deals_totals_and_merged_timeline(
    rep_client, team, rep, pipeline
):
    organization = OrganizationFactory(team=team, name="Acme")
    ann = ContactFactory(team=team, organization=organization, name="Ann Archer")
    bob = ContactFactory(team=team, organization=organization, name="Bob Baker")
    ContactFactory(team=team, name="Elsewhere Eve")
    InteractionFactory(contact=ann, summary="Called Ann")
    InteractionFactory(contact=bob, summary="Emailed Bob")
    DealFactory(pipeline=pipeline, contact=ann, value_cents=100_000, currency="EUR")
    DealFactory(pipeline=pipeline, contact=bob, value_cents=50_050, currency="EUR")
    DealFactory(pipeline=pipeline, contact=bob, value_cents=70_000, currency="USD")
    won = DealFactory(pipeline=pipeline, contact=ann, value_cents=20_000, currency="EUR")
    won.status, won.closed_at = DealStatus.WON, won.created_at
    won.save()

    response = rep_client.get(reverse("crm:organization_detail", args=[organization.pk]))

    assert response.status_code == 200
    assert "Ann Archer" in response.text and "Bob Baker" in response.text
    assert "Elsewhere Eve" not in response.text
    assert "Called Ann" in response.text and "Emailed Bob" in response.text
    totals = response.context["totals"]
    assert [(row.currency, row.count, row.total_cents) for row in totals["open"]] == [
        ("EUR", 2, 150_050),
        ("USD", 1, 70_000),
    ]
    assert [(row.currency, row.total_cents) for row in totals["won"]] == [("EUR", 20_000)]
    assert totals["lost"] == []


def test_organization_page_costs_a_constant_number_of_queries(
    rep_client, team, pipeline, django_assert_max_num_queries
):
    organization = OrganizationFactory(team=team, name="Acme")
    for n in range(5):
        contact = ContactFactory(team=team, organization=organization)
        InteractionFactory(contact=contact, summary=f"Entry {n}")
        DealFactory(pipeline=pipeline, contact=contact)
    with django_assert_max_num_queries(14):
        response = rep_client.get(reverse("crm:organization_detail", args=[organization.pk]))
    assert response.text.count("Entry ") == 5


def test_contact_form_suggests_visible_organizations(rep_client, team, other_team):
    OrganizationFactory(team=team, name="Acme North")
    OrganizationFactory(team=other_team, name="Acme South")
    response = rep_client.get(reverse("crm:organization_options"), {"organization": "acme"})
    assert response.text == '<option value="Acme North"></option>'
    assert rep_client.get(reverse("crm:organization_options")).text == ""


def test_contact_form_offers_the_suggestions_and_creates_a_new_organization(rep_client, team):
    page = rep_client.get(reverse("crm:contact_new"), {"organization": "Acme"})
    assert 'list="organization-options"' in page.text
    assert '<datalist id="organization-options">' in page.text
    assert 'value="Acme"' in page.text
    rep_client.post(
        reverse("crm:contact_new"), {"team": team.pk, "name": "Ann", "organization": "Acme"}
    )
    assert Contact.objects.get().organization.name == "Acme"


def test_contact_page_links_to_its_organization(rep_client, team, rep):
    organization = OrganizationFactory(team=team, name="Acme")
    contact = ContactFactory(team=team, owner=rep, organization=organization)
    response = rep_client.get(reverse("crm:contact_detail", args=[contact.pk]))
    assert reverse("crm:organization_detail", args=[organization.pk]) in response.text


def test_organization_timeline_pages_through_every_entry_in_order(rep_client, team):
    organization = OrganizationFactory(team=team)
    start = timezone.now() - datetime.timedelta(days=100)
    contacts = [ContactFactory(team=team, organization=organization) for _ in range(5)]
    for n in range(45):
        InteractionFactory(
            contact=contacts[n % 5],
            summary=f"Entry {n:02d}",
            timestamp=start + datetime.timedelta(hours=n),
        )
    page = rep_client.get(reverse("crm:organization_detail", args=[organization.pk]))
    seen = re.findall(r"Entry (\d\d)", page.text)
    url = reverse("crm:organization_timeline", args=[organization.pk])
    while match := re.search(rf'hx-get="{re.escape(url)}\?after=([0-9a-f-]+)"', page.text):
        page = rep_client.get(url, {"after": match[1]}, headers={"HX-Request": "true"})
        assert page.status_code == 200
        seen += re.findall(r"Entry (\d\d)", page.text)
    assert seen == [f"{n:02d}" for n in reversed(range(45))]


def test_organization_timeline_page_costs_a_constant_number_of_queries(
    rep_client, team, django_assert_max_num_queries
):
    organization = OrganizationFactory(team=team)
    contacts = [ContactFactory(team=team, organization=organization) for _ in range(5)]
    entries = [InteractionFactory(contact=contacts[n % 5]) for n in range(60)]
    oldest_first = sorted(entries, key=lambda entry: (entry.timestamp, entry.created_at, entry.id))
    url = reverse("crm:organization_timeline", args=[organization.pk])
    # + the organization's notes and done tasks, merged into the page (two queries)
    with django_assert_max_num_queries(8):
        response = rep_client.get(url, {"after": oldest_first[-1].pk})
    assert response.status_code == 200
    assert response.text.count('class="timeline-entry') == 20


def test_organization_timeline_refuses_an_entry_of_another_organization(rep_client, team):
    organization = OrganizationFactory(team=team)
    elsewhere = InteractionFactory(contact=ContactFactory(team=team))
    url = reverse("crm:organization_timeline", args=[organization.pk])
    assert rep_client.get(url, {"after": elsewhere.pk}).status_code == 404
    assert rep_client.get(url, {"after": "not-an-id"}).status_code == 404
