"""The contact's upcoming meetings are read by index on PostgreSQL, never by reading
everyone's future events (issue 22). The plan is asked with sequential scans priced out, so
a small test database gives the plan the index allows (a missing index, or a query it cannot
serve, shows as a scan)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.meeting_scheduling import meeting_schedule
from crm.selectors import contact_timeline

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans"),
]


def _plan(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_contacts_meetings_are_read_by_index_and_their_events_by_key(rep, contact):
    start = timezone.now() + datetime.timedelta(days=1)
    meeting_schedule(
        organizer=rep,
        contact=contact,
        title="Roof survey",
        start_time=start,
        end_time=start + datetime.timedelta(hours=1),
    )
    with CaptureQueriesContext(connection) as queries:
        page = contact_timeline(contact=contact)
    assert [entry.summary for entry in page.upcoming] == ["Roof survey"]
    meeting_ids = next(
        q["sql"]
        for q in queries.captured_queries
        if 'SELECT "crm_interactions"."calendar_event_id"' in q["sql"]
    )
    assert "crm_interaction_meetings_idx" in _plan(meeting_ids, None)
    upcoming = next(
        q["sql"]
        for q in queries.captured_queries
        if "calendar_events" in q["sql"] and " IN (" in q["sql"]
    )
    assert "Seq Scan on calendar_events" not in _plan(upcoming, None)
