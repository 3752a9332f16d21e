"""The daily rollup of sales_health_metrics: consent-gated, idempotent, constant queries."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from coop.consent import consent_revoke
from coop.models import ConsentScope, User
from crm.models import DealStatus
from health.models import SalesHealthMetric
from health.services import rollup_day, rollup_range, today_for
from health.tasks import rollup_sales_health
from tests.coop.factories import UserFactory
from tests.crm.factories import ContactFactory, DealFactory, InteractionFactory, PipelineFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 20)


def at(day: datetime.date, hour: int, user: User) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=user.zone)


def activity(user, team, day, *, interactions=0, won=0, lost=0):
    contact = ContactFactory(team=team, owner=user)
    for _ in range(interactions):
        InteractionFactory(contact=contact, author=user, timestamp=at(day, 10, user))
    pipeline = PipelineFactory(team=team)
    for status, count in ((DealStatus.WON, won), (DealStatus.LOST, lost)):
        for _ in range(count):
            DealFactory(pipeline=pipeline, owner=user, status=status, closed_at=at(day, 15, user))


def rows():
    return sorted(
        SalesHealthMetric.objects.values_list(
            "user__username",
            "date",
            "stress_level",
            "interaction_count",
            "deal_velocity",
            "conversion_rate",
        )
    )


def test_rollup_writes_real_figures_for_consenting_members_only(
    rep, manager, team, allow, check_in
):
    allow(rep, ConsentScope.TEAM_INSIGHTS)
    check_in(rep, day=DAY, stress=55)
    check_in(manager, day=DAY, stress=90)  # no consent: never in the table
    activity(rep, team, DAY, interactions=2, won=1, lost=2)
    activity(rep, team, DAY - datetime.timedelta(days=27), won=1)  # inside the 28-day window
    activity(rep, team, DAY - datetime.timedelta(days=28), won=5, interactions=4)  # outside
    result = rollup_day(DAY)
    assert result.written == 1
    assert rows() == [("rep", DAY, 55, 2, 4 / 4, 2 / 4)]


def test_a_member_without_a_check_in_gets_no_row(rep, team, allow):
    allow(rep, ConsentScope.TEAM_INSIGHTS)
    activity(rep, team, DAY, interactions=3)
    assert rollup_day(DAY).written == 0
    assert not SalesHealthMetric.objects.exists()


def test_rollup_is_idempotent(rep, team, allow, check_in):
    allow(rep, ConsentScope.TEAM_INSIGHTS)
    for offset in range(3):
        check_in(rep, day=DAY - datetime.timedelta(days=offset), stress=10 * offset)
    activity(rep, team, DAY, interactions=1, won=1)
    rollup_range(start=DAY - datetime.timedelta(days=2), end=DAY)
    first = rows()
    rollup_range(start=DAY - datetime.timedelta(days=2), end=DAY)
    rollup_day(DAY)
    assert rows() == first
    assert len(first) == 3


def test_rollup_follows_changes_in_crm_activity(rep, team, allow, check_in):
    allow(rep, ConsentScope.TEAM_INSIGHTS)
    check_in(rep, day=DAY, stress=10)
    rollup_day(DAY)
    activity(rep, team, DAY, interactions=4)
    rollup_day(DAY)
    assert SalesHealthMetric.objects.get().interaction_count == 4


def test_rollup_removes_rows_of_people_who_do_not_consent(rep, allow, check_in):
    check_in(rep, day=DAY, stress=10)
    SalesHealthMetric.objects.create(
        user=rep,
        date=DAY,
        stress_level=10,
        interaction_count=0,
        deal_velocity=0,
        conversion_rate=0,
    )
    assert rollup_day(DAY).removed == 1
    assert not SalesHealthMetric.objects.exists()


def test_revoking_team_insights_erases_every_row_at_once(rep, allow, check_in):
    allow(rep, ConsentScope.TEAM_INSIGHTS)
    for offset in range(5):
        check_in(rep, day=DAY - datetime.timedelta(days=offset))
    rollup_range(start=DAY - datetime.timedelta(days=4), end=DAY)
    assert SalesHealthMetric.objects.count() == 5
    consent_revoke(user=rep, scope=ConsentScope.TEAM_INSIGHTS)
    assert not SalesHealthMetric.objects.exists()
    rollup_range(start=DAY - datetime.timedelta(days=4), end=DAY)
    assert not SalesHealthMetric.objects.exists()


def test_granting_team_insights_fills_in_nothing_from_before(rep, allow, check_in):
    today = today_for(rep)
    check_in(rep, day=today - datetime.timedelta(days=10), stress=40)
    allow(rep, ConsentScope.TEAM_INSIGHTS)
    assert not SalesHealthMetric.objects.exists()


def _members_with_activity(team, count, prefix, allow, check_in, days):
    from tests.coop.factories import MembershipFactory

    for i in range(count):
        user = MembershipFactory(team=team, user__username=f"{prefix}{i}").user
        allow(user, ConsentScope.TEAM_INSIGHTS)
        for offset in range(days):
            day = DAY - datetime.timedelta(days=offset)
            check_in(user, day=day, stress=20 + i)
            activity(user, team, day, interactions=1, won=1)


def test_queries_do_not_grow_with_people_or_days(team, allow, check_in, django_assert_num_queries):
    _members_with_activity(team, 2, "few", allow, check_in, days=2)
    # lock members, read their consent, interactions, deals, check-ins, delete stale, upsert;
    # plus the savepoint pair.
    with django_assert_num_queries(9) as few:
        rollup_range(start=DAY - datetime.timedelta(days=1), end=DAY)
    _members_with_activity(team, 6, "many", allow, check_in, days=5)
    with django_assert_num_queries(len(few.captured_queries)):
        result = rollup_range(start=DAY - datetime.timedelta(days=4), end=DAY)
    assert result.written == 2 * 2 + 6 * 5


def test_the_plans_check_and_composite_key_hold_in_the_database(rep):
    def insert(stress, day=DAY):
        with transaction.atomic():
            SalesHealthMetric.objects.create(
                user=rep,
                date=day,
                stress_level=stress,
                interaction_count=0,
                deal_velocity=0,
                conversion_rate=0,
            )

    with pytest.raises(IntegrityError):
        insert(101)
    with pytest.raises(IntegrityError):
        insert(-1)
    insert(100)
    with pytest.raises(IntegrityError):
        insert(50)  # same (user_id, date)
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "sales_health_metrics")
    assert {"idx_sales_health_metrics_user", "idx_sales_health_metrics_date"} <= set(constraints)
    (primary,) = [c["columns"] for c in constraints.values() if c["primary_key"]]
    # SQLite's introspection sorts the columns; PostgreSQL keeps the declared order.
    expected = ["user_id", "date"] if connection.vendor == "postgresql" else ["date", "user_id"]
    assert primary == expected


def test_deleting_a_user_cascades_in_the_database(check_in):
    rep = UserFactory()
    check_in(rep, day=DAY)
    SalesHealthMetric.objects.create(
        user=rep,
        date=DAY,
        stress_level=1,
        interaction_count=0,
        deal_velocity=0,
        conversion_rate=0,
    )
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(
            "DELETE FROM users WHERE id = %s",
            [rep.pk.hex if connection.vendor == "sqlite" else rep.pk],
        )
    assert not SalesHealthMetric.objects.exists()


def test_command_rolls_up_a_date_and_reports(rep, allow, check_in):
    allow(rep, ConsentScope.TEAM_INSIGHTS)
    check_in(rep, day=DAY, stress=10)
    SalesHealthMetric.objects.all().delete()
    out = StringIO()
    call_command("rollup_sales_health", "--date", DAY.isoformat(), stdout=out)
    assert "1 row(s) written" in out.getvalue()
    assert "0 team week(s) published" in out.getvalue()
    assert SalesHealthMetric.objects.count() == 1


def test_command_since_covers_every_day_up_to_today(rep, allow, check_in):
    allow(rep, ConsentScope.TEAM_INSIGHTS)
    today = timezone.localdate()
    for offset in range(3):
        check_in(rep, day=today - datetime.timedelta(days=offset))
    SalesHealthMetric.objects.all().delete()
    since = (today - datetime.timedelta(days=2)).isoformat()
    call_command("rollup_sales_health", "--since", since, stdout=StringIO())
    assert SalesHealthMetric.objects.count() == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date", "20-11-2026"], "is not a date"),
        (["--date", "2999-01-01"], "is in the future"),
        (["--since", "2999-01-01"], "is in the future"),
        (["--since", "2020-01-01"], "At most"),
    ],
)
def test_command_refuses_bad_dates_clearly(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("rollup_sales_health", *args, stdout=StringIO())


def test_command_refuses_date_and_since_together():
    with pytest.raises(CommandError):
        call_command("rollup_sales_health", "--date", "2026-11-01", "--since", "2026-11-01")


def test_the_task_runs_the_rollup(rep, allow, check_in):
    allow(rep, ConsentScope.TEAM_INSIGHTS)
    check_in(rep, day=DAY, stress=10)
    SalesHealthMetric.objects.all().delete()
    result = rollup_sales_health.enqueue(DAY.isoformat())
    assert result.return_value == {"written": 1, "removed": 0, "published": 0}
    assert SalesHealthMetric.objects.count() == 1
