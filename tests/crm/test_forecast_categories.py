"""Forecast categories on deals: the owner's call, defaulted from the stage, changeable by a
manager with the change recorded."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from coop.models import Role
from crm.models import ForecastCategory, ForecastCategoryChange
from crm.services import deal_create, deal_forecast_category_set, deal_move
from tests.coop.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_a_new_deal_takes_its_stages_category(rep, pipeline, stages):
    categories = {
        name: deal_create(
            actor=rep, pipeline=pipeline, stage=stages[name], title=name, value_cents=100
        ).forecast_category
        for name in ("Lead", "Proposal", "Negotiation")
    }
    assert categories == {
        "Lead": ForecastCategory.PIPELINE,
        "Proposal": ForecastCategory.BEST_CASE,
        "Negotiation": ForecastCategory.COMMIT,
    }


def test_moving_follows_the_stage_until_someone_chooses(rep, deal, stages):
    deal = deal_move(actor=rep, deal=deal, stage=stages["Negotiation"])
    assert deal.forecast_category == ForecastCategory.COMMIT
    deal_forecast_category_set(actor=rep, deal=deal, category=ForecastCategory.BEST_CASE)
    deal = deal_move(actor=rep, deal=deal, stage=stages["Lead"])
    deal.refresh_from_db()
    assert deal.forecast_category == ForecastCategory.BEST_CASE


def test_the_owner_sets_it_and_the_change_is_recorded(rep, deal):
    deal_forecast_category_set(actor=rep, deal=deal, category=ForecastCategory.COMMIT)
    change = ForecastCategoryChange.objects.get(deal=deal)
    assert (change.changed_by, change.from_category, change.to_category, change.by_manager) == (
        rep,
        ForecastCategory.PIPELINE,
        ForecastCategory.COMMIT,
        False,
    )


def test_a_manager_changes_it_and_is_recorded_as_manager(rep, manager, deal):
    deal_forecast_category_set(actor=rep, deal=deal, category=ForecastCategory.COMMIT)
    deal_forecast_category_set(actor=manager, deal=deal, category=ForecastCategory.BEST_CASE)
    latest = ForecastCategoryChange.objects.filter(deal=deal).first()
    assert (latest.changed_by, latest.to_category, latest.by_manager) == (
        manager,
        ForecastCategory.BEST_CASE,
        True,
    )
    deal.refresh_from_db()
    assert deal.forecast_category == ForecastCategory.BEST_CASE


def test_another_rep_of_the_team_may_not_change_it(team, deal):
    colleague = MembershipFactory(team=team, role=Role.REP, user__username="colleague").user
    with pytest.raises(ValidationError, match="owner or a manager"):
        deal_forecast_category_set(actor=colleague, deal=deal, category=ForecastCategory.COMMIT)
    assert not ForecastCategoryChange.objects.exists()


def test_an_outsider_cannot_see_the_deal(outsider, deal):
    with pytest.raises(ValidationError, match="not visible"):
        deal_forecast_category_set(actor=outsider, deal=deal, category=ForecastCategory.COMMIT)


def test_an_unknown_category_is_refused(rep, deal):
    with pytest.raises(ValidationError, match="Choose pipeline"):
        deal_forecast_category_set(actor=rep, deal=deal, category="won")


def test_the_deal_page_sets_the_category_and_shows_the_history(rep_client, rep, deal):
    page = rep_client.get(reverse("crm:deal_detail", args=[deal.pk])).text
    assert "(from the stage)" in page
    assert ">Set category</button>" in page
    response = rep_client.post(
        reverse("crm:deal_forecast_category", args=[deal.pk]), {"category": "commit"}, follow=True
    )
    assert "Forecast category: Commit." in response.text
    assert f"Pipeline → Commit by {rep}" in response.text
    assert "(from the stage)" not in response.text


def test_a_colleague_sees_the_category_but_no_control(client, team, deal):
    colleague = MembershipFactory(team=team, role=Role.REP, user__username="colleague").user
    client.force_login(colleague)
    page = client.get(reverse("crm:deal_detail", args=[deal.pk])).text
    assert 'id="deal-forecast-category"' in page
    assert ">Set category</button>" not in page
    response = client.post(
        reverse("crm:deal_forecast_category", args=[deal.pk]), {"category": "commit"}, follow=True
    )
    assert "Only the deal&#x27;s owner or a manager" in response.text
