"""Demo data of the health module: a year of check-ins, some people consenting, some not.

Idempotent: existing users, consents and check-ins are kept; only what is missing is added.
Enough demo reps take part in team insights (5 or more) for the demo team's insights to show:
their team-insights consents count as given `DAYS` days ago (the consent log keeps the real
moment the demo granted them), since the insights use no day before a consent.
"""

import random
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from coop.consent import consent_grant
from coop.demo import DEMO_TEAM, benchmark_scale
from coop.models import Consent, ConsentScope, Role, User
from coop.services import member_add
from health.models import CheckIn
from health.services import insights_publish, rollup_range, today_for

DAYS = 365

# The extra demo reps of the health module: username, display name, time zone.
EXTRA_REPS = [
    ("tomas", "Tomas Rep", "Europe/Lisbon"),
    ("uma", "Uma Rep", "Europe/Rome"),
    ("victor", "Victor Rep", "Europe/Warsaw"),
    ("wen", "Wen Rep", "Asia/Singapore"),
]

# Who allows what (everyone else, e.g. maria and wen, allows nothing): both kinds shown.
CONSENTS = {
    "rafael": [ConsentScope.DEAL_WELLNESS, ConsentScope.TEAM_INSIGHTS],
    "sana": [ConsentScope.TEAM_INSIGHTS, ConsentScope.PERSONAL_RECOMMENDATIONS],
    "tomas": [ConsentScope.TEAM_INSIGHTS],
    "uma": [ConsentScope.TEAM_INSIGHTS, ConsentScope.DEAL_WELLNESS],
    "victor": [ConsentScope.TEAM_INSIGHTS],
}

# People who check in, with their usual stress level.
BASELINE_STRESS = {
    "maria": 45,
    "rafael": 35,
    "sana": 55,
    "tomas": 40,
    "uma": 30,
    "victor": 60,
    "wen": 50,
}


def _reps() -> int:
    created = 0
    for username, display_name, time_zone in EXTRA_REPS:
        if User.objects.filter(username=username).exists():
            continue
        membership = member_add(
            username=username,
            team_name=DEMO_TEAM,
            role=Role.REP,
            password=settings.DEMO_PASSWORD,
            email=f"{username}@demo.coop.example",
            display_name=display_name,
            validate_password_strength=False,
        )
        User.objects.filter(pk=membership.user_id).update(time_zone=time_zone)
        created += 1
    return created


def _checkins(user: User, baseline: int, rng: random.Random) -> list[CheckIn]:
    today = today_for(user)
    rows = []
    for offset in range(DAYS):
        day = today - timedelta(days=offset)
        if day.weekday() >= 5 and rng.random() < 0.7:
            continue  # most people skip weekends
        crunch = 20 if day.month in (3, 6, 9, 12) and day.day > 20 else 0  # quarter ends
        stress = round(min(100, max(0, rng.gauss(baseline + crunch, 12))))
        sleep = Decimal(str(round(min(10, max(4, rng.gauss(7.2 - crunch / 20, 0.9))) * 2) / 2))
        rows.append(
            CheckIn(
                user=user,
                date=day,
                stress=stress,
                sleep_hours=sleep if rng.random() < 0.8 else None,
                energy=min(5, max(1, round(rng.gauss(4 - stress / 40, 0.8))))
                if rng.random() < 0.7
                else None,
            )
        )
    return rows


@transaction.atomic
def seed_reps(*, options: dict, log: Callable[[str], None]) -> None:
    """The extra demo reps, before the CRM demo data so that they own deals and log calls."""
    log(gettext("Health: %(count)d new demo rep(s).") % {"count": _reps()})


def _scale_people() -> tuple[dict[str, int], dict[str, list[str]]]:
    """`seed_demo --scale large`: every team member checks in (a stress baseline from 30 to
    60) and allows team insights, apart from those the small demo keeps without consent."""
    baselines, consents = dict(BASELINE_STRESS), dict(CONSENTS)
    others = User.objects.filter(memberships__isnull=False).exclude(username__in=baselines)
    for index, username in enumerate(
        others.order_by("username").values_list("username", flat=True)
    ):
        baselines[username] = 30 + index * 7 % 31
        consents[username] = [ConsentScope.TEAM_INSIGHTS]
    return baselines, consents


@transaction.atomic
def seed(*, options: dict, log: Callable[[str], None]) -> None:
    created_users = _reps()
    baselines, consents = (
        _scale_people() if benchmark_scale(options) else (BASELINE_STRESS, CONSENTS)
    )
    people = {user.username: user for user in User.objects.filter(username__in=baselines)}
    before = CheckIn.objects.count()
    for username, baseline in baselines.items():
        if username in people:
            rng = random.Random(f"{options.get('seed', 2026)}:{username}")  # noqa: S311 (demo data)
            CheckIn.objects.bulk_create(
                _checkins(people[username], baseline, rng), ignore_conflicts=True
            )
    granted = sum(
        consent_grant(user=people[username], scope=scope, method="demo data")
        for username, scopes in consents.items()
        if username in people
        for scope in scopes
    )
    Consent.objects.filter(
        user__username__in=[
            name for name, scopes in consents.items() if ConsentScope.TEAM_INSIGHTS in scopes
        ],
        scope=ConsentScope.TEAM_INSIGHTS,
    ).update(granted_at=timezone.now() - timedelta(days=DAYS))
    today = max(today_for(user) for user in people.values())
    rollup = rollup_range(start=today - timedelta(days=DAYS), end=today)
    publication = insights_publish()
    log(
        gettext(
            "Health: %(reps)d new demo rep(s), %(checkins)d new check-in(s), %(consents)d new "
            "consent(s), %(rows)d daily metric row(s) up to date, %(weeks)d team week(s) published."
        )
        % {
            "reps": created_users,
            "checkins": CheckIn.objects.count() - before,
            "consents": granted,
            "rows": rollup.written,
            "weeks": publication.published,
        }
    )
