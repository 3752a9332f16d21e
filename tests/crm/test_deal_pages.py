import datetime

import pytest
from django.urls import reverse

from crm.models import Deal, DealStatus
from tests.crm.factories import (
    ContactFactory,
    DealFactory,
    OrganizationFactory,
    PipelineFactory,
    lost_reason_for,
)

pytestmark = pytest.mark.django_db


def _new_deal_data(stage, **overrides):
    return {
        "stage": stage.pk,
        "title": "Heat pumps",
        "value": "12500.50",
        "contact": "",
        "expected_close_date": "2027-03-31",
        **overrides,
    }


# Detail and closing


def test_deal_detail_shows_its_facts_and_close_buttons(rep_client, deal):
    response = rep_client.get(reverse("crm:deal_detail", args=[deal.pk]))
    assert response.status_code == 200
    page = response.text
    assert "<h1>Solar roof</h1>" in page
    assert "€1,000.00" in page
    assert '<dl class="facts deal-facts">' in page
    assert "Lead" in page
    assert "Olga Ortiz" in page
    assert ">Close as won</button>" in page
    assert ">Close as lost</button>" in page


@pytest.mark.parametrize(
    ("outcome", "status", "stage"), [("won", "won", "Won"), ("lost", "lost", "Lost")]
)
def test_closing_a_deal_from_its_page(rep_client, deal, outcome, status, stage):
    response = rep_client.post(
        reverse("integrations:deal_close", args=[deal.pk]),
        {"outcome": outcome, "lost_reason": lost_reason_for(deal).pk},
        follow=True,
    )
    assert f"Solar roof closed as {status}." in response.text
    deal.refresh_from_db()
    assert (deal.status, deal.stage.name) == (status, stage)
    assert deal.closed_at is not None
    assert ">Close as won</button>" not in response.text
    assert f"This deal is closed as {status}" in response.text


def test_closing_a_closed_deal_is_refused_with_a_message(rep_client, deal):
    url = reverse("integrations:deal_close", args=[deal.pk])
    rep_client.post(url, {"outcome": "won"})
    deal.refresh_from_db()
    closed_at = deal.closed_at
    response = rep_client.post(url, {"outcome": "lost"}, follow=True)
    assert "This deal is already closed as won." in response.text
    deal.refresh_from_db()
    assert (deal.status, deal.closed_at) == (DealStatus.WON, closed_at)


def test_closing_without_an_outcome_asks_for_one(rep_client, deal):
    response = rep_client.post(reverse("integrations:deal_close", args=[deal.pk]), {}, follow=True)
    assert "Choose whether the deal was won or lost." in response.text
    deal.refresh_from_db()
    assert deal.status == DealStatus.OPEN


# Create


def test_create_a_deal_in_a_stage_with_its_value_in_cents(rep_client, rep, stages, contact):
    response = rep_client.post(
        reverse("crm:deal_new"),
        _new_deal_data(stages["Proposal"], contact=contact.pk),
        follow=True,
    )
    deal = Deal.objects.get()
    assert response.redirect_chain[-1][0] == reverse("crm:deal_detail", args=[deal.pk])
    assert "Deal Heat pumps opened in Proposal." in response.text
    assert (deal.value_cents, deal.currency, deal.stage, deal.owner, deal.contact) == (
        1_250_050,
        "EUR",
        stages["Proposal"],
        rep,
        contact,
    )
    assert deal.expected_close_date == datetime.date(2027, 3, 31)


def test_new_deal_form_is_prefilled_from_the_contact_page(rep_client, contact, stages):
    page = rep_client.get(reverse("crm:deal_new"), {"contact": contact.pk}).text
    assert f'<option value="{contact.pk}" selected>Olga Ortiz · {contact.email}</option>' in page
    assert "Sales (EUR): Proposal" in page
    assert "Sales (EUR): Won" not in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": ""}, "This field is required."),
        ({"value": "-5"}, "Ensure this value is greater than or equal to 0."),
        ({"value": "12.345"}, "An amount in EUR has at most 2 decimal places."),
        ({"value": "a lot"}, "Enter a number."),
        ({"expected_close_date": "31/31/2027"}, "Enter a valid date."),
    ],
)
def test_create_deal_with_bad_input_shows_a_message_and_writes_nothing(
    rep_client, stages, overrides, message
):
    response = rep_client.post(reverse("crm:deal_new"), _new_deal_data(stages["Lead"], **overrides))
    assert response.status_code == 400
    assert message in response.text
    assert not Deal.objects.exists()


def test_a_deal_in_yen_takes_no_decimals(rep_client, team):
    pipeline = PipelineFactory(team=team, name="Japan", currency="JPY")
    lead = pipeline.stages.get(name="Lead")
    response = rep_client.post(reverse("crm:deal_new"), _new_deal_data(lead, value="10.5"))
    assert "An amount in JPY has at most 0 decimal places." in response.text
    rep_client.post(reverse("crm:deal_new"), _new_deal_data(lead, value="1500"))
    assert Deal.objects.get().value_cents == 1500


def test_create_deal_refuses_a_stage_of_another_team_or_a_closing_stage(
    rep_client, stages, other_team
):
    foreign = PipelineFactory(team=other_team).stages.get(name="Lead")
    for stage in (foreign, stages["Won"]):
        response = rep_client.post(reverse("crm:deal_new"), _new_deal_data(stage))
        assert response.status_code == 400
        assert "Select a valid choice." in response.text
    assert not Deal.objects.exists()


def test_create_deal_refuses_a_contact_of_another_team(client, staff_user, stages, other_team):
    client.force_login(staff_user)
    stranger = ContactFactory(team=other_team)
    response = client.post(
        reverse("crm:deal_new"), _new_deal_data(stages["Lead"], contact=stranger.pk)
    )
    assert response.status_code == 400
    assert "The contact belongs to another team than the pipeline." in response.text
    assert not Deal.objects.exists()


def test_new_deal_without_any_pipeline_says_what_to_do(rep_client):
    page = rep_client.get(reverse("crm:deal_new")).text
    assert "You have no pipeline with an open stage yet." in page


# Edit


def test_edit_deal_is_prefilled_and_saves(rep_client, deal):
    url = reverse("crm:deal_edit", args=[deal.pk])
    page = rep_client.get(url).text
    assert 'value="1000.00"' in page
    assert "Value (EUR)" in page
    response = rep_client.post(
        url,
        {"title": "Solar roof XL", "value": "2000", "contact": "", "expected_close_date": ""},
        follow=True,
    )
    assert "Deal saved." in response.text
    deal.refresh_from_db()
    assert (deal.title, deal.value_cents, deal.contact, deal.expected_close_date) == (
        "Solar roof XL",
        200_000,
        None,
        None,
    )


def test_edit_deal_with_bad_input_changes_nothing(rep_client, deal):
    response = rep_client.post(
        reverse("crm:deal_edit", args=[deal.pk]), {"title": "", "value": "1.001"}
    )
    assert response.status_code == 400
    assert "This field is required." in response.text
    assert "An amount in EUR has at most 2 decimal places." in response.text
    deal.refresh_from_db()
    assert (deal.title, deal.value_cents) == ("Solar roof", 100_000)


def test_a_closed_deal_cannot_be_edited(rep_client, deal):
    rep_client.post(
        reverse("integrations:deal_close", args=[deal.pk]),
        {"outcome": "lost", "lost_reason": lost_reason_for(deal).pk},
    )
    response = rep_client.get(reverse("crm:deal_edit", args=[deal.pk]), follow=True)
    assert "This deal is closed as lost; it can no longer change." in response.text


# Move from the deal page (the board's moves are tested with the board)


def test_move_a_deal_from_its_page(rep_client, deal, stages):
    response = rep_client.post(
        reverse("crm:deal_move", args=[deal.pk]), {"stage": stages["Negotiation"].pk}, follow=True
    )
    assert "Moved to Negotiation." in response.text
    deal.refresh_from_db()
    assert deal.stage == stages["Negotiation"]


def test_moving_to_a_closing_stage_is_refused(rep_client, deal, stages):
    response = rep_client.post(
        reverse("crm:deal_move", args=[deal.pk]), {"stage": stages["Won"].pk}, follow=True
    )
    assert "Choose an open stage of this deal&#x27;s pipeline." in response.text
    deal.refresh_from_db()
    assert deal.stage == stages["Lead"]


def test_contact_page_lists_the_contacts_deals(rep_client, contact, deal, pipeline, rep):
    DealFactory(pipeline=pipeline, owner=rep, title="Unrelated")
    page = rep_client.get(reverse("crm:contact_detail", args=[contact.pk])).text
    assert "Solar roof" in page
    assert "Unrelated" not in page
    assert f"/deals/new/?contact={contact.pk}" in page


# The contact picker of the deal forms


def test_deal_form_renders_only_the_chosen_contact_not_the_whole_team(
    rep_client, team, rep, contact, stages
):
    ContactFactory.create_batch(3, team=team, owner=rep, name="Someone Else")
    page = rep_client.get(reverse("crm:deal_new")).text
    assert "Someone Else" not in page
    assert "Olga Ortiz" not in page
    response = rep_client.post(
        reverse("crm:deal_new"), _new_deal_data(stages["Lead"], contact=contact.pk, title="")
    )
    assert f'<option value="{contact.pk}" selected>Olga Ortiz' in response.text
    assert "Someone Else" not in response.text


def test_contact_options_match_the_search_among_visible_contacts(
    rep_client, team, rep, contact, foreign_contact
):
    org = OrganizationFactory(team=team, name="Olive Co-op")
    ContactFactory(team=team, owner=rep, name="Bo Berg", organization=org)
    url = reverse("crm:deal_contact_options")
    html = rep_client.get(url, {"contact_search": "ol"}).text
    assert "Olga Ortiz" in html
    assert "Bo Berg · Olive Co-op" in html
    assert html.count(" selected") == 1
    assert "Fritz" not in rep_client.get(url, {"contact_search": "fritz"}).text
    assert "No contact matches “fritz”" in rep_client.get(url, {"contact_search": "fritz"}).text


def test_contact_options_are_limited_and_can_keep_to_one_team(
    client, staff_user, team, other_team, rep
):
    ContactFactory.create_batch(25, team=team, owner=rep, name="Ann Many")
    ContactFactory(team=other_team, name="Ann Other")
    client.force_login(staff_user)
    url = reverse("crm:deal_contact_options")
    assert client.get(url, {"contact_search": "ann"}).text.count('<option value="') == 20 + 1
    html = client.get(url, {"contact_search": "ann other", "team": team.pk}).text
    assert "Ann Other" not in html
    assert client.get(url, {"contact_search": "a", "team": "nope"}).status_code == 404


def test_new_deal_ignores_a_malformed_or_foreign_prefill(rep_client, stages, foreign_contact):
    url = reverse("crm:deal_new")
    assert rep_client.get(url, {"contact": "not-a-uuid", "stage": "nope"}).status_code == 200
    page = rep_client.get(url, {"contact": foreign_contact.pk}).text
    assert "Fritz Foreign" not in page
