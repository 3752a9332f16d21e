"""The pipeline board at two sizes: a pipeline of ~1,000 and one of ~100,000 open deals (made
once in a team of their own, then reused, so the demo team's figures stay as they were). Each
size is measured as a person meets it: the board, the board in the other order, a column's
next page (the htmx request a scroll sends) and the board filtered by owner and text. The
server time should be the same at both sizes."""

import datetime
import random
import re
from collections.abc import Callable

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from coop.models import Membership, Role, Team, User
from crm.models import Contact, Deal, Organization, Pipeline
from crm.pipeline_settings import pipeline_create

from .pages import client_for, getter

BOARD_TEAM = "Benchmark board"
BOARD_USER = "board_bench"
SIZES = (1_000, 100_000)
PEOPLE = 5  # the deals' owners: the benchmark user and four colleagues
CONTACTS = 2_000


def _pipeline_name(deals: int) -> str:
    return f"Board of {deals:,} deals"


@transaction.atomic
def _board_team() -> tuple[Team, list[User], list[Contact]]:
    team, _ = Team.objects.get_or_create(name=BOARD_TEAM)
    people = []
    for i in range(PEOPLE):
        username = BOARD_USER if i == 0 else f"{BOARD_USER}_{i}"
        user, created = User.objects.get_or_create(
            username=username, defaults={"display_name": f"Board person {i}"}
        )
        if created:
            user.set_unusable_password()
            user.save()
        role = Role.MANAGER if i == 0 else Role.REP
        Membership.objects.get_or_create(user=user, team=team, defaults={"role": role})
        people.append(user)
    if not Contact.objects.filter(team=team).exists():
        organizations = Organization.objects.bulk_create(
            Organization(team=team, name=f"Board cooperative {i}") for i in range(200)
        )
        Contact.objects.bulk_create(
            (
                Contact(
                    team=team,
                    owner=people[i % PEOPLE],
                    name=f"Board contact {i}",
                    organization=organizations[i % len(organizations)],
                )
                for i in range(CONTACTS)
            ),
            batch_size=2_000,
        )
    return team, people, list(Contact.objects.filter(team=team).order_by("name"))


def board_pipeline(deals: int) -> Pipeline:
    """The benchmark pipeline of `deals` open deals over its four open stages: close dates
    over the next year (one in twenty without), values from 100 to 100,000 euros."""
    team, people, contacts = _board_team()
    name = _pipeline_name(deals)
    pipeline = Pipeline.objects.filter(team=team, name=name).first()
    if pipeline is not None:
        return pipeline
    pipeline = pipeline_create(actor=people[0], team=team, name=name, currency="EUR")
    stages = list(pipeline.stages.filter(is_won=False, is_lost=False).order_by("position"))
    rng = random.Random(f"board-bench:{deals}")  # noqa: S311 (benchmark data)
    today = timezone.localdate()
    Deal.objects.bulk_create(
        (
            Deal(
                pipeline=pipeline,
                stage=stages[i % len(stages)],
                contact=contacts[i % len(contacts)],
                owner=people[i % PEOPLE],
                title=f"Board deal {i}",
                value_cents=rng.randrange(10_000, 10_000_000),
                currency="EUR",
                expected_close_date=None
                if i % 20 == 0
                else today + datetime.timedelta(days=rng.randrange(365)),
            )
            for i in range(deals)
        ),
        batch_size=5_000,
    )
    with connection.cursor() as cursor:  # the planner's statistics, as autovacuum would
        cursor.execute("ANALYZE crm_deals")
    return pipeline


def board_work() -> list[tuple[str, Callable[[], None]]]:
    """(row name, one request) of the board at each size."""
    rows = []
    for size in SIZES:
        pipeline = board_pipeline(size)
        client = client_for(BOARD_USER)
        board = reverse("crm:pipeline_board", args=[pipeline.pk])
        first = client.get(board).text
        more = re.findall(r'<li class="more-cards" hx-get="([^"]+)"', first)[0]
        owner = User.objects.get(username=f"{BOARD_USER}_1")
        deals = f"{pipeline.deals.count():,} deals"
        rows += [
            (f"board ({deals})", getter(client, board)),
            (f"board by value ({deals})", getter(client, board, {"sort": "value"})),
            (
                f"board, a column's next page ({deals}, htmx)",
                getter(client, more.replace("&amp;", "&"), headers={"HX-Request": "true"}),
            ),
            (
                f"board filtered by owner and text ({deals})",
                getter(client, board, {"owner": owner.pk, "q": "cooperative 1"}),
            ),
        ]
    return rows
