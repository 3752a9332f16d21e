import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection

from coop.models import Membership, Role, User
from coop.visibility import member_team_ids, team_ids_with_roles, visible_users
from tests.coop.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_users_live_in_the_users_table_with_uuid_keys(rep):
    assert User._meta.db_table == "users"
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM users WHERE username = %s", ["rep"])
        (raw_id,) = cursor.fetchone()
    assert str(raw_id).replace("-", "") == rep.pk.hex


def test_time_zone_must_be_an_iana_name():
    user = UserFactory.build(time_zone="Mars/Olympus_Mons")
    with pytest.raises(ValidationError, match="not a known time zone"):
        user.full_clean()
    user.time_zone = "America/Sao_Paulo"
    user.full_clean()
    assert user.zone.key == "America/Sao_Paulo"


def test_a_user_has_one_membership_per_team(rep, team):
    with pytest.raises(IntegrityError):
        Membership.objects.create(user=rep, team=team, role=Role.MANAGER)


def test_the_database_refuses_an_unknown_role(rep, other_team):
    with pytest.raises(IntegrityError):
        Membership.objects.create(user=rep, team=other_team, role="emperor")


def test_str_prefers_the_display_name():
    assert str(UserFactory.build(display_name="Ana Lima", username="ana")) == "Ana Lima"
    assert str(UserFactory.build(display_name="", username="ana")) == "ana"


def test_team_selectors(rep, manager, team, other_team):
    MembershipFactory(user=manager, team=other_team, role=Role.REP)
    assert {row["team_id"] for row in member_team_ids(manager)} == {team.pk, other_team.pk}
    assert [row["team_id"] for row in team_ids_with_roles(manager, [Role.MANAGER])] == [team.pk]
    assert not team_ids_with_roles(rep, [Role.MANAGER]).exists()


def test_visible_users_by_role(rep, manager, finance_user, outsider, staff_user):
    assert set(visible_users(rep)) == {rep}
    assert set(visible_users(finance_user)) == {finance_user}
    assert set(visible_users(manager)) == {rep, manager, finance_user}
    assert set(visible_users(staff_user)) == {rep, manager, finance_user, outsider, staff_user}


def test_visible_users_leaves_out_deactivated_people(rep, manager):
    rep.is_active = False
    rep.save()
    assert set(visible_users(manager)) == {manager}


def test_manager_of_two_teams_sees_both(manager, outsider, other_team):
    MembershipFactory(user=manager, team=other_team, role=Role.MANAGER)
    assert outsider in set(visible_users(manager))
    assert TeamFactory(name="West") not in manager.teams.all()
