"""deal_close and health: the score only with consent, metrics rows with real aggregates."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from coop.consent import consent_revoke
from coop.models import ConsentScope
from crm.models import Deal
from health.models import SalesHealthMetric
from health.services import today_for
from integrations.deal_closing import deal_close
from tests.crm.factories import DealFactory, InteractionFactory, lost_reason_for

pytestmark = pytest.mark.django_db


def test_with_consent_the_deal_gets_the_owners_score_of_the_day(rep, deal, allow, check_in):
    allow(rep, ConsentScope.DEAL_WELLNESS)
    check_in(rep, stress=30)  # score 70
    closed = deal_close(actor=rep, deal=deal, won=True)
    assert closed.wellness_score_at_deal == 70
    assert Deal.objects.get(pk=deal.pk).wellness_score_at_deal == 70


def test_a_lost_deal_gets_the_score_too(rep, deal, allow, check_in):
    allow(rep, ConsentScope.DEAL_WELLNESS)
    check_in(rep, stress=60)
    assert (
        deal_close(
            actor=rep, deal=deal, won=False, lost_reason=lost_reason_for(deal)
        ).wellness_score_at_deal
        == 40
    )


def test_without_consent_nothing_from_health_reaches_the_deal(rep, deal, check_in):
    check_in(rep, stress=30)
    closed = deal_close(actor=rep, deal=deal, won=True)
    assert closed.wellness_score_at_deal is None
    assert not SalesHealthMetric.objects.exists()


def test_without_a_check_in_today_no_score_is_made_up(rep, deal, allow, check_in):
    allow(rep, ConsentScope.DEAL_WELLNESS)
    check_in(rep, day=today_for(rep) - datetime.timedelta(days=1), stress=10)
    assert deal_close(actor=rep, deal=deal, won=True).wellness_score_at_deal is None


def test_the_score_is_the_owners_not_the_closers(rep, manager, deal, allow, check_in):
    allow(manager, ConsentScope.DEAL_WELLNESS)
    check_in(manager, stress=0)
    allow(rep, ConsentScope.DEAL_WELLNESS)
    check_in(rep, stress=50)
    assert deal_close(actor=manager, deal=deal, won=True).wellness_score_at_deal == 50


def test_revoking_removes_the_scores_from_every_deal_at_once(rep, pipeline, allow, check_in):
    allow(rep, ConsentScope.DEAL_WELLNESS)
    check_in(rep, stress=30)
    deals = [DealFactory(pipeline=pipeline, owner=rep) for _ in range(3)]
    for deal in deals:
        deal_close(actor=rep, deal=deal, won=True)
    assert Deal.objects.filter(wellness_score_at_deal=70).count() == 3
    consent_revoke(user=rep, scope=ConsentScope.DEAL_WELLNESS)
    assert not Deal.objects.filter(wellness_score_at_deal__isnull=False).exists()


def test_after_revocation_new_closes_get_no_score(rep, pipeline, allow, check_in):
    allow(rep, ConsentScope.DEAL_WELLNESS)
    check_in(rep, stress=30)
    consent_revoke(user=rep, scope=ConsentScope.DEAL_WELLNESS)
    deal = DealFactory(pipeline=pipeline, owner=rep)
    assert deal_close(actor=rep, deal=deal, won=True).wellness_score_at_deal is None


def test_insights_consent_alone_writes_the_metrics_row_but_no_score(rep, deal, allow, check_in):
    allow(rep, ConsentScope.TEAM_INSIGHTS)
    check_in(rep, stress=30)
    closed = deal_close(actor=rep, deal=deal, won=True)
    assert closed.wellness_score_at_deal is None
    assert SalesHealthMetric.objects.filter(user=rep, date=today_for(rep)).exists()


def test_closing_upserts_the_days_row_with_real_aggregates(rep, pipeline, contact, allow, check_in):
    allow(rep, ConsentScope.TEAM_INSIGHTS)
    check_in(rep, stress=65)
    InteractionFactory.create_batch(3, contact=contact, author=rep)
    InteractionFactory(
        contact=contact, author=rep, timestamp=timezone.now() - datetime.timedelta(days=3)
    )
    earlier = DealFactory(pipeline=pipeline, owner=rep)
    deal_close(actor=rep, deal=earlier, won=False, lost_reason=lost_reason_for(earlier))
    deal = DealFactory(pipeline=pipeline, owner=rep)
    deal_close(actor=rep, deal=deal, won=True)
    row = SalesHealthMetric.objects.get(user=rep, date=today_for(rep))
    assert row.stress_level == 65
    assert row.interaction_count == 3  # today's, not the one 3 days ago
    assert row.deal_velocity == pytest.approx(2 / 4)  # 2 closed in 28 days, per week
    assert row.conversion_rate == pytest.approx(0.5)  # 1 won of 2 closed


def test_two_closes_on_one_day_update_the_same_row(rep, pipeline, allow, check_in):
    allow(rep, ConsentScope.TEAM_INSIGHTS)
    check_in(rep, stress=20)
    for _ in range(2):
        deal_close(actor=rep, deal=DealFactory(pipeline=pipeline, owner=rep), won=True)
    assert SalesHealthMetric.objects.filter(user=rep).count() == 1
    row = SalesHealthMetric.objects.get(user=rep)
    assert row.deal_velocity == pytest.approx(0.5)
    assert row.conversion_rate == 1.0


def test_closing_an_already_closed_deal_is_refused_and_not_counted_twice(
    rep, deal, allow, check_in
):
    from django.core.exceptions import ValidationError

    allow(rep, ConsentScope.TEAM_INSIGHTS)
    check_in(rep, stress=20)
    deal_close(actor=rep, deal=deal, won=True)
    with pytest.raises(ValidationError):
        deal_close(actor=rep, deal=deal, won=False, lost_reason=lost_reason_for(deal))
    assert SalesHealthMetric.objects.get(user=rep).deal_velocity == pytest.approx(0.25)


def test_the_day_is_the_owners_local_day(rep, deal, allow, check_in, settings):
    rep.time_zone = "Pacific/Kiritimati"  # UTC+14: usually already tomorrow in UTC terms
    rep.save()
    allow(rep, ConsentScope.DEAL_WELLNESS)
    local_today = timezone.localdate(timezone=rep.zone)
    check_in(rep, day=local_today, stress=10)
    assert deal_close(actor=rep, deal=deal, won=True).wellness_score_at_deal == 90


def test_a_failure_later_in_the_close_rolls_back_the_score_and_the_metrics(
    rep, deal, allow, check_in, monkeypatch
):
    allow(rep, ConsentScope.DEAL_WELLNESS, ConsentScope.TEAM_INSIGHTS)
    check_in(rep, stress=30)

    def broken(**kwargs):
        raise RuntimeError("metrics store down")

    monkeypatch.setattr("health.services.rollup_range", broken)
    with pytest.raises(RuntimeError):
        deal_close(actor=rep, deal=deal, won=True)
    deal.refresh_from_db()
    assert deal.is_open
    assert deal.wellness_score_at_deal is None


def test_the_deal_page_shows_the_score_only_when_shared(client, rep, deal, allow, check_in):
    from django.urls import reverse

    check_in(rep, stress=30)
    client.force_login(rep)
    deal_close(actor=rep, deal=deal, won=True)
    url = reverse("crm:deal_detail", args=[deal.pk])
    assert "Wellness score at closing" not in client.get(url).text
    allow(rep, ConsentScope.DEAL_WELLNESS)
    other = DealFactory(pipeline=deal.pipeline, owner=rep)
    deal_close(actor=rep, deal=other, won=True)
    page = client.get(reverse("crm:deal_detail", args=[other.pk])).text
    assert "<dt>Wellness score at closing</dt>" in page
    assert "<dd>70 / 100" in page
    consent_revoke(user=rep, scope=ConsentScope.DEAL_WELLNESS)
    assert (
        "Wellness score at closing"
        not in client.get(reverse("crm:deal_detail", args=[other.pk])).text
    )


def test_erasing_the_owners_account_clears_the_score_from_their_deals(rep, deal, allow, check_in):
    allow(rep, ConsentScope.DEAL_WELLNESS)
    check_in(rep, stress=30)
    deal_close(actor=rep, deal=deal, won=True)
    rep.delete()
    deal.refresh_from_db()
    assert deal.owner is None
    assert deal.wellness_score_at_deal is None


def test_withdrawing_clears_the_score_even_after_the_deal_changed_owner(
    rep, manager, deal, allow, check_in
):
    allow(rep, ConsentScope.DEAL_WELLNESS)
    check_in(rep, stress=30)
    deal_close(actor=rep, deal=deal, won=True)
    Deal.objects.filter(pk=deal.pk).update(owner=manager)  # a reassignment after the close
    consent_revoke(user=rep, scope=ConsentScope.DEAL_WELLNESS)
    deal.refresh_from_db()
    assert (deal.wellness_score_at_deal, deal.wellness_score_user) == (None, None)


def test_the_new_owners_withdrawal_does_not_touch_a_score_that_is_not_theirs(
    rep, manager, deal, allow, check_in
):
    allow(rep, ConsentScope.DEAL_WELLNESS)
    check_in(rep, stress=30)
    deal_close(actor=rep, deal=deal, won=True)
    Deal.objects.filter(pk=deal.pk).update(owner=manager)
    allow(manager, ConsentScope.DEAL_WELLNESS)
    consent_revoke(user=manager, scope=ConsentScope.DEAL_WELLNESS)
    deal.refresh_from_db()
    assert (deal.wellness_score_at_deal, deal.wellness_score_user) == (70, rep)


def test_the_deal_page_credits_the_score_to_whoever_shared_it(
    client, rep, manager, deal, allow, check_in
):
    rep.display_name, manager.display_name = "Rita Rep", "Manu Manager"
    rep.save()
    manager.save()
    allow(rep, ConsentScope.DEAL_WELLNESS)
    check_in(rep, stress=30)
    deal_close(actor=rep, deal=deal, won=True)
    Deal.objects.filter(pk=deal.pk).update(owner=manager)
    client.force_login(manager)
    page = client.get(reverse("crm:deal_detail", args=[deal.pk])).text
    assert "shared by Rita Rep with their consent" in page
