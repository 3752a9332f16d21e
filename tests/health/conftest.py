import pytest

from coop.consent import consent_grant
from coop.models import ConsentScope, Role
from health.services import today_for
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
def insights_group(team_of, allow, rep):
    """`rep` and four more members of the team, all taking part in team insights."""
    others = team_of(4)
    for user in [rep, *others]:
        allow(user, ConsentScope.TEAM_INSIGHTS)
    return [rep, *others]
