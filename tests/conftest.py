"""Fixtures shared by every test module: people in teams with each role."""

import pytest

from coop.models import Role
from tests.coop.factories import MembershipFactory, TeamFactory, UserFactory


@pytest.fixture
def debug_on(settings):
    """DEBUG on, as `make run` has it: `seed_demo` refuses to write demo users without it."""
    settings.DEBUG = True


@pytest.fixture
def team():
    return TeamFactory(name="North")


@pytest.fixture
def other_team():
    return TeamFactory(name="South")


@pytest.fixture
def rep(team):
    return MembershipFactory(team=team, role=Role.REP, user__username="rep").user


@pytest.fixture
def manager(team):
    return MembershipFactory(team=team, role=Role.MANAGER, user__username="manager").user


@pytest.fixture
def finance_user(team):
    return MembershipFactory(team=team, role=Role.FINANCE, user__username="finance").user


@pytest.fixture
def staff_user():
    return UserFactory(username="staff", is_staff=True, is_superuser=True)


@pytest.fixture
def outsider(other_team):
    return MembershipFactory(team=other_team, role=Role.REP, user__username="outsider").user


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client
