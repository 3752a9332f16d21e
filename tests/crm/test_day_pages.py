"""My day (the home page) and a record's next steps and notes, through their pages."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from calendar_app.services import event_create
from crm.day import DAY_LIST_LIMIT
from crm.meeting_scheduling import meeting_schedule
from crm.models import Deal, Interaction, InteractionType, Note, Task
from tests.catalogues import compile_catalogues, page_in
from tests.crm.factories import DealFactory, NoteFactory, TaskFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
# Session, user; visible people; meetings; overdue tasks; today's tasks; stale thresholds;
# closing, stale and no-next-step deals.
DAY_BUDGET = 10


def _day(client, **params):
    response = client.get(reverse("crm:my_day"), params, headers=HTMX)
    assert response.status_code == 200
    return response.context["day"], response.content.decode()


def test_my_day_lists_overdue_and_todays_tasks_but_not_later_or_done_ones(rep_client, rep, deal):
    today = timezone.localdate()
    TaskFactory(deal=deal, assignee=rep, title="Late one", due_date=today - datetime.timedelta(1))
    TaskFactory(deal=deal, assignee=rep, title="Today one", due_date=today)
    TaskFactory(deal=deal, assignee=rep, title="Next week", due_date=today + datetime.timedelta(7))
    TaskFactory(
        deal=deal, assignee=rep, title="Done one", completed_at=timezone.now(), completed_by=rep
    )
    day, html = _day(rep_client)
    assert [task.title for task in day.overdue] == ["Late one"]
    assert [task.title for task in day.due_today] == ["Today one"]
    assert "Next week" not in html and "Done one" not in html


def test_my_day_shows_deals_closing_this_month_with_their_weighted_value(
    rep_client, rep, pipeline, stages
):
    DealFactory(
        pipeline=pipeline,
        stage=stages["Proposal"],
        owner=rep,
        title="Half sure",
        value_cents=1_000_001,
        expected_close_date=timezone.localdate(),
    )
    DealFactory(
        pipeline=pipeline,
        owner=rep,
        title="Next year",
        expected_close_date=timezone.localdate() + datetime.timedelta(days=400),
    )
    day, html = _day(rep_client)
    assert [deal.title for deal in day.closing] == ["Half sure"]
    # 50 % of €10,000.01 is €5,000.005: half-even to €5,000.00.
    assert day.closing_totals[0].cents == 500_000
    assert "€5,000.00" in html


def test_a_deal_without_task_or_meeting_is_flagged_no_next_step(rep_client, rep, deal, contact):
    day, html = _day(rep_client)
    assert deal in day.no_next_step
    assert "no next step" in html
    TaskFactory(deal=deal, assignee=rep)
    day, _ = _day(rep_client)
    assert deal not in day.no_next_step


def test_an_upcoming_meeting_with_the_deals_contact_is_a_next_step(rep_client, rep, deal, contact):
    start = timezone.now() + datetime.timedelta(days=3)
    meeting_schedule(
        organizer=rep,
        contact=contact,
        title="Visit",
        start_time=start,
        end_time=start + datetime.timedelta(hours=1),
    )
    day, _ = _day(rep_client)
    assert deal not in day.no_next_step


def test_a_deal_with_no_activity_for_the_teams_threshold_is_stale(rep_client, rep, team, deal):
    old = timezone.now() - datetime.timedelta(days=20)
    Deal.objects.filter(pk=deal.pk).update(
        updated_at=old, created_at=old, stage_entered_at=old, last_activity_at=old
    )
    day, _ = _day(rep_client)
    assert deal in day.stale
    team.stale_deal_days = 30
    team.save()
    day, _ = _day(rep_client)
    assert deal not in day.stale


def test_a_recent_call_with_the_contact_keeps_a_deal_fresh(rep_client, rep, deal, contact):
    old = timezone.now() - datetime.timedelta(days=20)
    Deal.objects.filter(pk=deal.pk).update(
        updated_at=old, created_at=old, stage_entered_at=old, last_activity_at=old
    )
    Interaction.objects.create(
        contact=contact, author=rep, interaction_type=InteractionType.CALL, summary="Hi"
    )
    day, _ = _day(rep_client)
    assert deal not in day.stale


def test_todays_and_tomorrows_meetings_are_listed(rep_client, rep):
    zone = rep.zone
    tomorrow = timezone.localtime(timezone.now(), zone).date() + datetime.timedelta(days=1)
    start = datetime.datetime.combine(tomorrow, datetime.time(10), tzinfo=zone)
    event_create(
        organizer=rep,
        title="Board call",
        start_time=start,
        end_time=start + datetime.timedelta(1 / 24),
    )
    day, html = _day(rep_client)
    assert [event.title for event in day.meetings_tomorrow] == ["Board call"]
    assert "Board call" in html


def test_a_manager_sees_a_members_day_and_a_rep_only_their_own(client, rep, manager, deal):
    TaskFactory(deal=deal, assignee=rep, title="Call the buyer")
    client.force_login(manager)
    day, html = _day(client, who=str(rep.pk))
    assert [task.title for task in day.due_today] == ["Call the buyer"]
    day, html = _day(client, who="team")
    assert "Call the buyer" in html and day.several
    client.force_login(rep)
    day, html = _day(client, who=str(manager.pk))
    assert "You can see your own day" in html
    assert day.people == [rep]


@pytest.mark.parametrize("who", ["nonsense", "00000000-0000-0000-0000-000000000000", "team'"])
def test_a_bad_person_filter_shows_ones_own_day_with_a_message(rep_client, who):
    day, html = _day(rep_client, who=who)
    assert "You can see your own day" in html
    assert day.people == [day.people[0]] and len(day.people) == 1


def _fill(rep, pipeline, contact, n):
    old = timezone.now() - datetime.timedelta(days=40)
    for i in range(n):
        deal = DealFactory(
            pipeline=pipeline,
            owner=rep,
            contact=contact,
            title=f"Deal {i}",
            expected_close_date=timezone.localdate(),
        )
        Deal.objects.filter(pk=deal.pk).update(
            updated_at=old, created_at=old, stage_entered_at=old, last_activity_at=old
        )
        TaskFactory(deal=deal, assignee=rep, due_date=timezone.localdate() - datetime.timedelta(1))
        TaskFactory(deal=deal, assignee=rep)
        NoteFactory(deal=deal, author=rep, created_at=old)
    for i in range(min(n, 3)):
        start = timezone.now() + datetime.timedelta(hours=1 + i)
        event_create(
            organizer=rep,
            title=f"Meeting {i}",
            start_time=start,
            end_time=start + datetime.timedelta(minutes=30),
        )


@pytest.mark.parametrize("size", [2, 30])
def test_my_day_makes_a_constant_number_of_queries(
    size, rep_client, rep, pipeline, contact, django_assert_max_num_queries
):
    _fill(rep, pipeline, contact, size)
    with django_assert_max_num_queries(DAY_BUDGET):
        response = rep_client.get(reverse("crm:my_day"), headers=HTMX)
    day = response.context["day"]
    shown = min(size, DAY_LIST_LIMIT)
    assert len(day.overdue) == shown and len(day.due_today) == shown
    assert len(day.stale) == shown and len(day.closing) == shown


def test_the_dashboard_loads_my_day_in_place(rep_client):
    html = rep_client.get(reverse("dashboard")).content.decode()
    assert f'hx-get="{reverse("crm:my_day")}"' in html


def test_ticking_a_task_done_in_place_fires_tasks_changed(rep_client, rep, deal):
    task = TaskFactory(deal=deal, assignee=rep)
    response = rep_client.post(
        reverse("crm:task_done", args=[task.pk]), {"done": "1"}, headers=HTMX
    )
    assert response.status_code == 200
    assert "tasksChanged" in response.headers["HX-Trigger"]
    task.refresh_from_db()
    assert task.completed_by == rep
    rep_client.post(reverse("crm:task_done", args=[task.pk]), {}, headers=HTMX)
    task.refresh_from_db()
    assert task.completed_at is None


def test_a_task_added_on_the_deal_page_shows_pinned_in_its_section(rep_client, rep, deal):
    url = reverse("crm:task_new", args=["deals", deal.pk])
    response = rep_client.post(
        url,
        {"title": "Send the offer", "due_date": "2026-12-04", "priority": "3"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert "tasksChanged" in response.headers["HX-Trigger"]
    assert "Send the offer" in html and "No open next step" not in html
    assert Task.objects.get().priority == 3


def test_a_task_without_a_title_is_refused_with_a_reason(rep_client, deal):
    url = reverse("crm:task_new", args=["deals", deal.pk])
    response = rep_client.post(url, {"title": "", "due_date": "2026-12-04"}, headers=HTMX)
    assert "errorlist" in response.content.decode() or "field-error" in response.content.decode()
    assert not Task.objects.exists()


def test_the_assignee_field_is_offered_to_managers_only(client, rep, manager, deal):
    url = reverse("crm:record_activity", args=["deals", deal.pk])
    client.force_login(rep)
    assert 'name="assignee"' not in client.get(url).content.decode()
    client.force_login(manager)
    assert 'name="assignee"' in client.get(url).content.decode()


def test_notes_show_as_safe_markdown_and_only_the_author_may_edit(client, rep, manager, deal):
    client.force_login(rep)
    url = reverse("crm:note_new", args=["deals", deal.pk])
    client.post(url, {"body": "**Signed** <script>alert(1)</script>"}, headers=HTMX)
    note = Note.objects.get()
    html = client.get(reverse("crm:record_activity", args=["deals", deal.pk])).content.decode()
    assert "<strong>Signed</strong>" in html
    assert "<script>alert" not in html
    assert reverse("crm:note_edit", args=[note.pk]) in html
    client.force_login(manager)
    html = client.get(reverse("crm:record_activity", args=["deals", deal.pk])).content.decode()
    assert reverse("crm:note_edit", args=[note.pk]) not in html
    response = client.post(reverse("crm:note_edit", args=[note.pk]), {"body": "Mine now"})
    assert response.status_code == 400
    note.refresh_from_db()
    assert note.body.startswith("**Signed**")


def test_the_author_edits_and_deletes_a_note_in_place(rep_client, rep, deal):
    note = NoteFactory(deal=deal, author=rep, body="First")
    response = rep_client.post(
        reverse("crm:note_edit", args=[note.pk]), {"body": "Second"}, headers=HTMX
    )
    assert "notesChanged" in response.headers["HX-Trigger"]
    assert "Second" in response.content.decode()
    rep_client.post(reverse("crm:note_delete", args=[note.pk]), headers=HTMX)
    assert not Note.objects.exists()


@pytest.mark.parametrize("kind", ["contacts", "organizations", "deals"])
def test_every_record_page_loads_its_next_steps_and_notes(rep_client, contact, deal, kind):
    record = {"contacts": contact, "organizations": None, "deals": deal}[kind]
    if record is None:
        from tests.crm.factories import OrganizationFactory

        record = OrganizationFactory(team=contact.team)
    page = reverse(f"crm:{kind[:-1]}_detail", args=[record.pk])
    slot = reverse("crm:record_activity", args=[kind, record.pk])
    assert f'hx-get="{slot}"' in rep_client.get(page).content.decode()
    assert rep_client.get(slot).status_code == 200


def test_an_unknown_kind_of_record_is_not_found(rep_client, deal):
    url = reverse("crm:record_activity", args=["pipelines", deal.pk])
    assert rep_client.get(url).status_code == 404


def test_another_team_gets_not_found_for_a_records_activity(client, outsider, deal):
    client.force_login(outsider)
    assert client.get(reverse("crm:record_activity", args=["deals", deal.pk])).status_code == 404


def test_the_deal_section_flags_a_deal_without_a_next_step(rep_client, rep, deal, contact):
    url = reverse("crm:record_activity", args=["deals", deal.pk])
    assert "no next step</span>" in rep_client.get(url).content.decode()
    start = timezone.now() + datetime.timedelta(days=2)
    meeting_schedule(
        organizer=rep,
        contact=contact,
        title="Visit",
        start_time=start,
        end_time=start + datetime.timedelta(hours=1),
    )
    assert "no next step</span>" not in rep_client.get(url).content.decode()


def test_my_day_reads_in_german(rep_client, rep, deal):
    compile_catalogues(("coop", "crm"))
    TaskFactory(deal=deal, assignee=rep, title="Call back", due_date=timezone.localdate())
    html = page_in(rep_client, rep, reverse("crm:my_day"), "de")
    assert "Mein Tag" in html
    assert "Heute fällige Aufgaben" in html and "Call back" in html
    assert "Morgen keine Termine." in html
    assert "Tasks due today" not in html and "No meetings tomorrow." not in html
