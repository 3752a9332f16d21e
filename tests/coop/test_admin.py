from types import SimpleNamespace

import pytest
from django.contrib import admin

from coop.models import Membership, Role, Team, User
from tests.coop.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [User, Team, Membership])
def test_core_models_are_in_the_admin_with_search_and_filters(model):
    model_admin = admin.site._registry[model]
    assert model_admin.search_fields
    if model is not Team:
        assert model_admin.list_filter


@pytest.fixture
def coop_rows(team, other_team):
    """A user, inactive and not staff, managing North, whom the searches and filters below
    match; and a staff superuser, a rep in South, whom none does."""
    sunny = MembershipFactory(
        team=team, role=Role.MANAGER, user__username="sunny", user__is_active=False
    )
    windy = MembershipFactory(
        team=other_team,
        role=Role.REP,
        user__username="windy",
        user__is_staff=True,
        user__is_superuser=True,
    )
    return SimpleNamespace(team=team, memberships=(sunny, windy))


def _cases(rows) -> dict:
    """Per model: (query parameters, the rows the changelist must show) for its search and
    each of its list filters."""
    membership = rows.memberships[0]
    user = membership.user
    return {
        User: [
            ({"q": "sunny"}, [user]),
            ({"is_staff__exact": "0"}, [user]),
            ({"is_superuser__exact": "0"}, [user]),
            ({"is_active__exact": "0"}, [user]),
            ({"memberships__role__exact": "manager"}, [user]),
            ({"teams__id__exact": rows.team.pk}, [user]),
        ],
        Team: [({"q": "north"}, [rows.team])],
        Membership: [
            ({"q": "sunny"}, [membership]),
            ({"role__exact": "manager"}, [membership]),
            ({"team__id__exact": rows.team.pk}, [membership]),
        ],
    }


@pytest.mark.parametrize("model", [User, Team, Membership])
def test_core_changelists_show_only_what_the_search_and_each_filter_match(
    admin_list, coop_rows, model
):
    admin_list(model, _cases(coop_rows)[model])


def test_admin_user_changelist_filters_by_role(client, staff_user, rep, manager):
    client.force_login(staff_user)
    response = client.get("/admin/coop/user/", {"memberships__role": "manager"})
    assert response.status_code == 200
    usernames = [user.username for user in response.context["cl"].result_list]
    assert usernames == ["manager"]
