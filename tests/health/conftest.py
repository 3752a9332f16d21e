import datetime

import pytest
from django.utils import timezone

from coop.consent import consent_grant
from coop.models import Consent, ConsentScope, Role
from health.services import ended_weeks, today_for, utc_today
from tests.coop.factories import MembershipFactory
from tests.crm.conftest import contact, deal, pipeline, stages  # noqa: F401
from tests.health.factories import CheckInFactory


@pytest.fixture
def allow():
    """Grant a scope for a user: allow(user, ConsentScope.X)."""

    def grant(user, *scopes):
        for scope in scopes:
            consent_grant(user=user, scope=scope)
        return user

    return grant


@pytest.fixture
def check_in():
    """A check-in of `user` on their local today (or `day`)."""

    def make(user, day=None, **values):
        return CheckInFactory(user=user, date=day or today_for(user), **values)

    return make


@pytest.fixture
def team_of(team):
    """`team_of(n)`: n more reps in the `team` fixture's team."""

    def make(count, prefix="member"):
        return [
            MembershipFactory(team=team, role=Role.REP, user__username=f"{prefix}{i}").user
            for i in range(count)
        ]

    return make


@pytest.fixture
def took_part_since():
    """`took_part_since(user, days)`: the user's team-insights consent dates from `days` ago
    (the insights count no day before it)."""

    def backdate(user, days):
        Consent.objects.filter(user=user, scope=ConsentScope.TEAM_INSIGHTS).update(
            granted_at=timezone.now() - datetime.timedelta(days=days)
        )
        return user

    return backdate


@pytest.fixture
def insights_group(team_of, allow, took_part_since, rep):
    """`rep` and four more members of the team, taking part in team insights for 120 days."""
    others = team_of(4)
    for user in [rep, *others]:
        allow(user, ConsentScope.TEAM_INSIGHTS)
        took_part_since(user, 120)
    return [rep, *others]


@pytest.fixture
def weeks():
    """The Mondays of the weeks the insights cover, newest first (`weeks[0]` has ended)."""
    return ended_weeks(utc_today())
