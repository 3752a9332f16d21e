"""A deal keeps its last activity (`crm.activity`), which "My day"'s stale list filters on:
the writes that make activity move it, removing one computes it again from the records."""

import datetime

import pytest
from django.utils import timezone

from crm.activity import deal_activity_refresh
from crm.day import DAY_LIST_LIMIT, my_day
from crm.models import Deal, InteractionType
from crm.next_steps import task_complete, task_reopen
from crm.notes import note_create, note_delete
from crm.services import deal_update, interaction_log
from tests.crm.factories import DealFactory, TaskFactory

pytestmark = pytest.mark.django_db

OLD = datetime.timedelta(days=40)


def _quiet(deal: Deal) -> None:
    """Nothing happened on the deal for 40 days (its team's threshold is 14)."""
    old = timezone.now() - OLD
    Deal.objects.filter(pk=deal.pk).update(
        updated_at=old, created_at=old, stage_entered_at=old, last_activity_at=old
    )


def _stale(rep) -> list[Deal]:
    return my_day(viewer=rep, people=[rep]).stale


def test_a_note_on_a_deal_makes_it_fresh_and_deleting_it_stale_again(rep, deal):
    _quiet(deal)
    assert _stale(rep) == [deal]
    note = note_create(actor=rep, record=deal, body="Called, they will decide in May.")
    assert _stale(rep) == []
    note_delete(actor=rep, note=note)
    assert _stale(rep) == [deal]


def test_ticking_a_task_done_makes_a_deal_fresh_and_reopening_it_stale_again(rep, deal):
    task = TaskFactory(deal=deal, assignee=rep)
    _quiet(deal)
    assert _stale(rep) == [deal]
    task_complete(actor=rep, task=task)
    assert _stale(rep) == []
    task_reopen(actor=rep, task=task)
    assert _stale(rep) == [deal]


def test_a_logged_call_with_the_contact_makes_its_deals_fresh(rep, deal, contact):
    _quiet(deal)
    interaction_log(
        actor=rep, contact=contact, interaction_type=InteractionType.CALL, summary="Follow-up"
    )
    deal.refresh_from_db()
    assert timezone.now() - deal.last_activity_at < datetime.timedelta(minutes=1)
    assert _stale(rep) == []


def test_a_call_logged_for_long_ago_leaves_the_deal_stale(rep, deal, contact):
    _quiet(deal)
    interaction_log(
        actor=rep,
        contact=contact,
        interaction_type=InteractionType.CALL,
        summary="An old call",
        timestamp=timezone.now() - datetime.timedelta(days=30),
    )
    assert _stale(rep) == [deal]


def test_a_change_of_the_deal_is_activity(rep, deal):
    _quiet(deal)
    deal_update(
        actor=rep,
        deal=deal,
        title="Solar roof, phase 2",
        value_cents=deal.value_cents,
        contact=deal.contact,
        expected_close_date=deal.expected_close_date,
    )
    assert _stale(rep) == []


def test_the_refresh_computes_the_last_activity_from_the_records(rep, deal):
    _quiet(deal)
    note = note_create(actor=rep, record=deal, body="A note")
    Deal.objects.filter(pk=deal.pk).update(last_activity_at=timezone.now() - OLD)
    deal_activity_refresh(Deal.objects.filter(pk=deal.pk))
    deal.refresh_from_db()
    assert deal.last_activity_at == note.created_at


def test_many_overdue_tasks_do_not_hide_todays(rep, deal):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    for i in range(DAY_LIST_LIMIT + 3):
        TaskFactory(deal=deal, assignee=rep, due_date=yesterday, title=f"Old {i}")
    TaskFactory(deal=deal, assignee=rep, title="Today's call")
    day = my_day(viewer=rep, people=[rep])
    assert len(day.overdue) == DAY_LIST_LIMIT
    assert [task.title for task in day.due_today] == ["Today's call"]


def test_the_stale_list_stops_at_its_limit_soonest_close_first(rep, pipeline, contact):
    today = timezone.localdate()
    for i in range(DAY_LIST_LIMIT + 2):
        _quiet(
            DealFactory(
                pipeline=pipeline,
                owner=rep,
                contact=contact,
                title=f"Deal {i}",
                expected_close_date=today + datetime.timedelta(days=DAY_LIST_LIMIT + 2 - i),
            )
        )
    stale = _stale(rep)
    assert len(stale) == DAY_LIST_LIMIT
    assert stale[0].title == f"Deal {DAY_LIST_LIMIT + 1}"
