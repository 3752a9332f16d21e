"""What the Reports keep at write time: each stage change's pipeline and the end of its stay
(`crm_deal_stage_changes.pipeline_id`, `left_at`), and the activity totals per team, person
and UTC hour (`crm_activity_hours`). After every writer, what is kept equals a recount from scratch,
and the reports read from it give the figures of the straightforward computation."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from crm.activity_totals import _counts
from crm.bulk_actions import deals_move
from crm.imports import import_undo
from crm.meeting_scheduling import meeting_schedule, meeting_update
from crm.merging import contacts_merge
from crm.models import ActivityHour, Deal, Interaction, StageChange, Task
from crm.next_steps import task_complete, task_reopen
from crm.pipeline_settings import stage_archive
from crm.reports import (
    ReportFilters,
    _activity_counted,
    _activity_from_totals,
    _velocity_in_python,
    _weeks_start_on_whole_hours,
    activity,
    report_deals,
    velocity,
    win_loss,
)
from crm.services import (
    contact_erase_records,
    deal_create,
    deal_move,
    interaction_log,
    stage_history_refresh,
)
from integrations.deal_closing import deal_close, deal_reopen
from tests.crm.factories import ContactFactory, TaskFactory, lost_reason_for
from tests.crm.test_imports import _import

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")  # UTC+5:30: weeks start mid-hour, the counted path


def _filters(pipeline=None, owner=None, zone=None):
    today = timezone.localdate()
    return ReportFilters(
        start=today - datetime.timedelta(days=30),
        end=today + datetime.timedelta(days=30),
        zone=zone or BERLIN,
        pipeline=pipeline,
        owner=owner,
    )


def _history_is_kept():
    """Nothing for a full recount to correct, and every change knows its pipeline."""
    assert not StageChange.objects.filter(pipeline__isnull=True).exists()
    assert stage_history_refresh() == 0


def _totals_are_kept():
    kept = sorted(
        ActivityHour.objects.values_list(
            "team_id", "person_id", "hour", "interactions", "meetings", "tasks_done"
        )
    )
    recounted = sorted(
        (t.team_id, t.person_id, t.hour, t.interactions, t.meetings, t.tasks_done)
        for t in _counts(Interaction.objects.all(), Task.objects.all())
    )
    assert kept == recounted


def _velocity_matches(viewer, filters):
    fast = velocity(viewer=viewer, filters=filters)
    assert fast == _velocity_in_python(report_deals(viewer=viewer, filters=filters), filters)
    return fast


def test_moves_closes_reopens_and_bulk_moves_keep_the_history(rep, manager, pipeline, stages):
    deals = [
        deal_create(
            actor=rep, pipeline=pipeline, stage=stages["Lead"], title=f"D{n}", value_cents=5
        )
        for n in range(4)
    ]
    _history_is_kept()
    deal_move(actor=rep, deal=deals[0], stage=stages["Proposal"])
    deal_close(actor=rep, deal=deals[0], won=False, lost_reason=lost_reason_for(deals[0]))
    _history_is_kept()
    deal_reopen(actor=manager, deal=Deal.objects.get(pk=deals[0].pk))
    deal_close(actor=rep, deal=Deal.objects.get(pk=deals[0].pk), won=True)
    _history_is_kept()
    deals_move(actor=rep, ids=[deal.pk for deal in deals[1:]], stage=stages["Negotiation"])
    _history_is_kept()
    stage_archive(actor=manager, stage=stages["Negotiation"], move_to=stages["Proposal"])
    _history_is_kept()
    # The reopened deal's stays: Lead, Proposal (ended by the loss), Proposal again (by the win).
    stays = StageChange.objects.filter(deal=deals[0]).order_by("changed_at", "id")
    assert [c.left_at for c in stays][:-1] == [c.changed_at for c in stays][1:]
    assert stays.last().left_at is None
    result = _velocity_matches(rep, _filters(pipeline))
    assert result.cycle_deals == 1
    assert {row.stage: row.stays for row in result.stages} == {
        "Lead": 4,
        "Proposal": 2,
        "Negotiation": 3,
    }


def test_a_deal_lost_twice_counts_at_each_stage_it_was_lost_from(rep, manager, pipeline, stages):
    deal = deal_create(
        actor=rep, pipeline=pipeline, stage=stages["Proposal"], title="A", value_cents=7
    )
    deal_close(actor=rep, deal=deal, won=False, lost_reason=lost_reason_for(deal))
    deal = deal_reopen(actor=manager, deal=Deal.objects.get(pk=deal.pk))
    deal_move(actor=rep, deal=deal, stage=stages["Negotiation"])
    deal_close(actor=rep, deal=deal, won=False, lost_reason=lost_reason_for(deal))
    by_stage = win_loss(viewer=rep, filters=_filters(pipeline)).by_stage
    assert sorted((row.label, row.lost, row.lost_cents) for row in by_stage) == [
        ("Negotiation", 1, 7),
        ("Proposal", 1, 7),
    ]


def test_the_owner_filter_reads_the_owners_deals_only(rep, manager, pipeline, stages):
    mine = deal_create(actor=rep, pipeline=pipeline, stage=stages["Lead"], title="A", value_cents=1)
    theirs = deal_create(
        actor=manager, pipeline=pipeline, stage=stages["Lead"], title="B", value_cents=1
    )
    for deal in (mine, theirs):
        deal_move(actor=rep, deal=deal, stage=stages["Proposal"])
    result = _velocity_matches(manager, _filters(pipeline, owner=rep))
    assert [(row.stage, row.stays) for row in result.stages] == [("Lead", 1)]


def test_imported_deals_and_the_undo_of_their_import_keep_the_history(
    manager, team, pipeline, stages
):
    # Imported deals write no stage history (as before these columns); the history of the
    # team's other deals is untouched by the import and by its undo.
    deal_create(actor=manager, pipeline=pipeline, stage=stages["Lead"], title="Mine", value_cents=1)
    text = (
        "Title,Pipeline,Stage,Status,Value,Currency,Expected close date\n"
        f"Roof,{pipeline.name},Proposal,open,12,EUR,2026-12-31\n"
        f"Won roof,{pipeline.name},Won,won,10,EUR,2026-01-01\n"
    )
    run = _import(manager, team, text, kind="deals")
    assert run.created == 2
    _history_is_kept()
    import_undo(actor=manager, run=run)
    assert StageChange.objects.filter(deal__title="Mine").count() == 1
    _history_is_kept()


def test_the_activity_totals_follow_entries_meetings_and_tasks(rep, manager, team, contact, deal):
    filters = _filters()
    interaction_log(actor=rep, contact=contact, interaction_type="call", summary="Hello")
    interaction_log(actor=rep, contact=contact, interaction_type="meeting", summary="Met")
    start = timezone.now() + datetime.timedelta(hours=1)
    meeting = meeting_schedule(
        organizer=rep,
        contact=contact,
        title="Visit",
        start_time=start,
        end_time=start + datetime.timedelta(hours=1),
    )
    _totals_are_kept()
    later = start + datetime.timedelta(days=9)
    end = later + datetime.timedelta(hours=1)
    meeting_update(actor=rep, interaction=meeting, title="Visit", start_time=later, end_time=end)
    _totals_are_kept()
    tasks = TaskFactory.create_batch(2, deal=deal, assignee=rep)
    for task in tasks:
        task_complete(actor=rep, task=task)
    task_reopen(actor=rep, task=tasks[1])
    _totals_are_kept()
    rows = _activity_from_totals(manager, filters)
    assert rows == activity(viewer=manager, filters=filters) == _activity_counted(manager, filters)
    in_kolkata = activity(viewer=manager, filters=_filters(zone=KOLKATA))
    assert sum(row.meetings + row.interactions for row in in_kolkata) == 3
    assert sum(row.interactions for row in rows) == 1
    assert sum(row.meetings for row in rows) == 2
    assert sum(row.tasks_done for row in rows) == 1
    assert len({row.week for row in rows if row.meetings}) == 2  # the meeting moved a week on
    assert activity(viewer=manager, filters=_filters(owner=manager)) == []


def test_merging_and_erasing_contacts_keep_the_totals(rep, team, contact, pipeline, stages):
    other = ContactFactory(team=team, owner=rep, name="Ann Twin")
    for person in (contact, other):
        interaction_log(actor=rep, contact=person, interaction_type="email", summary="Hi")
    task_complete(actor=rep, task=TaskFactory(deal=None, contact=other, assignee=rep))
    deal_create(
        actor=rep, pipeline=pipeline, stage=stages["Lead"], title="R", value_cents=1, contact=other
    )
    contacts_merge(actor=rep, keep=contact, remove=other, picks={})
    _totals_are_kept()
    _history_is_kept()
    with transaction.atomic():
        contact_erase_records(contact=contact)
    _totals_are_kept()
    assert not ActivityHour.objects.filter(interactions__gt=0).exists()
    _history_is_kept()


def test_another_teams_activity_stays_out_of_the_totals_path(rep, outsider, foreign_contact):
    interaction_log(actor=outsider, contact=foreign_contact, interaction_type="call", summary="X")
    assert ActivityHour.objects.exists()
    assert activity(viewer=rep, filters=_filters()) == []


@pytest.mark.parametrize(
    ("zone", "week"),
    [
        # Sunday 29 November 2026 23:30 UTC is Monday 00:30 in Berlin: the next week there.
        (BERLIN, datetime.date(2026, 11, 30)),
        (datetime.UTC, datetime.date(2026, 11, 23)),
        (ZoneInfo("America/New_York"), datetime.date(2026, 11, 23)),
        (KOLKATA, datetime.date(2026, 11, 30)),
    ],
)
def test_weeks_are_the_viewers_whatever_the_zone(rep, manager, contact, zone, week):
    sunday_night = datetime.datetime(2026, 11, 29, 23, 30, tzinfo=datetime.UTC)
    interaction_log(
        actor=rep, contact=contact, interaction_type="call", summary="Late", timestamp=sunday_night
    )
    (total,) = ActivityHour.objects.all()
    assert total.hour == datetime.datetime(2026, 11, 29, 23, tzinfo=datetime.UTC)
    filters = ReportFilters(
        start=datetime.date(2026, 11, 1), end=datetime.date(2026, 12, 31), zone=zone
    )
    assert _weeks_start_on_whole_hours(filters) == (zone is not KOLKATA)
    (row,) = activity(viewer=manager, filters=filters)
    assert (row.week, row.interactions) == (week, 1)
    assert [row] == _activity_counted(manager, filters)


def test_the_rebuild_command_repairs_and_is_idempotent(rep, contact, pipeline, stages, capsys):
    deal = deal_create(actor=rep, pipeline=pipeline, stage=stages["Lead"], title="R", value_cents=1)
    deal_move(actor=rep, deal=deal, stage=stages["Proposal"])
    interaction_log(actor=rep, contact=contact, interaction_type="call", summary="Hello")
    StageChange.objects.filter(deal=deal).update(left_at=None, pipeline=None)
    ActivityHour.objects.update(interactions=7)
    call_command("rebuild_report_history")
    assert "2 stage change(s) corrected; 1 activity total(s)" in capsys.readouterr().out
    _history_is_kept()
    _totals_are_kept()
    call_command("rebuild_report_history")
    assert "0 stage change(s) corrected; 1 activity total(s)" in capsys.readouterr().out
