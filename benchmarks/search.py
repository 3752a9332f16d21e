"""The one search of the top bar (`crm.search`) at two data sizes, as the top bar asks for it
(an htmx GET of `/search/?q=`): a manager of the demo team, who sees its 20,000 contacts and
150,000 deals (`seed_demo --scale large`), and a rep of a small team made here (2,000
contacts, 15,000 deals in the same tables), so the query count and the time can be compared.

    python -m benchmarks --only-search   # these rows alone; `make bench` includes them
"""

import random
import uuid

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from coop.bulk import copy_insert
from coop.models import Membership, Role, Team, User
from crm.models import Contact, Deal, Pipeline, PipelineStage
from crm.search import search_words_refresh

from .pages import client_for, getter

SMALL_TEAM = "Benchmark: small team for search"
SMALL_USER = "search-bench-rep"
SMALL_CONTACTS, SMALL_DEALS = 2_000, 15_000
NAMESPACE = uuid.UUID("6fe4e0a2-8575-4dec-a000-0000000005ea")
# A broad query (one deal title in eight starts with it), a narrow one (one deal), a contact
# name fragment (many contacts), and a typo (trigram similarity, PostgreSQL).
QUERIES = ("solar", "heat pumps #4242", "ana", "solr rof")
WORDS = ["Solar roof", "Heat pumps", "Bulk order", "Annual supply", "Delivery bikes"]
NAMES = ["Ana", "Ben", "Chloé", "Dmitri", "Elif", "Farah", "Gustav", "Hana"]


def _id(kind: str, n: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{kind}:{n}")


@transaction.atomic
def small_team_user() -> User:
    """The small team's rep, with its records loaded once (idempotent)."""
    team, _ = Team.objects.get_or_create(name=SMALL_TEAM)
    user, _ = User.objects.get_or_create(username=SMALL_USER)
    Membership.objects.get_or_create(team=team, user=user, defaults={"role": Role.REP})
    if Contact.objects.filter(team=team).exists():
        return user
    pipeline, _ = Pipeline.objects.get_or_create(team=team, name="Sales", currency="EUR")
    stage, _ = PipelineStage.objects.get_or_create(pipeline=pipeline, name="Lead", probability=10)
    rng = random.Random("search-bench")  # noqa: S311 (benchmark data)
    now = timezone.now()
    copy_insert(
        Contact,
        (
            Contact(
                id=_id("contact", n),
                team=team,
                owner=user,
                name=f"{rng.choice(NAMES)} Small{n}",
                email=f"small{n}@bench.example",
                created_at=now,
                updated_at=now,
                timeline_version=uuid.uuid4(),
            )
            for n in range(SMALL_CONTACTS)
        ),
    )
    copy_insert(
        Deal,
        (
            Deal(
                id=_id("deal", n),
                pipeline=pipeline,
                stage=stage,
                owner=user,
                title=f"{rng.choice(WORDS)} #{n + 1}",
                value_cents=100_000,
                currency="EUR",
                stage_entered_at=now,
                created_at=now,
                updated_at=now,
            )
            for n in range(SMALL_DEALS)
        ),
    )
    search_words_refresh()  # COPY sends no signals
    return user


def search_work() -> list[tuple[str, object]]:
    """(row name, one request) for each query at both sizes."""
    small = small_team_user()
    manager = User.objects.get(username="maria")
    sizes = []
    for user in (manager, small):
        contacts = Contact.objects.visible_to(user).count()
        deals = Deal.objects.visible_to(user).count()
        sizes.append((client_for(user.username), f"{contacts:,} contacts, {deals:,} deals"))
    url = reverse("crm:search")
    return [
        (f"search q={query!r} ({size})", getter(client, url, {"q": query}, {"HX-Request": "true"}))
        for query in QUERIES
        for client, size in sizes
    ]
