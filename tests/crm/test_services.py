import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from coop.models import AuditAction, AuditEvent
from crm.meeting_scheduling import meeting_schedule
from crm.models import Contact, Deal, DealStatus, Interaction, Organization
from crm.services import (
    contact_create,
    contact_update,
    deal_create,
    deal_move,
    deal_update,
    interaction_log,
)
from integrations.deal_closing import deal_close
from tests.crm.factories import InteractionFactory, lost_reason_for
from tests.reliability.world import snapshot

pytestmark = pytest.mark.django_db


def test_contact_create_sets_owner_team_and_organization(rep, team):
    contact = contact_create(
        actor=rep, team=team, name="  Ana Lima ", email="ana@x.example", organization_name="Acme"
    )
    assert (contact.name, contact.owner, contact.team) == ("Ana Lima", rep, team)
    assert contact.organization.name == "Acme"
    contact_create(actor=rep, team=team, name="Bo", organization_name="Acme")
    assert Organization.objects.filter(team=team, name="Acme").count() == 1


def test_contact_create_in_a_foreign_team_is_refused(rep, other_team):
    with pytest.raises(ValidationError, match="team you belong to"):
        contact_create(actor=rep, team=other_team, name="Nope")
    assert not Contact.objects.exists()


def test_contact_create_validates_email_and_name_and_writes_nothing(rep, team):
    with pytest.raises(ValidationError) as error:
        contact_create(actor=rep, team=team, name="", email="not-an-email", organization_name="Z")
    assert set(error.value.message_dict) == {"name", "email"}
    assert not Contact.objects.exists()
    assert not Organization.objects.exists()


def test_contact_update_of_an_invisible_contact_is_refused(rep, foreign_contact):
    with pytest.raises(ValidationError, match="not visible"):
        contact_update(actor=rep, contact=foreign_contact, name="Hacked")
    foreign_contact.refresh_from_db()
    assert foreign_contact.name == "Fritz Foreign"


def test_interaction_log_adds_to_the_timeline(rep, contact):
    interaction = interaction_log(actor=rep, contact=contact, interaction_type="call", summary="Hi")
    assert list(contact.interactions.all()) == [interaction]
    assert interaction.author == rep


def test_interaction_log_refuses_unknown_type_and_empty_summary(rep, contact):
    with pytest.raises(ValidationError):
        interaction_log(actor=rep, contact=contact, interaction_type="fax", summary="x")
    with pytest.raises(ValidationError):
        interaction_log(actor=rep, contact=contact, interaction_type="call", summary="  ")
    assert not Interaction.objects.exists()


def test_interaction_type_check_constraint_is_in_the_database(contact):
    interaction = InteractionFactory(contact=contact)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE crm_interactions SET interaction_type = 'fax' WHERE id = %s",
            [interaction.pk.hex if connection.vendor == "sqlite" else interaction.pk],
        )


def test_deleting_a_contact_deletes_its_timeline_in_the_database(contact):
    InteractionFactory.create_batch(3, contact=contact)
    contact.delete()
    assert not Interaction.objects.exists()


def test_deal_create_takes_the_pipeline_currency(rep, pipeline, stages, contact):
    deal = deal_create(
        actor=rep,
        pipeline=pipeline,
        stage=stages["Lead"],
        title="Roof",
        value_cents=123_45,
        contact=contact,
    )
    assert (deal.currency, deal.status, deal.owner) == ("EUR", DealStatus.OPEN, rep)


def test_deal_create_refuses_a_closing_stage_and_negative_values(rep, pipeline, stages):
    with pytest.raises(ValidationError, match="open stage"):
        deal_create(actor=rep, pipeline=pipeline, stage=stages["Won"], title="X", value_cents=1)
    with pytest.raises(ValidationError):
        deal_create(actor=rep, pipeline=pipeline, stage=stages["Lead"], title="X", value_cents=-5)
    assert not Deal.objects.exists()


def test_deal_move_changes_stage_and_its_entry_time(rep, deal, stages):
    entered = deal.stage_entered_at
    moved = deal_move(actor=rep, deal=deal, stage=stages["Proposal"])
    assert moved.stage == stages["Proposal"]
    assert moved.stage_entered_at > entered


def test_deal_move_to_a_stage_of_another_pipeline_is_refused(rep, deal, team):
    from tests.crm.factories import PipelineFactory

    other_stage = PipelineFactory(team=team).stages.first()
    with pytest.raises(ValidationError, match="another pipeline"):
        deal_move(actor=rep, deal=deal, stage=other_stage)


def test_deal_close_sets_status_time_and_won_stage(rep, deal, stages):
    closed = deal_close(actor=rep, deal=deal, won=True)
    assert closed.status == DealStatus.WON
    assert closed.closed_at is not None
    assert closed.stage == stages["Won"]


def test_a_closure_is_audited_once_and_a_refused_one_is_not(rep, deal):
    deal_close(actor=rep, deal=deal, won=True)
    with pytest.raises(ValidationError):
        deal_close(actor=rep, deal=deal, won=False, lost_reason=lost_reason_for(deal))
    event = AuditEvent.objects.get(action=AuditAction.DEAL_CLOSED)
    assert (event.actor_name, event.object_id, event.detail) == ("rep", str(deal.pk), {"won": True})


def test_closing_a_closed_deal_is_refused_and_changes_nothing(rep, deal):
    first = deal_close(actor=rep, deal=deal, won=False, lost_reason=lost_reason_for(deal))
    with pytest.raises(ValidationError, match="already closed as lost"):
        deal_close(actor=rep, deal=deal, won=True)
    deal.refresh_from_db()
    assert (deal.status, deal.closed_at) == (DealStatus.LOST, first.closed_at)


def test_an_outsider_cannot_close_or_move_a_deal(outsider, deal, stages):
    with pytest.raises(ValidationError, match="not visible"):
        deal_close(actor=outsider, deal=deal, won=True)
    with pytest.raises(ValidationError, match="not visible"):
        deal_move(actor=outsider, deal=deal, stage=stages["Proposal"])
    deal.refresh_from_db()
    assert deal.status == DealStatus.OPEN


def test_visibility_rules(rep, manager, finance_user, outsider, staff_user, contact, deal):
    for user in (rep, manager, finance_user, staff_user):
        assert list(Contact.objects.visible_to(user)) == [contact]
        assert list(Deal.objects.visible_to(user)) == [deal]
    assert not Contact.objects.visible_to(outsider).exists()
    assert not Deal.objects.visible_to(outsider).exists()
    assert not Interaction.objects.visible_to(outsider).exists()


@pytest.mark.parametrize("probability", [-1, 101])
def test_stage_probability_outside_0_to_100_is_refused_by_the_database(pipeline, probability):
    stage = pipeline.stages.first()
    stage.probability = probability
    with pytest.raises(IntegrityError), transaction.atomic():
        stage.save()


def test_two_contacts_of_a_team_cannot_share_an_email(rep, team, contact, other_team, outsider):
    with pytest.raises(ValidationError, match="Olga Ortiz already has this email"):
        contact_create(actor=rep, team=team, name="Twin", email=contact.email.upper())
    other = contact_create(actor=rep, team=team, name="Other", email="other@x.example")
    with pytest.raises(ValidationError, match="Olga Ortiz already has this email"):
        contact_update(actor=rep, contact=other, email=contact.email)
    contact_update(actor=rep, contact=contact, email=contact.email, name="Olga")
    contact_create(actor=outsider, team=other_team, name="Elsewhere", email=contact.email)
    assert Contact.objects.filter(email=contact.email).count() == 2


def _single_line_writes(rep, team, contact, deal, stages):
    start = timezone.now() + datetime.timedelta(days=2)
    return {
        "contact name": lambda text: contact_create(actor=rep, team=team, name=text),
        "contact phone": lambda text: contact_create(actor=rep, team=team, name="Bo", phone=text),
        "organization": lambda text: contact_update(
            actor=rep, contact=contact, organization_name=text
        ),
        "job title": lambda text: contact_update(actor=rep, contact=contact, job_title=text),
        "summary": lambda text: interaction_log(
            actor=rep, contact=contact, interaction_type="call", summary=text
        ),
        "deal title": lambda text: deal_create(
            actor=rep, pipeline=deal.pipeline, stage=stages["Lead"], title=text, value_cents=1
        ),
        "deal title on edit": lambda text: deal_update(
            actor=rep,
            deal=deal,
            title=text,
            value_cents=1,
            contact=None,
            expected_close_date=None,
        ),
        "meeting title": lambda text: meeting_schedule(
            organizer=rep,
            contact=contact,
            title=text,
            start_time=start,
            end_time=start + datetime.timedelta(hours=1),
        ),
    }


WRITES = [
    "contact name",
    "contact phone",
    "organization",
    "job title",
    "summary",
    "deal title",
    "deal title on edit",
    "meeting title",
]


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("text", ["Line one\nBcc: x@example.com", "Tab\there", "NUL\x00"])
def test_single_line_fields_refuse_control_characters_and_write_nothing(
    rep, team, contact, deal, stages, write, text
):
    before = snapshot()
    with pytest.raises(ValidationError, match="must be one line of text"):
        _single_line_writes(rep, team, contact, deal, stages)[write](text)
    assert snapshot() == before


@pytest.mark.parametrize("day", [datetime.date(1, 1, 1), datetime.date(9999, 12, 31)])
def test_a_deal_closing_outside_the_supported_years_is_refused(rep, pipeline, stages, deal, day):
    with pytest.raises(ValidationError, match="Pick a date from the year 1900 to 2999"):
        deal_create(
            actor=rep,
            pipeline=pipeline,
            stage=stages["Lead"],
            title="Far",
            value_cents=1,
            expected_close_date=day,
        )
    with pytest.raises(ValidationError, match="Pick a date from the year 1900 to 2999"):
        deal_update(
            actor=rep, deal=deal, title="Far", value_cents=1, contact=None, expected_close_date=day
        )
    deal.refresh_from_db()
    assert deal.title == "Solar roof"
