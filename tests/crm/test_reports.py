"""The Reports page: funnel, win/loss, velocity (correct across daylight-saving changes),
activity and pipeline changes; within the visibility rule; at a constant query count; each
with a CSV export. And the seeding of the stage-change history from what existed."""

import datetime
from importlib import import_module
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from crm.models import Deal, StageChange, StageVisit
from crm.next_steps import task_complete
from crm.reports import (
    ReportFilters,
    _funnel_in_python,
    _funnel_in_sql,
    _velocity_from_columns,
    _velocity_in_python,
    _velocity_in_sql,
    activity,
    funnel,
    percentile,
    pipeline_changes,
    report_deals,
    velocity,
    win_loss,
)
from crm.services import deal_create, deal_move, deal_update, stage_history_refresh
from integrations.deal_closing import deal_close
from tests.catalogues import compile_catalogues, page_in
from tests.crm.factories import (
    InteractionFactory,
    PipelineFactory,
    TaskFactory,
    lost_reason_for,
)

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


def _filters(pipeline=None, start=None, end=None, zone=datetime.UTC, owner=None):
    today = datetime.date.today()
    return ReportFilters(
        start=start or today - datetime.timedelta(days=30),
        end=end or today,
        zone=zone,
        pipeline=pipeline,
        owner=owner,
    )


def _deal(rep, pipeline, stages, title, stage="Lead", value=10_000):
    return deal_create(
        actor=rep, pipeline=pipeline, stage=stages[stage], title=title, value_cents=value
    )


def test_every_move_records_a_stage_change_with_its_utc_time(rep, pipeline, stages):
    deal = _deal(rep, pipeline, stages, "Roof")
    deal = deal_move(actor=rep, deal=deal, stage=stages["Proposal"])
    changes = list(StageChange.objects.filter(deal=deal))
    assert [(c.kind, c.from_stage_name, c.to_stage_name) for c in changes] == [
        ("created", "", "Lead"),
        ("moved", "Lead", "Proposal"),
    ]
    assert changes[1].changed_at == deal.stage_entered_at
    assert changes[1].changed_at.utcoffset() == datetime.timedelta(0)


def test_the_funnel_counts_entries_and_conversions(rep, pipeline, stages):
    deals = [_deal(rep, pipeline, stages, f"Deal {n}") for n in range(3)]
    for deal in deals[:2]:
        deal_move(actor=rep, deal=deal, stage=stages["Proposal"])
    deal_close(actor=rep, deal=deals[0], won=True)
    rows = {row.stage: row for row in funnel(viewer=rep, filters=_filters(pipeline))}
    assert (rows["Lead"].entered, rows["Lead"].converted) == (3, 2)
    assert (rows["Proposal"].entered, rows["Proposal"].converted) == (2, 1)
    assert rows["Proposal"].rate == 50
    assert rows["Negotiation"].entered == 0


def _stay(deal, stage_from, stage_to, entered, left):
    StageChange.objects.filter(deal=deal).delete()
    StageChange.objects.bulk_create(
        [
            StageChange(
                deal=deal,
                kind="created",
                to_stage_id=stage_from.pk,
                to_stage_name=stage_from.name,
                changed_at=entered,
            ),
            StageChange(
                deal=deal,
                kind="moved",
                from_stage_id=stage_from.pk,
                from_stage_name=stage_from.name,
                to_stage_id=stage_to.pk,
                to_stage_name=stage_to.name,
                changed_at=left,
            ),
        ]
    )
    stage_history_refresh(deals=Deal.objects.filter(pk=deal.pk))


@pytest.mark.parametrize(
    ("entered", "left", "hours"),
    [
        # Clocks go forward in Berlin on 29 March 2026: noon to noon is 23 hours.
        (datetime.datetime(2026, 3, 28, 12), datetime.datetime(2026, 3, 29, 12), 23),
        # And back on 25 October 2026: noon to noon is 25 hours.
        (datetime.datetime(2026, 10, 24, 12), datetime.datetime(2026, 10, 25, 12), 25),
    ],
)
def test_velocity_is_right_across_daylight_saving_changes(
    rep, pipeline, stages, entered, left, hours
):
    deal = _deal(rep, pipeline, stages, "Roof")
    _stay(
        deal,
        stages["Lead"],
        stages["Proposal"],
        entered.replace(tzinfo=BERLIN),
        left.replace(tzinfo=BERLIN),
    )
    filters = _filters(
        pipeline, start=entered.date(), end=left.date() + datetime.timedelta(days=1), zone=BERLIN
    )
    (row,) = velocity(viewer=rep, filters=filters).stages
    assert (row.stage, row.stays) == ("Lead", 1)
    assert row.median_days * 24 == pytest.approx(hours)


def test_velocity_median_p90_and_the_sales_cycle(rep, pipeline, stages):
    deals = [_deal(rep, pipeline, stages, f"Deal {n}") for n in range(3)]
    for deal in deals:
        deal_move(actor=rep, deal=deal, stage=stages["Proposal"])
    deal_close(actor=rep, deal=deals[0], won=True)
    result = velocity(viewer=rep, filters=_filters(pipeline))
    lead = next(row for row in result.stages if row.stage == "Lead")
    assert lead.stays == 3
    assert result.cycle_deals == 1 and result.cycle_median_days >= 0


def _history(deal, *steps):
    """Replace a deal's stage history by (kind, stage, Berlin wall time) steps."""
    StageChange.objects.filter(deal=deal).delete()
    StageChange.objects.bulk_create(
        StageChange(
            deal=deal,
            kind=kind,
            to_stage_id=stage.pk,
            to_stage_name=stage.name,
            changed_at=at.replace(tzinfo=BERLIN),
        )
        for kind, stage, at in steps
    )
    stage_history_refresh(deals=Deal.objects.filter(pk=deal.pk))


def _varied_histories(rep, pipeline, stages):
    """Stays across both 2026 daylight-saving changes, odd and even counts per stage (so the
    median interpolates), won and lost deals, a reopening, a stay ending after the period and
    a deal won after it (no cycle), and two changes at the same instant (ordered by id)."""
    at = datetime.datetime
    lead, proposal, negotiation = stages["Lead"], stages["Proposal"], stages["Negotiation"]
    won = pipeline.stages.get(is_won=True)
    lost = pipeline.stages.get(is_lost=True)
    histories = [
        [("created", lead, at(2026, 3, 28, 12)), ("moved", proposal, at(2026, 3, 29, 12))],
        [
            ("created", lead, at(2026, 3, 1, 9, 30)),
            ("moved", proposal, at(2026, 3, 20, 17, 5, 3)),
            ("moved", negotiation, at(2026, 10, 24, 12)),
            ("won", won, at(2026, 10, 25, 12)),
        ],
        [
            ("created", lead, at(2026, 4, 2, 8)),
            ("moved", proposal, at(2026, 4, 9, 8, 0, 0, 250_000)),
            ("lost", lost, at(2026, 5, 1, 8)),
            ("reopened", proposal, at(2026, 6, 1, 8)),
            ("won", won, at(2026, 6, 30, 23, 59)),
        ],
        [
            ("created", lead, at(2026, 5, 5, 5)),
            ("moved", proposal, at(2026, 5, 5, 5)),
            ("moved", negotiation, at(2026, 11, 20, 10)),
        ],
        [("created", lead, at(2026, 2, 1, 12)), ("won", won, at(2026, 12, 20, 12))],
    ]
    for n, steps in enumerate(histories):
        _history(_deal(rep, pipeline, stages, f"History {n}"), *steps)
    return _filters(
        pipeline, start=datetime.date(2026, 3, 1), end=datetime.date(2026, 10, 31), zone=BERLIN
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the SQL path is PostgreSQL's (window functions)"
)
def test_velocity_sql_and_python_paths_give_identical_results(rep, pipeline, stages):
    filters = _varied_histories(rep, pipeline, stages)
    deals = report_deals(viewer=rep, filters=filters)
    in_sql = _velocity_in_sql(rep, filters)
    assert in_sql == _velocity_in_python(deals, filters)
    assert [(row.stage, row.stays) for row in in_sql.stages] == [
        ("Lead", 4),
        ("Proposal", 3),
        ("Negotiation", 1),
    ]
    assert in_sql.cycle_deals == 2
    assert velocity(viewer=rep, filters=filters) == in_sql


def test_velocity_from_the_report_columns_matches_the_python_path(rep, pipeline, stages):
    """On any database: the stays read by their kept end (`left_at`) give the figures of the
    straightforward walk through each deal's history."""
    filters = _varied_histories(rep, pipeline, stages)
    expected = _velocity_in_python(report_deals(viewer=rep, filters=filters), filters)
    assert _velocity_from_columns(rep, filters) == expected
    assert [row.stays for row in expected.stages] == [4, 3, 1]


def _open_stages(pipeline):
    return list(
        pipeline.stages.filter(is_won=False, is_lost=False, archived_at__isnull=True)
        .order_by("position")
        .values_list("pk", "name", "position")
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the SQL path is PostgreSQL's (GROUP BY, EXISTS)"
)
def test_funnel_sql_and_python_paths_give_identical_results(rep, pipeline, stages):
    filters = _varied_histories(rep, pipeline, stages)
    deals = report_deals(viewer=rep, filters=filters)
    board = _open_stages(pipeline)
    in_sql = _funnel_in_sql(rep, filters, board)
    assert in_sql == _funnel_in_python(deals, filters, board)
    assert [row.entered for row in funnel(viewer=rep, filters=filters)] == [
        in_sql[pk][0] for pk, _, _ in board
    ]


def test_funnel_python_path_on_varied_histories(rep, pipeline, stages):
    filters = _varied_histories(rep, pipeline, stages)
    board = _open_stages(pipeline)
    counts = _funnel_in_python(report_deals(viewer=rep, filters=filters), filters, board)
    by_name = {name: counts[pk] for pk, name, _ in board}
    # Entered Lead in the period: four deals (1 March 9:30 is inside); all went on.
    assert by_name["Lead"] == (4, 4)
    # Proposal: four entries (the reopened deal counts once, at its first entry); the deal
    # stuck in Proposal since 29 March never converts, the others reached Negotiation or won.
    assert by_name["Proposal"] == (4, 3)
    assert by_name["Negotiation"] == (1, 1)


def test_velocity_python_path_on_varied_histories(rep, pipeline, stages):
    """The same histories on any database: the figures the SQL path must match."""
    filters = _varied_histories(rep, pipeline, stages)
    result = _velocity_in_python(report_deals(viewer=rep, filters=filters), filters)
    lead, proposal, negotiation = result.stages
    # Lead stays: 23 h across spring forward; 19 d 7 h 35 min 3 s; 7 d 0.25 s; 0 s.
    assert (lead.stage, lead.stays) == ("Lead", 4)
    assert lead.median_days == round((23 * 3600 + (7 * 86_400 + 0.25)) / 2 / 86_400, 6)
    # Proposal: the reopened stay counts; the one ending 20 November is after the period.
    assert (proposal.stage, proposal.stays) == ("Proposal", 3)
    # Negotiation: noon to noon across fall back is 25 hours.
    assert (negotiation.stays, negotiation.median_days) == (1, round(25 / 24, 6))
    # Won within the period: two deals; the one won on 20 December is not.
    assert result.cycle_deals == 2


def test_percentile_is_the_nearest_rank():
    assert percentile(list(range(1, 11)), 0.9) == 9
    assert percentile([5.0], 0.9) == 5.0


def test_win_loss_by_owner_reason_and_stage_at_loss(rep, pipeline, stages):
    won = _deal(rep, pipeline, stages, "Won one", value=30_000)
    lost = _deal(rep, pipeline, stages, "Lost one", value=20_000)
    deal_move(actor=rep, deal=lost, stage=stages["Negotiation"])
    deal_close(actor=rep, deal=won, won=True)
    reason = lost_reason_for(lost)
    deal_close(actor=rep, deal=lost, won=False, lost_reason=reason)
    result = win_loss(viewer=rep, filters=_filters(pipeline))
    (owner,) = result.by_owner
    assert (owner.won, owner.won_cents, owner.lost, owner.lost_cents) == (1, 30_000, 1, 20_000)
    assert owner.win_rate == 50
    assert [(r.label, r.lost) for r in result.by_reason] == [(reason.name, 1)]
    assert [(r.label, r.lost) for r in result.by_stage] == [("Negotiation", 1)]


def test_another_teams_deals_stay_out_of_every_report(rep, outsider, other_team):
    foreign = PipelineFactory(team=other_team)
    stage = foreign.stages.order_by("position").first()
    deal = deal_create(actor=outsider, pipeline=foreign, stage=stage, title="X", value_cents=5)
    deal_close(actor=outsider, deal=deal, won=True)
    filters = _filters()
    assert win_loss(viewer=rep, filters=filters).by_owner == []
    assert velocity(viewer=rep, filters=filters).cycle_deals == 0
    assert all(change.deals == 0 for change in pipeline_changes(viewer=rep, filters=filters))


def test_pipeline_changes_count_entries_moves_slips_and_closings(rep, pipeline, stages):
    deal = _deal(rep, pipeline, stages, "Roof")
    deal_move(actor=rep, deal=deal, stage=stages["Proposal"])
    deal_update(
        actor=rep,
        deal=deal,
        title="Roof",
        value_cents=10_000,
        contact=None,
        expected_close_date=deal.expected_close_date + datetime.timedelta(days=30)
        if deal.expected_close_date
        else datetime.date.today() + datetime.timedelta(days=60),
    )
    deal = Deal.objects.get(pk=deal.pk)
    deal_update(
        actor=rep,
        deal=deal,
        title="Roof",
        value_cents=10_000,
        contact=None,
        expected_close_date=deal.expected_close_date + datetime.timedelta(days=7),
    )
    counts = {c.kind: c.deals for c in pipeline_changes(viewer=rep, filters=_filters(pipeline))}
    assert counts == {"Entered": 1, "Moved": 1, "Slipped": 1, "Closed": 0}


REPORT_NAMES = ("funnel", "winloss", "velocity", "activity", "changes")


def _world(rep, pipeline, stages, contact, count):
    for n in range(count):
        deal = _deal(rep, pipeline, stages, f"Deal {n}")
        deal_move(actor=rep, deal=deal, stage=stages["Proposal"])
        if n % 2:
            deal_close(actor=rep, deal=deal, won=True)
        else:
            deal_close(actor=rep, deal=deal, won=False, lost_reason=lost_reason_for(deal))
        InteractionFactory(contact=contact, author=rep)
        task_complete(actor=rep, task=TaskFactory(deal=deal, assignee=rep))


def test_activity_counts_entries_and_tasks_done_per_person_and_week(rep, pipeline, stages, contact):
    deal = _deal(rep, pipeline, stages, "Roof")
    InteractionFactory.create_batch(2, contact=contact, author=rep)
    for task in TaskFactory.create_batch(3, deal=deal, assignee=rep):
        task_complete(actor=rep, task=task)
    TaskFactory(deal=deal, assignee=rep)  # still open: not counted

    (row,) = activity(viewer=rep, filters=_filters(pipeline))

    assert (row.interactions, row.tasks_done) == (2, 3)
    assert row.person == (rep.display_name or rep.username)


@pytest.mark.parametrize("report", REPORT_NAMES)
def test_each_report_runs_at_a_constant_query_count(
    rep_client, rep, pipeline, stages, contact, report, django_assert_max_num_queries
):
    url = reverse("crm:reports")
    _world(rep, pipeline, stages, contact, 2)
    with django_assert_max_num_queries(14) as small:
        assert rep_client.get(url, {"report": report, "pipeline": pipeline.pk}).status_code == 200
    _world(rep, pipeline, stages, contact, 20)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = rep_client.get(url, {"report": report, "pipeline": pipeline.pk}).text
    assert "Nothing in this period" not in page


def test_the_win_loss_page_shows_the_reason_chart_and_table(rep_client, rep, pipeline, stages):
    deal = _deal(rep, pipeline, stages, "Roof")
    reason = lost_reason_for(deal)
    deal_close(actor=rep, deal=deal, won=False, lost_reason=reason)
    page = rep_client.get(reverse("crm:reports"), {"report": "winloss"}).text
    assert "By lost reason" in page and 'class="bar-chart"' in page
    assert f'<th scope="row">By lost reason</th><td>{reason.name}</td>' in page


def test_a_report_as_csv(rep_client, rep, pipeline, stages):
    _deal(rep, pipeline, stages, "Roof")
    response = rep_client.get(
        reverse("crm:reports"), {"report": "funnel", "pipeline": pipeline.pk, "format": "csv"}
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[:2] == [
        "Stage,Entered,Converted to a later stage,Conversion %",
        "Lead,1,0,0",
    ]


def test_a_backwards_period_is_refused_with_a_message(rep_client):
    response = rep_client.get(
        reverse("crm:reports"), {"report": "funnel", "start": "2026-05-02", "end": "2026-05-01"}
    )
    assert response.status_code == 400
    assert "The period starts after it ends." in response.text


def test_the_migration_seeds_stage_changes_from_the_stage_visits(rep, pipeline, stages):
    deal = _deal(rep, pipeline, stages, "Roof")
    deal_move(actor=rep, deal=deal, stage=stages["Proposal"])
    deal_close(actor=rep, deal=deal, won=True)
    untracked = Deal.objects.create(
        pipeline=pipeline,
        stage=stages["Lead"],
        owner=rep,
        title="Old",
        value_cents=1,
        currency="EUR",
    )
    expected = list(
        StageChange.objects.filter(deal=deal).values_list(
            "kind", "from_stage_name", "to_stage_name", "changed_at"
        )
    )
    StageChange.objects.all().delete()
    assert StageVisit.objects.filter(deal=deal).count() == 2
    migration = import_module("crm.migrations.0014_owners_lost_reasons_stage_changes")
    migration.seed_stage_changes(apps, None)
    seeded = list(
        StageChange.objects.filter(deal=deal).values_list(
            "kind", "from_stage_name", "to_stage_name", "changed_at"
        )
    )
    assert seeded == expected
    assert StageChange.objects.get(deal=untracked).to_stage_name == "Lead"


def test_the_report_page_and_its_csv_headers_read_in_french(rep_client, rep, pipeline, stages):
    compile_catalogues(("coop", "crm"))
    _deal(rep, pipeline, stages, "Roof")
    url = f"{reverse('crm:reports')}?report=funnel&pipeline={pipeline.pk}"
    page = page_in(rep_client, rep, url, "fr")
    with translation.override("fr"):
        response = rep_client.get(f"{url}&format=csv", HTTP_ACCEPT_LANGUAGE="fr")
        text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "<h1>Rapports</h1>" in page and "Télécharger le CSV" in page
    assert 'aria-current="page">Entonnoir</a>' in page
    assert '<th scope="col">Passées à une étape suivante</th>' in page
    assert text.splitlines()[:2] == [
        "Étape,Entrées,Passées à une étape suivante,Conversion (%)",
        "Lead,1,0,0",
    ]


def test_a_too_long_period_is_refused_in_german(rep_client, rep):
    compile_catalogues(("coop", "crm"))
    rep.language = "de"
    rep.save(update_fields=["language"])
    with translation.override("de"):
        response = rep_client.get(
            reverse("crm:reports"),
            {"report": "funnel", "start": "2000-01-01", "end": "2026-05-01"},
            HTTP_ACCEPT_LANGUAGE="de",
        )
    assert response.status_code == 400
    assert "Wählen Sie einen Zeitraum von höchstens" in response.text


def test_the_activity_chart_has_a_bar_per_person_and_the_table_a_row_per_week(
    rep_client, rep, contact
):
    """A year of weeks would be hundreds of bars: the chart sums each person's period."""
    now = timezone.now()
    for weeks_ago in (0, 1, 2):
        InteractionFactory(
            contact=contact, author=rep, timestamp=now - datetime.timedelta(weeks=weeks_ago)
        )
    page = rep_client.get(reverse("crm:reports"), {"report": "activity"}).text
    assert page.count('class="bar-row"') == 1
    assert page.count(f"<td>{rep.display_name or rep.username}</td>") == 3
    assert '<span class="bar-value">3</span>' in page
