"""The lists' tag filter, their bulk action bar and the tag suggestions, through the pages."""

import csv
import io

import pytest
from django.urls import reverse

from coop.models import AuditAction, AuditEvent
from crm.bulk_actions import records_tag
from crm.models import Tag
from tests.crm.factories import ContactFactory, DealFactory, OrganizationFactory, TagFactory

pytestmark = pytest.mark.django_db


def _bulk(client, kind, ids, **fields):
    url = reverse(f"crm:{kind}_bulk")
    return client.post(url, {"ids": [str(pk) for pk in ids], **fields})


def test_tagging_three_contacts_from_the_list_then_filtering_by_the_tag(team, rep, rep_client):
    tagged = ContactFactory.create_batch(3, team=team)
    ContactFactory(team=team, name="Left Alone")
    back = reverse("crm:contact_list") + "?q="

    response = _bulk(
        rep_client, "contact", [c.pk for c in tagged], action="tags_add", tags="fair", next=back
    )

    assert response.status_code == 302
    assert response["Location"] == back
    listed = rep_client.get(reverse("crm:contact_list"), {"tag": "FAIR"}).content.decode()
    assert all(contact.name in listed for contact in tagged)
    assert "Left Alone" not in listed
    assert "3 contacts" in listed


def test_a_list_filters_by_several_tags_at_once(team, rep, rep_client):
    both, only_a = OrganizationFactory(team=team, name="Both"), OrganizationFactory(team=team)
    records_tag(actor=rep, kind="organizations", ids=[both.pk, only_a.pk], add=["a"])
    records_tag(actor=rep, kind="organizations", ids=[both.pk], add=["b"])

    page = rep_client.get(reverse("crm:organization_list"), {"tag": ["a", "b"]})

    assert [o.pk for o in page.context["page_obj"]] == [both.pk]


def test_an_impossible_tag_filter_is_explained_not_a_500(rep_client):
    response = rep_client.get(reverse("crm:contact_list"), {"tag": "x" * 100})
    assert response.status_code == 200
    assert "at most 40 characters" in response.content.decode()


def test_moving_deals_in_bulk_from_the_deal_list(rep, rep_client, pipeline, stages):
    deals = DealFactory.create_batch(2, pipeline=pipeline, stage=stages["Lead"])

    response = _bulk(
        rep_client, "deal", [d.pk for d in deals], action="stage", stage=stages["Proposal"].pk
    )

    assert response.status_code == 302
    assert {d.stage_id for d in type(deals[0]).objects.filter(pk__in=[d.pk for d in deals])} == {
        stages["Proposal"].pk
    }
    page = rep_client.get(response["Location"]).content.decode()
    assert "Moved to Proposal: 2 deals." in page


def test_a_refused_bulk_action_says_why_and_writes_nothing(team, rep_client, foreign_contact):
    mine = ContactFactory(team=team)
    response = _bulk(
        rep_client, "contact", [mine.pk, foreign_contact.pk], action="tags_add", tags="x"
    )
    assert response.status_code == 400
    assert "not visible to you" in response.content.decode()
    assert not Tag.objects.exists()


def test_an_action_without_what_it_needs_is_refused(team, client, manager):
    contact = ContactFactory(team=team)
    client.force_login(manager)
    response = _bulk(client, "contact", [contact.pk], action="owner")
    assert response.status_code == 400
    assert "New owner" in response.content.decode()


def test_a_rep_is_offered_no_owner_action(team, rep_client):
    organization = OrganizationFactory(team=team)
    response = _bulk(rep_client, "organization", [organization.pk], action="owner")
    assert response.status_code == 400
    assert "Assign owner" not in rep_client.get("/organizations/").content.decode()


def test_exporting_the_selected_rows_only(team, rep, rep_client):
    chosen = ContactFactory(team=team, name="Chosen One")
    ContactFactory(team=team, name="Not Chosen")

    response = _bulk(rep_client, "contact", [chosen.pk], action="export", format="csv")

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row[0] for row in rows[1:]] == ["Chosen One"]
    assert AuditEvent.objects.filter(action=AuditAction.EXPORTED, actor_id=rep.pk).exists()


def test_next_never_leaves_the_list(team, rep_client):
    contact = ContactFactory(team=team)
    response = _bulk(
        rep_client, "contact", [contact.pk], action="tags_add", tags="x", next="//evil.example/"
    )
    assert response["Location"] == reverse("crm:contact_list")


def test_the_list_shows_each_rows_tags_and_a_checkbox(team, rep, rep_client):
    contact = ContactFactory(team=team)
    records_tag(actor=rep, kind="contacts", ids=[contact.pk], add=["vip"])
    text = rep_client.get(reverse("crm:contact_list")).content.decode()
    assert 'class="tag tag-' in text and ">vip</a>" in text
    assert f'name="ids" value="{contact.pk}" form="bulk-form"' in text


@pytest.mark.parametrize(
    ("kind", "noun", "plural"),
    [
        ("contact", "contact", "contacts"),
        ("organization", "organization", "organizations"),
        ("deal", "deal", "deals"),
    ],
)
def test_each_list_offers_the_same_row_selection_and_says_what_it_filters(
    team, rep, rep_client, pipeline, kind, noun, plural
):
    make = {
        "contact": lambda: ContactFactory(team=team, name="Ada Vip"),
        "organization": lambda: OrganizationFactory(team=team, name="Ada Vip"),
        "deal": lambda: DealFactory(pipeline=pipeline, owner=rep, title="Ada Vip"),
    }[kind]
    record, other = (
        make(),
        {
            "contact": lambda: ContactFactory(team=team, name="Bo Plain"),
            "organization": lambda: OrganizationFactory(team=team, name="Bo Plain"),
            "deal": lambda: DealFactory(pipeline=pipeline, owner=rep, title="Bo Plain"),
        }[kind](),
    )
    records_tag(actor=rep, kind=plural, ids=[record.pk], add=["vip"])

    text = rep_client.get(reverse(f"crm:{kind}_list"), {"tag": "vip"}).content.decode()

    assert f"1 {noun} tagged vip." in " ".join(text.split())
    assert f'aria-label="Select every {noun} on this page"' in text
    assert (
        f'<input type="checkbox" name="ids" value="{record.pk}" form="bulk-form"'
        ' aria-label="Select Ada Vip">'
    ) in text
    assert str(other.pk) not in text
    assert text.count('id="bulk-form"') == 1


def test_tag_suggestions_keep_the_names_already_typed(team, rep_client):
    TagFactory(team=team, name="Partner")
    response = rep_client.get(reverse("crm:tag_options"), {"tags": "vip, par"})
    assert '<option value="vip, Partner">Partner</option>' in response.content.decode()


def test_a_tag_typed_on_a_deal_page_is_made_and_shown_in_place(rep, rep_client, deal):
    url = reverse("crm:deal_tags", args=[deal.pk])
    response = rep_client.post(url, {"tags": "Hot lead"}, headers={"HX-Request": "true"})
    text = response.content.decode()
    assert response.status_code == 200
    assert "Hot lead" in text and "<html" not in text
    assert list(deal.tags.values_list("name", flat=True)) == ["Hot lead"]

    rep_client.post(url, {"remove": "hot LEAD"}, headers={"HX-Request": "true"})
    assert not deal.tags.exists()


def test_a_record_page_shows_its_tags(rep, rep_client, contact):
    records_tag(actor=rep, kind="contacts", ids=[contact.pk], add=["vip"])
    text = rep_client.get(reverse("crm:contact_detail", args=[contact.pk])).content.decode()
    assert 'id="record-tags"' in text and "vip" in text


def test_a_bad_tag_on_a_record_says_why_in_place(rep_client, contact):
    url = reverse("crm:contact_tags", args=[contact.pk])
    response = rep_client.post(url, {"tags": "x" * 41}, headers={"HX-Request": "true"})
    assert 'role="alert"' in response.content.decode()
    assert not Tag.objects.exists()


def test_another_teams_record_cannot_be_tagged(rep_client, foreign_contact):
    url = reverse("crm:contact_tags", args=[foreign_contact.pk])
    assert rep_client.post(url, {"tags": "x"}).status_code == 404
    assert not Tag.objects.exists()
