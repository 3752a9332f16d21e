"""A manager hands deals, contacts and organizations to a member of the team, one or in bulk;
the history is kept and shown, and the new owner is told."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from calendar_app.models import Notification
from coop.models import AuditAction, AuditEvent, Role
from crm.models import Contact, Deal, Organization, OwnerChange
from crm.owners import owners_reassign
from tests.catalogues import compile_catalogues
from tests.coop.factories import MembershipFactory
from tests.crm.factories import ContactFactory, DealFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(team):
    return MembershipFactory(team=team, role=Role.REP, user__username="colleague").user


@pytest.fixture
def deals(pipeline, rep):
    return [DealFactory(pipeline=pipeline, owner=rep, title=f"Deal {n}") for n in range(3)]


def test_a_manager_reassigns_deals_in_bulk_and_the_owner_is_told(manager, colleague, deals, rep):
    changed = owners_reassign(
        actor=manager, record_type="deal", record_ids=[d.pk for d in deals[:2]], owner=colleague
    )
    assert changed == 2
    owners = dict(Deal.objects.values_list("title", "owner__username"))
    assert owners == {"Deal 0": "colleague", "Deal 1": "colleague", "Deal 2": rep.username}
    history = OwnerChange.objects.filter(record_type="deal")
    assert {(c.from_owner, c.to_owner, c.changed_by) for c in history} == {
        (rep, colleague, manager)
    }
    assert AuditEvent.objects.filter(action=AuditAction.OWNER_CHANGED).count() == 2
    notice = Notification.objects.get(user=colleague)
    assert notice.title == f"{manager} made you the owner of 2 deals"
    assert "Deal 0" in notice.body and "Deal 1" in notice.body


def test_a_rep_may_not_reassign(rep, colleague, deals):
    with pytest.raises(ValidationError, match="Only a manager"):
        owners_reassign(actor=rep, record_type="deal", record_ids=[deals[0].pk], owner=colleague)
    assert not OwnerChange.objects.exists()


def test_the_new_owner_must_be_of_the_team(manager, outsider, deals):
    with pytest.raises(ValidationError, match="member of the records' team"):
        owners_reassign(actor=manager, record_type="deal", record_ids=[deals[0].pk], owner=outsider)
    assert Deal.objects.get(pk=deals[0].pk).owner != outsider


def test_another_teams_record_is_refused_and_nothing_changes(manager, colleague, deals, other_team):
    foreign = ContactFactory(team=other_team)
    with pytest.raises(ValidationError, match="not visible"):
        owners_reassign(
            actor=manager, record_type="contact", record_ids=[foreign.pk], owner=colleague
        )
    assert Contact.objects.get(pk=foreign.pk).owner != colleague


def test_contacts_and_organizations_are_reassigned_too(manager, colleague, team, rep):
    contact = ContactFactory(team=team, owner=rep)
    organization = OrganizationFactory(team=team)
    owners_reassign(actor=manager, record_type="contact", record_ids=[contact.pk], owner=colleague)
    owners_reassign(
        actor=manager, record_type="organization", record_ids=[organization.pk], owner=colleague
    )
    assert Contact.objects.get(pk=contact.pk).owner == colleague
    assert Organization.objects.get(pk=organization.pk).owner == colleague
    assert OwnerChange.objects.get(record_type="organization").from_owner is None


def test_reassigning_to_the_owner_already_changes_nothing(manager, rep, deals):
    assert (
        owners_reassign(actor=manager, record_type="deal", record_ids=[deals[0].pk], owner=rep) == 0
    )
    assert not OwnerChange.objects.exists()


def test_the_deal_lists_bulk_bar_gives_selected_deals_a_new_owner(
    client, manager, colleague, deals
):
    client.force_login(manager)
    page = client.get(reverse("crm:deal_list")).text
    assert 'value="owner"' in page
    response = client.post(
        reverse("crm:deal_bulk"),
        {
            "action": "owner",
            "ids": [deals[0].pk, deals[1].pk],
            "owner": colleague.pk,
            "next": reverse("crm:deal_list"),
        },
        follow=True,
    )
    assert f"{colleague} now owns 2 deals." in response.text
    assert Deal.objects.filter(owner=colleague).count() == 2
    assert OwnerChange.objects.filter(record_type="deal", to_owner=colleague).count() == 2


def test_a_rep_is_offered_no_new_owner_and_is_refused(rep_client, colleague, deals):
    assert 'value="owner"' not in rep_client.get(reverse("crm:deal_list")).text
    response = rep_client.post(
        reverse("crm:owners_reassign"),
        {"record_type": "deal", "ids": [deals[0].pk], "owner": colleague.pk},
        follow=True,
    )
    assert "Only a manager of the team may reassign its records." in response.text


def test_garbage_ids_get_a_message(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("crm:owners_reassign"), {"record_type": "deal", "ids": ["x"]}, follow=True
    )
    assert "Choose the records and their new owner." in response.text


def test_the_owner_card_shows_the_history_and_the_form_to_managers(
    client, manager, colleague, deals, rep
):
    owners_reassign(actor=manager, record_type="deal", record_ids=[deals[0].pk], owner=colleague)
    client.force_login(manager)
    card = client.get(reverse("crm:owner_card", args=["deal", deals[0].pk])).text
    assert f"{rep} → {colleague}" in card
    assert "Reassign</button>" in card


def test_the_owner_card_of_an_unknown_kind_is_not_found(rep_client, deals):
    url = reverse("crm:owner_card", args=["invoice", deals[0].pk])
    assert rep_client.get(url).status_code == 404


def test_an_owner_changed_through_deal_update_is_kept_in_the_history(
    manager, colleague, deals, rep
):
    from crm.services import deal_update

    deal = deals[0]
    deal_update(
        actor=manager,
        deal=deal,
        title=deal.title,
        value_cents=deal.value_cents,
        contact=None,
        expected_close_date=deal.expected_close_date,
        owner=colleague,
    )
    change = OwnerChange.objects.get(record_id=deal.pk)
    assert (change.from_owner, change.to_owner, change.changed_by) == (rep, colleague, manager)
    assert Notification.objects.filter(user=colleague).count() == 1


def test_the_new_owner_is_told_in_their_own_language(manager, colleague, deals):
    compile_catalogues(("crm",))
    colleague.language = "de"
    colleague.save(update_fields=["language"])
    owners_reassign(actor=manager, record_type="deal", record_ids=[deals[0].pk], owner=colleague)
    notice = Notification.objects.get(user=colleague)
    assert notice.title == f"{manager} hat Ihnen 1 Deal übertragen"
