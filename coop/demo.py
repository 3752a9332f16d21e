"""Demo data of the core: one team, its people and a staff admin. Idempotent."""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.translation import ngettext

from coop.models import Membership, Role, Team, User

DEMO_TEAM = "Demo Co-op Sales"

# username, display name, role (None: staff admin without a team), time zone
DEMO_PEOPLE = [
    ("admin", "Ada Admin", None, "Europe/London"),
    ("maria", "Maria Manager", Role.MANAGER, "Europe/Paris"),
    ("rafael", "Rafael Rep", Role.REP, "Europe/Madrid"),
    ("sana", "Sana Rep", Role.REP, "America/New_York"),
    ("fiona", "Fiona Finance", Role.FINANCE, "Europe/Berlin"),
]


@transaction.atomic
def seed_core() -> tuple[Team, list[User], int]:
    """Create the demo team and users that are missing; return them and how many were new."""
    team, _created = Team.objects.get_or_create(name=DEMO_TEAM)
    users, created = [], 0
    for username, display_name, role, time_zone in DEMO_PEOPLE:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                display_name=display_name,
                email=f"{username}@demo.coop.example",
                time_zone=time_zone,
                is_staff=role is None,
                is_superuser=role is None,
            )
            user.set_password(settings.DEMO_PASSWORD)
            user.save()
            created += 1
        if role is not None:
            Membership.objects.get_or_create(user=user, team=team, defaults={"role": role})
        users.append(user)
    return team, users, created


# The scales of `seed_demo` that load the benchmark data: "xlarge" is "large" with ten times
# the open deals (the forecast's scale test); every other module seeds both alike.
BENCHMARK_SCALES = ("large", "xlarge")


def benchmark_scale(options: dict) -> bool:
    """Whether `seed_demo` was asked for a benchmark scale (large or xlarge)."""
    return options.get("scale") in BENCHMARK_SCALES


def seed(*, options: dict, log: Callable[[str], None]) -> None:
    _team, users, created = seed_core()
    log(
        ngettext(
            "Demo team “%(team)s”: %(new)d new user, %(all)d in all.",
            "Demo team “%(team)s”: %(new)d new users, %(all)d in all.",
            created,
        )
        % {"team": DEMO_TEAM, "new": created, "all": len(users)}
    )
    if benchmark_scale(options):
        added = seed_scale_people()
        log(
            ngettext(
                "Large scale: %(new)d new user in %(teams)d teams.",
                "Large scale: %(new)d new users in %(teams)d teams.",
                added,
            )
            % {"new": added, "teams": SCALE_TEAMS}
        )


# `seed_demo --scale large`: the demo team grows to ten people (with the health module's
# reps) and nine more teams of four or five share the rest of the fifty users.
SCALE_TEAMS = 10
SCALE_USERS = 50
SCALE_DEMO_TEAM_EXTRA = [("xavi", "Xavi Rep", Role.REP), ("yara", "Yara Rep", Role.REP)]
SCALE_ZONES = ["Europe/Paris", "Europe/London", "America/New_York", "Asia/Tokyo", "UTC"]


def _scale_people() -> list[tuple[str, str, str, str]]:
    """(team, username, display name, role) of every user the large scale adds."""
    people = [(DEMO_TEAM, username, name, role) for username, name, role in SCALE_DEMO_TEAM_EXTRA]
    others = SCALE_USERS - len(DEMO_PEOPLE) - 4 - len(people)  # 4: the health module's reps
    for index in range(others):
        team = f"Scale Co-op {index % (SCALE_TEAMS - 1) + 1:02d}"
        role = Role.MANAGER if index < SCALE_TEAMS - 1 else Role.REP
        people.append((team, f"member{index + 1:02d}", f"Member {index + 1:02d}", role))
    return people


@transaction.atomic
def seed_scale_people() -> int:
    """Add the teams and users of the large scale that are missing (one password hash for
    all, bulk inserts); return how many users were new."""
    wanted = _scale_people()
    existing = set(
        User.objects.filter(username__in=[p[1] for p in wanted]).values_list("username", flat=True)
    )
    missing = [p for p in wanted if p[1] not in existing]
    if not missing:
        return 0
    teams = {}
    for name in sorted({p[0] for p in missing}):
        teams[name], _created = Team.objects.get_or_create(name=name)
    hashed = make_password(settings.DEMO_PASSWORD)
    users = User.objects.bulk_create(
        User(
            username=username,
            display_name=display_name,
            email=f"{username}@demo.coop.example",
            time_zone=SCALE_ZONES[index % len(SCALE_ZONES)],
            password=hashed,
        )
        for index, (_team, username, display_name, _role) in enumerate(missing)
    )
    Membership.objects.bulk_create(
        Membership(user=user, team=teams[team], role=role)
        for user, (team, _username, _name, role) in zip(users, missing, strict=True)
    )
    return len(users)
