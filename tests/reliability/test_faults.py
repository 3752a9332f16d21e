"""Faults: every cross-module flow, failing at each of its write steps, leaves nothing behind;
a database connection dropped in the middle of a request gives our error page, writes
nothing, and the next request works."""

import datetime
import re

import psycopg
import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from coop.consent import consent_grant
from coop.models import ConsentScope
from crm.meeting_scheduling import meeting_schedule
from crm.models import Contact, Deal, DealStatus
from finance.models import RevenueEntry
from finance.services import forecast_generate
from health.models import SalesHealthMetric
from health.services import checkin_save, rollup_range, today_for
from integrations.deal_closing import deal_close
from tests.reliability.world import build_world, snapshot

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")


def is_write(sql: str) -> bool:
    """A write statement, including a data-modifying WITH (`WITH inserted AS (INSERT ...`)."""
    statement = sql.lstrip().upper()
    if statement.startswith("WITH"):
        return re.search(r"\b(INSERT|UPDATE|DELETE)\b", statement) is not None
    return statement.startswith(WRITES)


class InjectedFault(Exception):
    """The failure injected at one write step."""


class FailingWrite:
    """A database execute wrapper counting write statements and failing the `fail_at`-th."""

    def __init__(self, fail_at: int | None = None):
        self.fail_at = fail_at
        self.writes: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        if is_write(sql):
            self.writes.append(sql.split(None, 3)[:3])
            if len(self.writes) == self.fail_at:
                raise InjectedFault(sql)
        return execute(sql, params, many, context)


class _Rollback(Exception):
    pass


def _write_steps(flow) -> int:
    """How many write statements the flow makes (run once and rolled back)."""
    counter = FailingWrite()
    rolled_back = transaction.atomic()
    # Like the test case's own transactions, this one may hold the flow's durable block.
    rolled_back._from_testcase = True
    try:
        with rolled_back, connection.execute_wrapper(counter):
            flow()
            raise _Rollback
    except _Rollback:
        pass
    return len(counter.writes)


def _fail_at_each_write(flow) -> int:
    """Run the flow failing at each write step in turn; each time nothing may change."""
    steps = _write_steps(flow)
    assert steps >= 2, "a cross-module flow writes more than this"
    before = snapshot(bookkeeping=True)
    for step in range(1, steps + 1):
        with pytest.raises(InjectedFault), connection.execute_wrapper(FailingWrite(step)):
            flow()
        assert snapshot(bookkeeping=True) == before, f"partial write after failing step {step}"
    flow()  # and without a fault the flow still works
    assert snapshot(bookkeeping=True) != before
    return steps


@pytest.fixture
def world(team, rep):
    world = build_world(team, rep)
    for scope in (ConsentScope.DEAL_WELLNESS, ConsentScope.TEAM_INSIGHTS):
        consent_grant(user=rep, scope=scope)
    return world


def test_meeting_schedule_leaves_nothing_when_any_write_fails(world, rep):
    start = timezone.now().replace(microsecond=0) + datetime.timedelta(days=5)

    def flow():
        return meeting_schedule(
            organizer=rep,
            contact=Contact.objects.get(pk=world.contact.pk),
            title="Fault-injected meeting",
            start_time=start,
            end_time=start + datetime.timedelta(hours=1),
            location="Room 1",
            invite=True,
        )

    assert _fail_at_each_write(flow) >= 4


def test_deal_close_leaves_nothing_when_any_write_fails(world, rep):
    def flow():
        return deal_close(actor=rep, deal=Deal.objects.get(pk=world.deal.pk), won=True)

    assert _fail_at_each_write(flow) >= 4
    assert Deal.objects.get(pk=world.deal.pk).status == DealStatus.WON
    assert RevenueEntry.objects.filter(deal=world.deal).count() == 1


def test_forecast_generate_leaves_nothing_when_any_write_fails(world, manager, team):
    today = timezone.localdate()

    def flow():
        return forecast_generate(
            actor=manager,
            team=team,
            scope_user=None,
            period_type="weekly",
            start=today,
            end=today + datetime.timedelta(days=60),
            currency="EUR",
            name="Fault-injected forecast",
        )

    assert _fail_at_each_write(flow) >= 4


def test_rollup_leaves_nothing_when_any_write_fails(world, manager, team):
    consent_grant(user=manager, scope=ConsentScope.TEAM_INSIGHTS)
    checkin_save(user=manager, stress=20)
    SalesHealthMetric.objects.all().delete()  # granting consent back-filled them
    today = today_for(manager)  # the manager's own day: it may differ from UTC's

    def flow():
        return rollup_range(start=today - datetime.timedelta(days=2), end=today)

    assert _fail_at_each_write(flow) >= 2
    assert SalesHealthMetric.objects.count() == 2


requires_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="pg_terminate_backend needs PostgreSQL (set DATABASE_URL to run it)",
)


def _terminate(pid: int) -> None:
    """End a backend from a connection of our own, as a failover or an admin would."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])


class DropConnectionOnWrite:
    """Terminate the request's own database connection just before its first write."""

    def __init__(self):
        self.dropped = False

    def __call__(self, execute, sql, params, many, context):
        if not self.dropped and sql.lstrip().upper().startswith(WRITES):
            self.dropped = True
            _terminate(context["connection"].connection.info.backend_pid)
        return execute(sql, params, many, context)


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_connection_dropped_mid_request_gives_our_error_page_and_writes_nothing(
    client, team, rep
):
    world = build_world(team, rep)
    client.raise_request_exception = False
    client.force_login(rep)
    url = reverse("integrations:deal_close", args=[world.deal.pk])
    before = snapshot(bookkeeping=True)
    dropper = DropConnectionOnWrite()
    with connection.execute_wrapper(dropper):
        response = client.post(url, {"outcome": "won"})
    assert dropper.dropped
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "Traceback" not in response.text
    # The next request gets a fresh connection and works: nothing of the first was written.
    assert client.get(reverse("crm:deal_detail", args=[world.deal.pk])).status_code == 200
    assert snapshot(bookkeeping=True) == before
    assert client.post(url, {"outcome": "won"}).status_code == 302
    assert Deal.objects.get(pk=world.deal.pk).status == DealStatus.WON
    assert RevenueEntry.objects.filter(deal=world.deal).count() == 1
