"""Tags and bulk actions as services: created as typed, per team, one transaction, audited."""

import pytest
from django.core.exceptions import ValidationError

from coop.models import AuditAction, AuditEvent, Role
from crm.bulk_actions import (
    BULK_MAX,
    deals_move,
    records_assign_owner,
    records_tag,
    selected_ids,
)
from crm.merging import contacts_merge
from crm.models import (
    Contact,
    ContactTag,
    OwnerChange,
    StageChange,
    StageChangeKind,
    StageVisit,
    Tag,
)
from crm.tagging import (
    TAG_NAME_MAX,
    filter_by_tags,
    tag_color_for,
    tag_names_clean,
    tag_names_visible_to,
)
from tests.coop.factories import MembershipFactory
from tests.crm.factories import (
    ContactFactory,
    DealFactory,
    OrganizationFactory,
    PipelineFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db


def _tags(record) -> set[str]:
    return set(record.tags.values_list("name", flat=True))


def test_tag_names_are_trimmed_and_kept_once_whatever_their_case():
    assert tag_names_clean(["  Partner ", "partner", "Q3  push, fair", ""]) == [
        "Partner",
        "Q3 push",
        "fair",
    ]


@pytest.mark.parametrize(
    "names", [["x" * (TAG_NAME_MAX + 1)], ["a\x00b"], [",".join(str(n) for n in range(11))]]
)
def test_bad_tag_names_are_refused(names):
    with pytest.raises(ValidationError):
        tag_names_clean(names)


def test_tagging_creates_the_missing_tags_in_the_records_team(team, rep):
    contacts = ContactFactory.create_batch(3, team=team)
    TagFactory(team=team, name="Partner", color="blue")

    changed = records_tag(
        actor=rep, kind="contacts", ids=[c.pk for c in contacts], add=["partner", "Solar fair"]
    )

    assert changed == 3
    assert Tag.objects.filter(team=team).count() == 2  # "partner" reused, not duplicated
    assert Tag.objects.get(team=team, name="Solar fair").color == tag_color_for("Solar fair")
    for contact in contacts:
        assert _tags(contact) == {"Partner", "Solar fair"}


def test_tagging_twice_keeps_one_link(team, rep):
    contact = ContactFactory(team=team)
    for _ in range(2):
        records_tag(actor=rep, kind="contacts", ids=[contact.pk], add=["vip"])
    assert ContactTag.objects.filter(contact=contact).count() == 1


def test_a_tag_is_only_put_on_records_of_its_own_team(team, other_team, staff_user):
    north, south = ContactFactory(team=team), ContactFactory(team=other_team)

    records_tag(actor=staff_user, kind="contacts", ids=[north.pk, south.pk], add=["vip"])

    assert north.tags.get().team == team
    assert south.tags.get().team == other_team


def test_removing_tags_takes_them_off_the_selected_records_only(team, rep):
    tagged = OrganizationFactory.create_batch(2, team=team)
    kept = OrganizationFactory(team=team)
    records_tag(actor=rep, kind="organizations", ids=[o.pk for o in [*tagged, kept]], add=["a"])

    records_tag(actor=rep, kind="organizations", ids=[o.pk for o in tagged], remove=["A"])

    assert [_tags(o) for o in tagged] == [set(), set()]
    assert _tags(kept) == {"a"}


def test_a_selection_with_an_invisible_record_changes_nothing(team, rep, foreign_contact):
    mine = ContactFactory(team=team)
    with pytest.raises(ValidationError, match="not visible"):
        records_tag(actor=rep, kind="contacts", ids=[mine.pk, foreign_contact.pk], add=["x"])
    assert not Tag.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.BULK_CHANGED).exists()


def test_a_bulk_action_is_audited_once_naming_every_record(team, rep):
    contacts = ContactFactory.create_batch(3, team=team)
    records_tag(actor=rep, kind="contacts", ids=[c.pk for c in contacts], add=["vip"])

    event = AuditEvent.objects.get(action=AuditAction.BULK_CHANGED)
    assert event.actor_id == rep.pk
    assert event.detail["count"] == 3
    assert set(event.detail["ids"]) == {str(c.pk) for c in contacts}
    assert event.detail["added"] == ["vip"]


def test_selected_ids_refuse_garbage_none_and_too_many():
    for values in ([], ["not-an-id"], [str(n) for n in range(BULK_MAX + 1)]):
        with pytest.raises(ValidationError):
            selected_ids(values)


def test_a_manager_gives_every_selected_contact_a_new_owner(team, rep, manager):
    contacts = ContactFactory.create_batch(2, team=team, owner=manager)
    ids = [c.pk for c in contacts]
    assert records_assign_owner(actor=manager, kind="contacts", ids=ids, owner=rep) == 2
    assert set(Contact.objects.filter(pk__in=ids).values_list("owner", flat=True)) == {rep.pk}
    # Through the owners' service: each change is in the owner history.
    assert OwnerChange.objects.filter(record_type="contact", to_owner=rep).count() == 2


def test_a_rep_may_not_hand_records_to_someone_else(team, rep, manager):
    contact = ContactFactory(team=team, owner=rep)
    with pytest.raises(ValidationError, match="Only a manager"):
        records_assign_owner(actor=rep, kind="contacts", ids=[contact.pk], owner=manager)
    contact.refresh_from_db()
    assert contact.owner == rep


def test_an_owner_outside_a_selected_records_team_is_refused(team, rep, manager, outsider):
    contact = ContactFactory(team=team, owner=rep)
    with pytest.raises(ValidationError, match="active member"):
        records_assign_owner(actor=manager, kind="contacts", ids=[contact.pk], owner=outsider)
    contact.refresh_from_db()
    assert contact.owner == rep


def test_closed_deals_keep_their_owner(team, rep, manager, deal):
    closed = DealFactory(pipeline=deal.pipeline, status="won", closed_at=deal.created_at)
    with pytest.raises(ValidationError, match="closed deal keeps"):
        records_assign_owner(actor=manager, kind="deals", ids=[deal.pk, closed.pk], owner=manager)
    deal.refresh_from_db()
    assert deal.owner == rep


def test_organizations_get_a_new_owner_too(team, manager, rep):
    organization = OrganizationFactory(team=team)
    assert (
        records_assign_owner(actor=manager, kind="organizations", ids=[organization.pk], owner=rep)
        == 1
    )
    organization.refresh_from_db()
    assert organization.owner == rep


def test_moving_deals_starts_a_stage_visit_and_refreshes_expected_values(rep, pipeline, stages):
    deals = DealFactory.create_batch(3, pipeline=pipeline, stage=stages["Lead"], value_cents=1000)

    assert deals_move(actor=rep, ids=[d.pk for d in deals], stage=stages["Proposal"]) == 3

    for deal in deals:
        deal.refresh_from_db()
        assert deal.stage == stages["Proposal"]
        assert deal.forecast_category == "best_case"
        assert StageVisit.objects.get(deal=deal, left_at__isnull=True).stage_name == "Proposal"
        change = StageChange.objects.get(deal=deal, kind=StageChangeKind.MOVED)
        assert (change.from_stage_name, change.to_stage_name) == ("Lead", "Proposal")
        assert change.changed_by == rep
    stages["Proposal"].refresh_from_db()
    assert stages["Proposal"].expected_value_cents == 1500


def test_deals_of_another_pipeline_are_not_moved(team, rep, pipeline, stages):
    here = DealFactory(pipeline=pipeline, stage=stages["Lead"])
    elsewhere = DealFactory(pipeline=PipelineFactory(team=team))
    with pytest.raises(ValidationError, match="pipeline"):
        deals_move(actor=rep, ids=[here.pk, elsewhere.pk], stage=stages["Proposal"])
    here.refresh_from_db()
    assert here.stage == stages["Lead"]


def test_deals_cannot_be_moved_into_a_closing_stage(rep, deal, stages):
    with pytest.raises(ValidationError, match="Close as won"):
        deals_move(actor=rep, ids=[deal.pk], stage=stages["Won"])


def test_a_stage_of_an_invisible_pipeline_is_refused(outsider, deal, stages):
    with pytest.raises(ValidationError, match="not visible"):
        deals_move(actor=outsider, ids=[deal.pk], stage=stages["Proposal"])


def test_lists_filter_by_every_tag_named(team, rep):
    both, one, _untagged = ContactFactory.create_batch(3, team=team)
    records_tag(actor=rep, kind="contacts", ids=[both.pk, one.pk], add=["a"])
    records_tag(actor=rep, kind="contacts", ids=[both.pk], add=["b"])

    assert set(filter_by_tags(Contact.objects.all(), ["A"])) == {both, one}
    assert list(filter_by_tags(Contact.objects.all(), ["a", "b"])) == [both]


def test_tag_suggestions_come_from_the_users_teams_only(team, other_team, rep):
    TagFactory(team=team, name="Partner")
    TagFactory(team=other_team, name="Pariah")
    names = [tag["name"] for tag in tag_names_visible_to(rep, prefix="pa")]
    assert names == ["Partner"]


def test_a_manager_of_another_team_cannot_tag_our_records(team, other_team):
    stranger = MembershipFactory(team=other_team, role=Role.MANAGER).user
    contact = ContactFactory(team=team)
    with pytest.raises(ValidationError):
        records_tag(actor=stranger, kind="contacts", ids=[contact.pk], add=["x"])


def test_the_tag_admin_searches_and_filters(team, other_team, admin_list):
    partner = TagFactory(team=team, name="Partner", color="blue")
    fair = TagFactory(team=other_team, name="Fair", color="red")
    admin_list(
        Tag,
        [
            ({"q": "partn"}, [partner]),
            ({"team__id__exact": str(other_team.pk)}, [fair]),
            ({"color__exact": "blue"}, [partner]),
        ],
    )


def test_merging_two_contacts_keeps_the_tags_of_both(team, rep):
    keep, remove = ContactFactory(team=team), ContactFactory(team=team)
    records_tag(actor=rep, kind="contacts", ids=[keep.pk, remove.pk], add=["both"])
    records_tag(actor=rep, kind="contacts", ids=[remove.pk], add=["only removed"])

    contacts_merge(actor=rep, keep=keep, remove=remove, picks={})

    assert _tags(keep) == {"both", "only removed"}
