"""Demo data of the core: one team, its people and a staff admin. Idempotent."""

from collections.abc import Callable

from django.conf import settings
from django.db import transaction

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
    team, _ = Team.objects.get_or_create(name=DEMO_TEAM)
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


def seed(*, options: dict, log: Callable[[str], None]) -> None:
    _team, users, created = seed_core()
    log(f"Demo team {DEMO_TEAM!r}: {created} new user(s), {len(users)} in all.")
