"""The CRM admin writes through the CRM services and keeps their rules: a closed deal cannot be
edited, an open deal's edit keeps the stages' expected values, and a service's refusal shows on
the form with nothing written."""

import datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from coop.models import AuditAction, AuditEvent, Role
from crm.meeting_scheduling import meeting_schedule
from crm.models import Contact, Deal, Interaction, InteractionType, PipelineStage
from crm.services import deal_create
from finance.models import RevenueEntry
from integrations.deal_closing import deal_close
from tests.coop.factories import MembershipFactory
from tests.crm.factories import ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def open_deal(rep, pipeline, stages, contact):
    """An open deal of €1,000 in Lead (10 %), opened through the service."""
    return deal_create(
        actor=rep,
        pipeline=pipeline,
        stage=stages["Lead"],
        title="Solar roof",
        value_cents=100_000,
        contact=contact,
    )


def deal_post(deal: Deal, **changes) -> dict:
    data = {
        "title": deal.title,
        "contact": deal.contact_id or "",
        "owner": deal.owner_id or "",
        "value_cents": deal.value_cents,
        "expected_close_date": deal.expected_close_date or "",
    }
    return {**data, **changes}


def change_url(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def admin_writes() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action__startswith="admin_"))


def test_a_closed_deal_is_read_only_in_the_admin_and_a_forged_post_changes_nothing(
    staff_client, open_deal, rep, manager, team
):
    deal = deal_close(actor=rep, deal=open_deal, won=True)
    other_contact = ContactFactory(team=team)
    page = staff_client.get(change_url(deal)).text
    for field in ("title", "owner", "value_cents", "contact", "expected_close_date"):
        assert f'name="{field}"' not in page
    assert "Solar roof" in page and "€1,000.00" in page

    forged = deal_post(deal, owner=manager.pk, value_cents=1, contact=other_contact.pk)
    assert staff_client.post(change_url(deal), forged).status_code == 403
    unchanged = Deal.objects.get(pk=deal.pk)
    assert (unchanged.owner, unchanged.value_cents, unchanged.contact_id) == (
        rep,
        100_000,
        deal.contact_id,
    )
    assert RevenueEntry.objects.get(deal=deal).amount_cents == 100_000
    assert admin_writes() == []


def test_an_admin_edit_of_an_open_deal_goes_through_the_service_and_its_stage_follows(
    staff_client, open_deal, stages, manager
):
    assert PipelineStage.objects.get(pk=stages["Lead"].pk).expected_value_cents == 10_000
    response = staff_client.post(
        change_url(open_deal), deal_post(open_deal, value_cents=250_000, owner=manager.pk)
    )
    assert response.status_code == 302, response.text
    deal = Deal.objects.get(pk=open_deal.pk)
    assert (deal.value_cents, deal.owner) == (250_000, manager)
    assert PipelineStage.objects.get(pk=stages["Lead"].pk).expected_value_cents == 25_000
    assert [event.action for event in admin_writes()] == [AuditAction.ADMIN_CHANGED]


def test_adding_a_deal_in_the_admin_gives_its_stage_an_expected_value(
    staff_client, pipeline, stages, rep
):
    data = {"title": "Admin deal", "pipeline": pipeline.pk, "stage": stages["Proposal"].pk}
    response = staff_client.post(
        reverse("admin:crm_deal_add"), {**data, "owner": rep.pk, "value_cents": "5000"}
    )
    assert response.status_code == 302, response.text
    assert Deal.objects.get().owner == rep
    assert PipelineStage.objects.get(pk=stages["Proposal"].pk).expected_value_cents == 2_500
    assert [event.action for event in admin_writes()] == [AuditAction.ADMIN_ADDED]


def test_a_service_refusal_shows_on_the_admin_form_and_writes_nothing(
    staff_client, open_deal, outsider
):
    response = staff_client.post(
        change_url(open_deal),
        deal_post(open_deal, title="Renamed", value_cents=1, owner=outsider.pk),
    )
    assert response.status_code == 200
    assert "The owner must be a member of the pipeline&#x27;s team." in response.text
    deal = Deal.objects.get(pk=open_deal.pk)
    assert (deal.title, deal.value_cents, deal.owner_id) == (
        "Solar roof",
        100_000,
        open_deal.owner_id,
    )
    assert admin_writes() == []
    assert not LogEntry.objects.exists()


CONTACT_INLINE = {
    "interactions-TOTAL_FORMS": "0",
    "interactions-INITIAL_FORMS": "0",
    "interactions-MIN_NUM_FORMS": "0",
    "interactions-MAX_NUM_FORMS": "0",
}


def contact_post(**fields) -> dict:
    blank = dict.fromkeys(["phone", "organization", "job_title", "notes"], "")
    return {**CONTACT_INLINE, **blank, **fields}


def test_adding_a_contact_in_the_admin_keeps_the_services_rules(
    staff_client, team, other_team, rep, contact
):
    url = reverse("admin:crm_contact_add")
    base = {"team": team.pk, "owner": rep.pk, "name": "Nina New"}
    taken = staff_client.post(url, contact_post(**base, email=contact.email.upper()))
    assert "Olga Ortiz already has this email address in this team." in taken.text
    foreign = OrganizationFactory(team=other_team, name="Foreign Org")
    elsewhere = staff_client.post(url, contact_post(**base, organization=foreign.pk))
    assert "The organization belongs to another team." in elsewhere.text
    assert list(Contact.objects.all()) == [contact]

    own = OrganizationFactory(team=team, name="Own Org")
    response = staff_client.post(
        url, contact_post(**base, email="nina@x.example", organization=own.pk)
    )
    assert response.status_code == 302, response.text
    nina = Contact.objects.get(name="Nina New")
    assert (nina.team, nina.owner, nina.organization) == (team, rep, own)
    assert [event.action for event in admin_writes()] == [AuditAction.ADMIN_ADDED]


def test_a_contact_is_handed_only_to_a_member_of_its_team_in_the_admin(
    staff_client, contact, outsider, team
):
    data = contact_post(owner=outsider.pk, name=contact.name, email=contact.email)
    response = staff_client.post(change_url(contact), data)
    assert "The owner must be a member of the contact&#x27;s team." in response.text
    assert Contact.objects.get(pk=contact.pk).owner != outsider
    colleague = MembershipFactory(team=team, role=Role.REP).user
    response = staff_client.post(change_url(contact), {**data, "owner": colleague.pk})
    assert response.status_code == 302, response.text
    assert Contact.objects.get(pk=contact.pk).owner == colleague
    assert 'name="team"' not in staff_client.get(change_url(contact)).text


def test_an_interaction_added_in_the_admin_is_logged_by_the_staff_member(
    staff_client, staff_user, contact
):
    url = reverse("admin:crm_interaction_add")
    page = staff_client.get(url).text
    assert 'value="call"' in page and 'value="calendar_event"' not in page
    data = {"contact": contact.pk, "interaction_type": "call", "summary": "Admin call"}
    when = {"timestamp_0": "2026-11-02", "timestamp_1": "10:30:00"}
    response = staff_client.post(url, {**data, **when, "details": ""})
    assert response.status_code == 302, response.text
    entry = Interaction.objects.get()
    assert (entry.author, entry.summary, entry.interaction_type) == (
        staff_user,
        "Admin call",
        InteractionType.CALL,
    )
    assert entry.timestamp.date().isoformat() == "2026-11-02"


def test_a_stage_probability_changed_in_the_admin_updates_its_expected_value(
    staff_client, open_deal, pipeline, stages
):
    lead = stages["Lead"]
    response = staff_client.post(
        change_url(lead),
        {"name": lead.name, "position": lead.position, "probability": 40},
    )
    assert response.status_code == 302, response.text
    assert PipelineStage.objects.get(pk=lead.pk).expected_value_cents == 40_000

    stage_forms = {
        "stages-TOTAL_FORMS": str(len(stages)),
        "stages-INITIAL_FORMS": str(len(stages)),
    }
    for index, stage in enumerate(pipeline.stages.order_by("position")):
        prefix = f"stages-{index}-"
        stage_forms |= {
            f"{prefix}id": stage.pk,
            f"{prefix}pipeline": pipeline.pk,
            f"{prefix}position": stage.position,
            f"{prefix}name": stage.name,
            f"{prefix}probability": 70 if stage == lead else stage.probability,
            **({f"{prefix}is_won": "on"} if stage.is_won else {}),
            **({f"{prefix}is_lost": "on"} if stage.is_lost else {}),
        }
    response = staff_client.post(change_url(pipeline), {"name": pipeline.name, **stage_forms})
    assert response.status_code == 302, response.text
    assert PipelineStage.objects.get(pk=lead.pk).expected_value_cents == 70_000


def test_a_meetings_entry_is_read_only_in_the_admin(staff_client, rep, contact):
    start = timezone.now().replace(microsecond=0) + datetime.timedelta(days=1)
    meeting = meeting_schedule(
        organizer=rep,
        contact=contact,
        title="Site visit",
        start_time=start,
        end_time=start + datetime.timedelta(hours=1),
    )
    page = staff_client.get(change_url(meeting)).text
    assert "Site visit" in page and 'name="summary"' not in page
    forged = {"contact": contact.pk, "interaction_type": "call", "summary": "Forged"}
    assert staff_client.post(change_url(meeting), forged).status_code == 403
    assert Interaction.objects.get(pk=meeting.pk).summary == "Site visit"


def test_what_no_service_changes_is_read_only_once_saved(
    staff_client, open_deal, contact, pipeline, stages, team
):
    organization = OrganizationFactory(team=team)
    pages = {
        organization: ["team"],
        contact: ["team"],
        pipeline: ["team", "currency"],
        stages["Lead"]: ["pipeline"],
        open_deal: ["pipeline", "stage"],
    }
    for obj, fields in pages.items():
        page = staff_client.get(change_url(obj)).text
        assert 'name="name"' in page or 'name="title"' in page, obj
        assert not [field for field in fields if f'name="{field}"' in page], obj
