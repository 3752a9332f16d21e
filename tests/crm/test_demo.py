from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from coop.demo import DEMO_TEAM
from crm.demo import TRUTH_VISIT_DAYS
from crm.models import (
    Contact,
    Deal,
    DealStatus,
    Interaction,
    Organization,
    Pipeline,
    PipelineStage,
    StageVisit,
    stage_forecast_category,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("debug_on")]

SMALL = {"contacts": 30, "deals": 40, "interactions": 120}


def _seed(**options):
    out = StringIO()
    call_command("seed_demo", stdout=out, **{**SMALL, **options})
    return out.getvalue()


def _snapshot():
    return (
        list(Contact.objects.order_by("id").values_list("id", "name", "email", "owner__username")),
        list(Deal.objects.order_by("id").values_list("id", "title", "value_cents", "status")),
        list(
            Interaction.objects.filter(calendar_event__isnull=True)
            .order_by("id")
            .values_list("id", "summary", "timestamp")
        ),
    )


def _wipe_crm():
    Interaction.objects.all().delete()
    Deal.objects.all().delete()
    Contact.objects.all().delete()
    Organization.objects.all().delete()


def test_seed_demo_loads_the_sizes_asked_for_in_the_demo_team():
    output = _seed()
    assert Contact.objects.filter(team__name=DEMO_TEAM).count() == 30
    assert Deal.objects.filter(pipeline__team__name=DEMO_TEAM).count() == 40
    demo_interactions = Interaction.objects.filter(contact__team__name=DEMO_TEAM)
    assert demo_interactions.filter(calendar_event__isnull=True).count() == 120
    assert set(Pipeline.objects.values_list("name", "currency")) == {
        ("Sales", "EUR"),
        ("Partnerships", "USD"),
    }
    assert "CRM: added 30 contacts, 40 deals, 120 interactions." in output
    assert "interactions: 120 / 120 (100 %)" in output


def test_seed_demo_is_idempotent():
    _seed()
    before = _snapshot()
    output = _seed()
    assert "CRM: added 0 contacts, 0 deals, 0 interactions." in output
    assert _snapshot() == before


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    _seed(seed=7)
    first = _snapshot()
    _wipe_crm()
    _seed(seed=7)
    assert _snapshot() == first
    _wipe_crm()
    _seed(seed=8)
    assert [row[1:] for row in _snapshot()[0]] != [row[1:] for row in first[0]]


def test_a_bigger_run_adds_only_the_missing_rows():
    _seed()
    first_contacts = _snapshot()[0]
    output = _seed(contacts=50, deals=40, interactions=120)
    assert "CRM: added 20 contacts, 0 deals, 0 interactions." in output
    assert set(first_contacts) <= set(_snapshot()[0])


def test_demo_deals_are_consistent():
    _seed(deals=300)
    deals = Deal.objects.all()
    assert not deals.exclude(currency=F("pipeline__currency")).exists()
    assert not deals.exclude(stage__pipeline=F("pipeline")).exists()
    assert not deals.filter(status=DealStatus.WON).exclude(stage__is_won=True).exists()
    assert not deals.filter(status=DealStatus.LOST).exclude(stage__is_lost=True).exists()
    assert not deals.filter(status=DealStatus.OPEN, stage__is_won=True).exists()
    assert deals.filter(status=DealStatus.OPEN).exists()
    assert deals.filter(status=DealStatus.WON).exists()
    assert deals.filter(status=DealStatus.LOST).exists()
    assert not deals.filter(created_at__gt=F("updated_at")).exists()
    assert not deals.exclude(contact__team=F("pipeline__team")).exists()
    for deal in deals.filter(status=DealStatus.OPEN).select_related("stage"):
        assert deal.forecast_category == stage_forecast_category(deal.stage)


def test_each_demo_deal_has_the_stage_visit_its_outcome_was_drawn_for():
    _seed(deals=300)
    _seed(deals=300)
    visits = StageVisit.objects.select_related("deal")
    assert visits.count() == Deal.objects.count() == 300
    for visit in visits:
        if visit.deal.status == DealStatus.OPEN:
            assert (visit.stage_id, visit.left_at) == (visit.deal.stage_id, None)
            assert visit.entered_at == visit.deal.stage_entered_at
        else:
            assert visit.left_at == visit.deal.closed_at
            assert 0 <= visit.days < TRUTH_VISIT_DAYS
            assert visit.entered_at >= visit.deal.created_at
    # The services' own visits get ids after the demo's.
    deal = Deal.objects.filter(status=DealStatus.OPEN).first()
    later = StageVisit.objects.create(
        deal=deal, stage_id=deal.stage_id, stage_name="x", entered_at=deal.stage_entered_at
    )
    assert later.pk > 300


def test_negative_sizes_are_refused():
    with pytest.raises(CommandError, match="invalid count"):
        call_command("seed_demo", "--contacts=-1")
    with pytest.raises(ValueError, match="must be whole numbers >= 0"):
        call_command("seed_demo", deals=-5)
    assert not Contact.objects.exists()


def test_every_demo_stage_shows_the_expected_value_of_its_open_deals():
    _seed()
    for pipeline in Pipeline.objects.filter(team__name=DEMO_TEAM):
        for stage in pipeline.stages.all():
            open_total = sum(
                deal.value_cents for deal in stage.deals.filter(status=DealStatus.OPEN)
            )
            expected = round(Decimal(open_total * stage.probability) / 100)
            assert stage.expected_value_cents == expected, stage.name
            assert stage.expected_value_currency == pipeline.currency
    assert PipelineStage.objects.filter(expected_value_cents__gt=0).exists()
