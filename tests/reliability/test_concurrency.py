"""Concurrency on PostgreSQL with real threads, each on its own database connection: the same
deal closed twice at once, reminder runs at once, the same meeting dragged twice at once,
forecasts generated at once, the first check-in of a day submitted twice at once, a deal closed
or a rollup run while the owner withdraws consent. Nothing is done twice, lost, deadlocked or
left inconsistent."""

import datetime
import io
import threading
import time

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.utils import timezone

from calendar_app.models import Event, Notification, Reminder
from calendar_app.services import event_create, event_move
from coop import consent
from coop.consent import consent_grant, consent_revoke
from coop.models import AuditAction, AuditEvent, Consent, ConsentScope
from crm.models import Deal, DealStatus, Interaction
from finance.models import ForecastDeal, RevenueEntry, RevenueForecast
from finance.services import forecast_generate
from health import services as health_services
from health.models import CheckIn, SalesHealthMetric
from health.services import checkin_save, rollup_day, today_for
from integrations import deal_closing
from integrations.deal_closing import deal_close
from tests.crm.factories import lost_reason_for
from tests.reliability.world import build_world

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks and concurrent transactions need PostgreSQL (set DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]


def run_together(*calls):
    """Run the calls in threads released at the same instant; (result or exception) each."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = call()
        except Exception as error:  # the outcome under test, compared by the caller
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def started(call):
    """Run `call` in a thread of its own (its own connection); join it for [result or error]."""
    outcome: list = [None]

    def run():
        try:
            outcome[0] = call()
        except Exception as error:  # the outcome under test, checked by the caller
            outcome[0] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()

    def join():
        thread.join(timeout=60)
        assert not thread.is_alive()
        return outcome[0]

    return thread, join


def paused_at(monkeypatch, module, name):
    """Make the first call of `module.name` wait, inside the transaction (and with the locks) of
    the service that calls it, until released: returns the (reached, release) events."""
    reached, release = threading.Event(), threading.Event()
    original = getattr(module, name)

    def wait_then_call(*args, **kwargs):
        if not reached.is_set():
            reached.set()
            assert release.wait(timeout=30)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wait_then_call)
    return reached, release


def blocked_or_done(thread):
    """Wait until `thread` has finished or its connection waits for a row lock."""
    deadline = time.monotonic() + 30
    while thread.is_alive():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
        assert time.monotonic() < deadline, "neither blocked nor finished"
        time.sleep(0.02)


@pytest.fixture
def world(team, rep):
    world = build_world(team, rep)
    for scope in (ConsentScope.DEAL_WELLNESS, ConsentScope.TEAM_INSIGHTS):
        consent_grant(user=rep, scope=scope)
    return world


def test_two_closes_of_one_deal_give_one_closure_one_revenue_entry_one_metrics_row(
    world, rep, manager
):
    pk = world.deal.pk
    outcomes = run_together(
        lambda: deal_close(actor=rep, deal=Deal.objects.get(pk=pk), won=True),
        lambda: deal_close(actor=manager, deal=Deal.objects.get(pk=pk), won=True),
    )
    closed = [o for o in outcomes if isinstance(o, Deal)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(closed) == 1 and len(refused) == 1, outcomes
    deal = Deal.objects.get(pk=pk)
    assert deal.status == DealStatus.WON
    assert deal.closed_at == closed[0].closed_at
    entries = RevenueEntry.objects.filter(deal=deal)
    assert entries.count() == 1
    assert entries.get().amount_cents == deal.value_cents
    assert AuditEvent.objects.filter(action=AuditAction.DEAL_CLOSED).count() == 1
    metrics = SalesHealthMetric.objects.filter(user=rep, date=today_for(rep))
    assert metrics.count() == 1
    assert metrics.get().conversion_rate == 1.0  # one deal won, counted once


def test_won_and_lost_at_once_leave_one_consistent_outcome(world, rep, manager):
    pk = world.deal.pk
    outcomes = run_together(
        lambda: deal_close(actor=rep, deal=Deal.objects.get(pk=pk), won=True),
        lambda: deal_close(
            actor=manager,
            deal=Deal.objects.get(pk=pk),
            won=False,
            lost_reason=lost_reason_for(Deal.objects.get(pk=pk)),
        ),
    )
    winner = next(o for o in outcomes if isinstance(o, Deal))
    deal = Deal.objects.get(pk=pk)
    assert deal.status == winner.status
    assert RevenueEntry.objects.filter(deal=deal).count() == (deal.status == DealStatus.WON)


def test_concurrent_reminder_runs_send_each_reminder_once(world, rep, manager):
    start = timezone.now().replace(microsecond=0) + datetime.timedelta(minutes=10)
    for organizer in (rep, rep, manager):
        event_create(
            organizer=organizer,
            title="Soon",
            start_time=start,
            end_time=start + datetime.timedelta(minutes=30),
            allow_conflicts=True,
        )
    # Tests run tasks at once, so the events' own enqueued run has sent them already: make
    # them unsent again, as the cron finds them when no worker ran.
    due = Reminder.objects.filter(due_at__lte=timezone.now()).update(sent_at=None)
    assert due == 3
    Notification.objects.all().delete()
    mail.outbox.clear()
    outcomes = run_together(
        *[lambda: call_command("send_reminders", stdout=io.StringIO()) for _ in range(4)]
    )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert Reminder.objects.filter(sent_at__isnull=False).count() == due
    assert Notification.objects.count() == due
    assert len(mail.outbox) == due
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [rep.email, rep.email, manager.email]
    )


def test_concurrent_drags_of_one_meeting_leave_event_and_timeline_entry_together(world, rep):
    pk = world.event.pk
    base = world.event.start_time
    for round_number in range(5):
        targets = [
            base + datetime.timedelta(days=1 + round_number, hours=hour) for hour in (1, 2, 3)
        ]
        outcomes = run_together(
            *[
                lambda target=target: event_move(
                    actor=rep, event=Event.objects.get(pk=pk), start_time=target
                )
                for target in targets
            ]
        )
        assert all(isinstance(o, Event) for o in outcomes), outcomes
        event = Event.objects.get(pk=pk)
        entry = Interaction.objects.get(calendar_event=event)
        assert event.start_time in targets
        assert entry.timestamp == event.start_time
        assert event.end_time - event.start_time == datetime.timedelta(hours=1)


def test_concurrent_forecast_generations_do_not_interfere(world, manager, team):
    today = timezone.localdate()

    def generate(name):
        return forecast_generate(
            actor=manager,
            team=team,
            scope_user=None,
            period_type="weekly",
            start=today,
            end=today + datetime.timedelta(days=60),
            currency="EUR",
            name=name,
        )

    outcomes = run_together(*[lambda n=n: generate(f"Concurrent {n}") for n in range(4)])
    assert all(isinstance(o, RevenueForecast) for o in outcomes), outcomes
    alone = generate("Alone")
    for forecast in outcomes:
        forecast.refresh_from_db()
        assert forecast.total_expected_cents == alone.total_expected_cents
        assert ForecastDeal.objects.filter(forecast=forecast).count() == (
            ForecastDeal.objects.filter(forecast=alone).count()
        )
        assert forecast.buckets.count() == alone.buckets.count()
    assert RevenueForecast.objects.filter(name__startswith="Concurrent").count() == 4


def _wait_for_a_blocked_statement() -> None:
    """Until some other connection waits for a lock (`pg_locks` is live, not a snapshot)."""
    deadline = time.monotonic() + 30
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the second check-in never waited for the first")


def test_a_double_submitted_first_check_in_of_the_day_saves_one_row(manager):
    """The second request starts before the first commits, so it cannot see the first's row:
    it waits on the row's unique key and, once the first commits, updates that row."""
    consent_grant(user=manager, scope=ConsentScope.TEAM_INSIGHTS)
    second: list = []

    def submit_again():
        try:
            second.append(checkin_save(user=manager, stress=30))
        except Exception as error:  # the outcome under test
            second.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=submit_again)
    with transaction.atomic():
        checkin_save(user=manager, stress=20)
        thread.start()
        _wait_for_a_blocked_statement()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert isinstance(second[0], CheckIn), second
    checkin = CheckIn.objects.get(user=manager)
    assert checkin.stress == 30 and checkin.date == today_for(manager)
    assert SalesHealthMetric.objects.get(user=manager).stress_level == 30


@pytest.mark.parametrize("first", ["close", "withdrawal"])
def test_closing_a_won_deal_while_its_owner_withdraws_neither_deadlocks_nor_keeps_the_score(
    world, rep, monkeypatch, first
):
    """Whichever of the two takes its locks first, the other waits for it, both finish, and
    once the withdrawal has committed the deal holds no wellness score.

    With the old locks this deadlocked when the close went first: `deal_close` locked the
    deal and then the owner's consent row, and `consent_revoke` locked the owner's user row
    with a plain `FOR UPDATE`, then waited to delete that consent row. The close went on to
    write rows that refer to the owner (the deal's `wellness_score_user`, the revenue entry's
    `owner`, the `sales_health_metrics` row), and each foreign-key check takes `FOR KEY SHARE`
    on the user row, which a plain `FOR UPDATE` blocks: each transaction waited for the other.
    Now the close locks the owner's user row first, and both take it `FOR NO KEY UPDATE`,
    which lets foreign-key checks through.
    """
    pk = world.deal.pk
    if first == "close":
        reached, release = paused_at(monkeypatch, deal_closing, "wellness_score_on")
    else:
        reached, release = paused_at(monkeypatch, consent, "consent_withdrawal_handlers")
    calls = {
        "close": lambda: deal_close(actor=rep, deal=Deal.objects.get(pk=pk), won=True),
        "withdrawal": lambda: consent_revoke(user=rep, scope=ConsentScope.DEAL_WELLNESS),
    }
    second = "withdrawal" if first == "close" else "close"
    _, join_first = started(calls[first])
    assert reached.wait(timeout=30)
    second_thread, join_second = started(calls[second])
    blocked_or_done(second_thread)
    release.set()
    outcomes = {first: join_first(), second: join_second()}
    assert isinstance(outcomes["close"], Deal), outcomes
    assert outcomes["withdrawal"] is True, outcomes
    deal = Deal.objects.get(pk=pk)
    assert deal.status == DealStatus.WON
    assert (deal.wellness_score_at_deal, deal.wellness_score_user) == (None, None)
    assert RevenueEntry.objects.filter(deal=deal).count() == 1
    assert not Consent.objects.filter(user=rep, scope=ConsentScope.DEAL_WELLNESS).exists()


@pytest.mark.parametrize("first", ["rollup", "withdrawal"])
def test_a_rollup_during_a_withdrawal_of_team_insights_leaves_no_row_of_the_person(
    world, rep, monkeypatch, first
):
    """The rollup read the consent, the withdrawal erased the person's rows and committed, then
    the rollup wrote their row back. Now the rollup locks the people's user rows before it
    reads their consent, as the withdrawal does: whichever goes second waits for the first."""
    if first == "rollup":
        reached, release = paused_at(monkeypatch, health_services, "ActivityIndex")
    else:
        reached, release = paused_at(monkeypatch, consent, "consent_withdrawal_handlers")
    calls = {
        "rollup": lambda: rollup_day(today_for(rep)),
        "withdrawal": lambda: consent_revoke(user=rep, scope=ConsentScope.TEAM_INSIGHTS),
    }
    second = "withdrawal" if first == "rollup" else "rollup"
    _, join_first = started(calls[first])
    assert reached.wait(timeout=30)
    second_thread, join_second = started(calls[second])
    blocked_or_done(second_thread)
    release.set()
    outcomes = {first: join_first(), second: join_second()}
    assert outcomes["withdrawal"] is True, outcomes
    assert not isinstance(outcomes["rollup"], Exception), outcomes
    assert not SalesHealthMetric.objects.filter(user=rep).exists()
