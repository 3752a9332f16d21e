"""Managers set up their team's pipelines in the app: pipelines, stages (add, rename,
probability, won/lost, reorder, archive with the open deals moved out, restore) and lost
reasons; every change goes through `crm.pipeline_settings`, is audited, and is refused with a
message (nothing written) when it does not make sense."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from coop.models import AuditAction, AuditEvent
from crm.models import Deal, LostReason, Pipeline, StageChange, StageVisit
from crm.pipeline_settings import (
    lost_reason_add,
    lost_reason_update,
    pipeline_create,
    pipeline_update,
    stage_add,
    stage_archive,
    stage_restore,
    stage_shift,
    stage_update,
    stages_reorder,
)
from crm.services import deal_create
from tests.crm.factories import DealFactory

pytestmark = pytest.mark.django_db


def _names(pipeline):
    return list(
        pipeline.stages.filter(archived_at__isnull=True)
        .order_by("position")
        .values_list("name", flat=True)
    )


def test_a_manager_creates_a_pipeline_with_the_default_stages(manager, team):
    pipeline = pipeline_create(actor=manager, team=team, name=" Renewals ", currency="GBP")
    assert (pipeline.name, pipeline.currency) == ("Renewals", "GBP")
    assert _names(pipeline) == ["Lead", "Qualified", "Proposal", "Negotiation", "Won", "Lost"]
    assert AuditEvent.objects.filter(action=AuditAction.PIPELINE_CHANGED).count() == 1


def test_a_rep_may_not_create_a_pipeline(rep, team):
    with pytest.raises(ValidationError, match="Only a manager"):
        pipeline_create(actor=rep, team=team, name="Mine", currency="EUR")
    assert not Pipeline.objects.filter(name="Mine").exists()


def test_a_pipeline_with_deals_keeps_its_currency(manager, pipeline, rep):
    DealFactory(pipeline=pipeline, owner=rep)
    with pytest.raises(ValidationError, match="currency stays"):
        pipeline_update(actor=manager, pipeline=pipeline, name="Sales", currency="USD")
    pipeline_update(actor=manager, pipeline=pipeline, name="Sales 2027", currency="EUR")
    assert Pipeline.objects.get(pk=pipeline.pk).name == "Sales 2027"


def test_a_new_open_stage_goes_after_the_last_open_one(manager, pipeline):
    stage_add(actor=manager, pipeline=pipeline, name="Demo", probability=60)
    assert _names(pipeline) == ["Lead", "Proposal", "Negotiation", "Demo", "Won", "Lost"]


@pytest.mark.parametrize(
    ("name", "probability", "message"),
    [
        ("", 10, "name"),
        ("Lead", 10, "already has a stage"),
        ("X", 101, "0 to 100"),
        ("Y", None, "0 to 100"),
    ],
)
def test_a_bad_stage_is_refused(manager, pipeline, name, probability, message):
    with pytest.raises(ValidationError, match=message):
        stage_add(actor=manager, pipeline=pipeline, name=name, probability=probability)
    assert pipeline.stages.count() == 5


def test_reordering_stages_and_the_keyboard_shift(manager, pipeline, stages):
    order = ["Negotiation", "Lead", "Proposal", "Won", "Lost"]
    stages_reorder(actor=manager, pipeline=pipeline, stage_ids=[stages[n].pk for n in order])
    assert _names(pipeline) == order
    stage_shift(actor=manager, stage=stages["Lead"], offset=-1)
    assert _names(pipeline) == ["Lead", "Negotiation", "Proposal", "Won", "Lost"]


def test_a_reorder_must_name_every_stage_once(manager, pipeline, stages):
    with pytest.raises(ValidationError, match="each of the pipeline's stages once"):
        stages_reorder(
            actor=manager, pipeline=pipeline, stage_ids=[stages["Lead"].pk, stages["Lead"].pk]
        )


def test_a_stage_with_open_deals_cannot_become_a_won_stage(manager, pipeline, stages, rep):
    DealFactory(pipeline=pipeline, stage=stages["Lead"], owner=rep)
    with pytest.raises(ValidationError, match="Open deals are in this stage"):
        stage_update(
            actor=manager,
            stage=stages["Lead"],
            name="Lead",
            probability=10,
            is_won=True,
            is_lost=False,
        )


def test_a_probability_change_moves_the_stage_value(manager, pipeline, stages, rep):
    DealFactory(pipeline=pipeline, stage=stages["Lead"], owner=rep, value_cents=10_000)
    stage_update(
        actor=manager,
        stage=stages["Lead"],
        name="Prospect",
        probability=40,
        is_won=False,
        is_lost=False,
    )
    stage = pipeline.stages.get(pk=stages["Lead"].pk)
    assert (stage.name, stage.probability, stage.expected_value_cents) == ("Prospect", 40, 4_000)


def test_archiving_a_stage_with_open_deals_asks_where_to_move_them(manager, rep, pipeline, stages):
    deal = deal_create(
        actor=rep, pipeline=pipeline, stage=stages["Proposal"], title="Roof", value_cents=1
    )
    with pytest.raises(ValidationError, match="1 open deal is in this stage"):
        stage_archive(actor=manager, stage=stages["Proposal"])
    moved = stage_archive(actor=manager, stage=stages["Proposal"], move_to=stages["Lead"])
    assert moved == 1
    assert Deal.objects.get(pk=deal.pk).stage == stages["Lead"]
    assert _names(pipeline) == ["Lead", "Negotiation", "Won", "Lost"]
    change = StageChange.objects.filter(deal=deal).last()
    assert (change.from_stage_name, change.to_stage_name) == ("Proposal", "Lead")
    assert StageVisit.objects.get(deal=deal, left_at__isnull=True).stage_name == "Lead"
    stage_restore(actor=manager, stage=stages["Proposal"])
    assert _names(pipeline) == ["Lead", "Negotiation", "Proposal", "Won", "Lost"]


def test_an_archived_stage_takes_no_new_deal(manager, rep, pipeline, stages):
    stage_archive(actor=manager, stage=stages["Proposal"])
    archived = pipeline.stages.get(name="Proposal")
    with pytest.raises(ValidationError, match="archived"):
        deal_create(actor=rep, pipeline=pipeline, stage=archived, title="X", value_cents=1)


def test_lost_reasons_are_added_renamed_and_archived(manager, team):
    reason = lost_reason_add(actor=manager, team=team, name="Went quiet")
    lost_reason_update(actor=manager, reason=reason, name="Ghosted", archived=True)
    reason.refresh_from_db()
    assert (reason.name, reason.archived) == ("Ghosted", True)
    with pytest.raises(ValidationError, match="has this reason already"):
        lost_reason_add(actor=manager, team=team, name="price")
    assert AuditEvent.objects.filter(action=AuditAction.LOST_REASONS_CHANGED).count() == 2


def test_the_last_reason_cannot_be_archived(manager, team):
    *others, last = LostReason.objects.filter(team=team)
    LostReason.objects.filter(pk__in=[r.pk for r in others]).update(archived=True)
    with pytest.raises(ValidationError, match="Keep at least one reason"):
        lost_reason_update(actor=manager, reason=last, name=last.name, archived=True)


def test_the_settings_page_is_for_managers(client, rep_client, manager, pipeline):
    url = reverse("crm:pipeline_settings", args=[pipeline.pk])
    assert rep_client.get(url).status_code == 404
    client.force_login(manager)
    page = client.get(url).text
    assert 'id="stage-list"' in page and "Move Lead up" in page


def test_the_settings_page_adds_a_stage_and_moves_it_up(client, manager, pipeline):
    client.force_login(manager)
    url = reverse("crm:pipeline_settings", args=[pipeline.pk])
    response = client.post(
        url,
        {"action": "add_stage", "name": "Demo", "probability": "60", "kind": "open"},
        follow=True,
    )
    assert "Stage Demo added." in response.text
    demo = pipeline.stages.get(name="Demo")
    client.post(url, {"action": "move_stage", "stage": demo.pk, "to": "up"})
    assert _names(pipeline) == ["Lead", "Proposal", "Demo", "Negotiation", "Won", "Lost"]


def test_the_drag_reorder_answers_the_stage_list(client, manager, pipeline, stages):
    client.force_login(manager)
    order = ["Proposal", "Lead", "Negotiation", "Won", "Lost"]
    response = client.post(
        reverse("crm:pipeline_settings", args=[pipeline.pk]),
        {"action": "reorder", "order": [stages[n].pk for n in order]},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section class="card" id="stages"')
    assert _names(pipeline) == order


def test_a_refused_change_is_shown_with_status_400(client, manager, pipeline):
    client.force_login(manager)
    response = client.post(
        reverse("crm:pipeline_settings", args=[pipeline.pk]),
        {"action": "add_stage", "name": "Lead", "probability": "5", "kind": "open"},
    )
    assert response.status_code == 400
    assert "The pipeline already has a stage of this name." in response.text


def test_the_new_pipeline_page(client, manager, team):
    client.force_login(manager)
    response = client.post(
        reverse("crm:pipeline_new"), {"team": team.pk, "name": "Grants", "currency": "EUR"}
    )
    pipeline = Pipeline.objects.get(name="Grants")
    assert response.url == reverse("crm:pipeline_settings", args=[pipeline.pk])


def test_the_lost_reasons_page(client, manager, team):
    client.force_login(manager)
    response = client.post(
        reverse("crm:lost_reasons"),
        {"action": "add", "team": team.pk, "name": "Merger"},
        follow=True,
    )
    assert "Reason Merger added." in response.text
    assert LostReason.objects.filter(team=team, name="Merger").exists()


def test_the_admin_changes_stages_through_the_same_services(client, staff_user, pipeline, stages):
    client.force_login(staff_user)
    lead = stages["Lead"]
    url = reverse("admin:crm_pipelinestage_change", args=[lead.pk])
    response = client.post(url, {"name": "Prospect", "probability": 15})
    assert response.status_code == 302, response.text
    event = AuditEvent.objects.get(action=AuditAction.PIPELINE_CHANGED)
    assert event.detail["after"]["name"] == "Prospect"
    refused = client.post(url, {"name": "Proposal", "probability": 15})
    assert "The pipeline already has a stage of this name." in refused.text
    assert client.get(reverse("admin:crm_pipelinestage_delete", args=[lead.pk])).status_code != 200
