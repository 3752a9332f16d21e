import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from coop.models import Membership, Role, Team, User

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "correct-horse-battery-staple"


def test_add_member_creates_user_team_and_membership(monkeypatch):
    monkeypatch.setenv("NEW_PASSWORD", GOOD_PASSWORD)
    call_command(
        "add_member",
        "lena",
        team="East",
        role="manager",
        email="lena@example.coop",
        password_env="NEW_PASSWORD",
    )
    user = User.objects.get(username="lena")
    assert user.email == "lena@example.coop"
    assert user.check_password(GOOD_PASSWORD)
    membership = Membership.objects.get(user=user)
    assert (membership.team.name, membership.role) == ("East", Role.MANAGER)


def test_add_member_joins_an_existing_team(monkeypatch, team):
    monkeypatch.setenv("NEW_PASSWORD", GOOD_PASSWORD)
    call_command("add_member", "lena", team=team.name, role="rep", password_env="NEW_PASSWORD")
    assert Team.objects.count() == 1
    assert team.members.filter(username="lena").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"role": "boss"}, "Unknown role boss"),
        ({"email": "not-an-email"}, "valid email"),
        ({"password_env": "MISSING_VAR"}, "MISSING_VAR is not set"),
        ({"password_env": "WEAK_PASSWORD"}, "too short"),
    ],
)
def test_add_member_with_bad_input_exits_non_zero_and_creates_nothing(
    monkeypatch, arguments, message
):
    monkeypatch.setenv("NEW_PASSWORD", GOOD_PASSWORD)
    monkeypatch.setenv("WEAK_PASSWORD", "abc")
    options = {"team": "East", "role": "rep", "password_env": "NEW_PASSWORD", **arguments}
    with pytest.raises(CommandError, match=message):
        call_command("add_member", "lena", **options)
    assert not User.objects.exists()
    assert not Team.objects.exists()


def test_add_member_refuses_an_existing_user(monkeypatch, rep):
    monkeypatch.setenv("NEW_PASSWORD", GOOD_PASSWORD)
    with pytest.raises(CommandError, match="already exists"):
        call_command("add_member", "REP", team="East", role="rep", password_env="NEW_PASSWORD")
    assert not Team.objects.filter(name="East").exists()
    assert User.objects.count() == 1


def test_add_member_exit_status_is_non_zero_from_the_shell(capsys):
    from django.core.management import execute_from_command_line

    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(
            [
                "manage.py",
                "add_member",
                "lena",
                "--team",
                "T",
                "--role",
                "x",
                "--password-env",
                "NOPE",
            ]
        )
    assert exit_info.value.code != 0
    assert "NOPE is not set" in capsys.readouterr().err


def test_add_member_prompts_for_the_password_on_a_terminal(monkeypatch):
    from coop.management.commands import add_member

    answers = iter([GOOD_PASSWORD, GOOD_PASSWORD])
    monkeypatch.setattr(add_member.getpass, "getpass", lambda prompt: next(answers))
    monkeypatch.setattr(add_member.Command, "stdin_is_interactive", lambda self: True)
    call_command("add_member", "lena", team="East", role="finance")
    assert User.objects.get(username="lena").check_password(GOOD_PASSWORD)


def test_add_member_refuses_differing_prompted_passwords(monkeypatch):
    from coop.management.commands import add_member

    answers = iter([GOOD_PASSWORD, "something-else-entirely"])
    monkeypatch.setattr(add_member.getpass, "getpass", lambda prompt: next(answers))
    monkeypatch.setattr(add_member.Command, "stdin_is_interactive", lambda self: True)
    with pytest.raises(CommandError, match="differ"):
        call_command("add_member", "lena", team="East", role="finance")
    assert not User.objects.exists()


def test_add_member_without_a_terminal_or_variable_says_what_to_do(monkeypatch):
    from coop.management.commands import add_member

    monkeypatch.setattr(add_member.Command, "stdin_is_interactive", lambda self: False)
    with pytest.raises(CommandError, match="--password-env"):
        call_command("add_member", "lena", team="East", role="rep")


def test_seed_demo_creates_people_in_every_role_and_prints_the_login(capsys, debug_on):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert settings.DEMO_PASSWORD in out
    assert "maria" in out
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == {Role.REP, Role.MANAGER, Role.FINANCE}
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.check_password(settings.DEMO_PASSWORD)


def test_seed_demo_twice_changes_nothing(debug_on):
    call_command("seed_demo")
    before = list(
        User.objects.order_by("username").values_list("username", "password", "last_login")
    )
    memberships = list(Membership.objects.order_by("id").values_list("id", "role"))
    call_command("seed_demo")
    after = list(
        User.objects.order_by("username").values_list("username", "password", "last_login")
    )
    assert after == before
    assert list(Membership.objects.order_by("id").values_list("id", "role")) == memberships


def test_seed_demo_refuses_with_debug_off_and_writes_nothing(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match=r"DEBUG is off.*--force-in-production"):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_seed_demo_with_debug_off_exits_non_zero_on_the_command_line(tmp_path):
    # A database of its own: a refusal that failed would write there, nowhere else.
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 60,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "staff admin whose password is public" in result.stderr
    assert "--force-in-production" in result.stderr


def test_seed_demo_forced_in_production_seeds_with_debug_off(settings):
    settings.DEBUG = False
    call_command(
        "seed_demo", force_in_production=True, contacts=0, deals=0, interactions=0, verbosity=0
    )
    assert User.objects.get(username="admin").check_password(settings.DEMO_PASSWORD)
