"""Demo CRM data: organizations, contacts, two pipelines, deals and a long timeline.

Deterministic: the same `--seed` and sizes give the same rows, with ids derived from each
row's index (uuid5), so a re-run inserts nothing (`ON CONFLICT DO NOTHING`) and a bigger run
adds only the missing rows. Rows go in with `bulk_create` in batches, each batch committed on
its own, so an interrupted run resumes where it stopped. Sizes scale to 10,000 contacts,
100,000 deals and 1,000,000 interactions.
"""

import datetime
import hashlib
import random
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import islice

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from coop.bulk import copy_insert
from coop.demo import DEMO_TEAM, benchmark_scale
from coop.models import Role, Team, User
from coop.page_cache import pages_changed
from crm.activity import deal_activity_refresh
from crm.activity_totals import activity_totals_recount_all
from crm.board_cache import boards_changed
from crm.models import (
    Contact,
    Deal,
    DealStatus,
    Interaction,
    InteractionType,
    LostReason,
    Organization,
    Pipeline,
    PipelineStage,
    StageChange,
    StageChangeKind,
    StageVisit,
    stage_forecast_category,
)
from crm.search import search_words_refresh
from crm.services import (
    contact_timelines_touch,
    stage_expected_values_refresh,
    stage_history_refresh,
)

DEFAULT_CONTACTS = 200
DEFAULT_DEALS = 400
DEFAULT_INTERACTIONS = 4000
BATCH_SIZE = 5000
HISTORY_DAYS = 730
DEMO_NAMESPACE = uuid.UUID("6fe4e0a2-8575-4dec-a000-00000000c0de")
# `seed_demo --scale large`: three more pipelines, exactly one deal in three closed, every
# open deal expected within the next year, and one contact with a long timeline.
SCALE_CLOSED_EVERY = 3
# `seed_demo --scale xlarge`: deals past the first XLARGE_BASE_DEALS are made inside
# PostgreSQL as copies of those (deal i copies deal i mod XLARGE_BASE_DEALS, with its stage
# visit and stage history), so that a million deals load in minutes with constant memory.
XLARGE_BASE_DEALS = 30_000
COPY_BATCH_SIZE = 100_000
SCALE_BUSY_CONTACT_INTERACTIONS = 5000

PIPELINES = [
    (
        "Sales",
        "EUR",
        [
            ("Lead", 10, False, False),
            ("Qualified", 25, False, False),
            ("Proposal", 50, False, False),
            ("Negotiation", 80, False, False),
            ("Won", 100, True, False),
            ("Lost", 0, False, True),
        ],
    ),
    (
        "Partnerships",
        "USD",
        [
            ("Intro", 15, False, False),
            ("Pilot", 45, False, False),
            ("Contract", 75, False, False),
            ("Signed", 100, True, False),
            ("Declined", 0, False, True),
        ],
    ),
]
SCALE_PIPELINES = [
    (
        "Services",
        "EUR",
        [
            ("Enquiry", 20, False, False),
            ("Quote", 60, False, False),
            ("Booked", 100, True, False),
            ("Lost", 0, False, True),
        ],
    ),
    (
        "Wholesale",
        "GBP",
        [
            ("Sample", 15, False, False),
            ("Trial order", 55, False, False),
            ("Framework", 85, False, False),
            ("Supplier", 100, True, False),
            ("Dropped", 0, False, True),
        ],
    ),
    (
        "Grants",
        "CHF",
        [
            ("Draft", 10, False, False),
            ("Submitted", 40, False, False),
            ("Awarded", 100, True, False),
            ("Rejected", 0, False, True),
        ],
    ),
]
# The known truth behind the demo's outcomes, so learned probabilities can be checked
# against it (tests/finance/test_known_truth.py, `make bench`). Each closed demo deal has one
# stage visit: the open stage it closed from, entered 0 to 59 days (uniformly) before it closed.
# It was won with the true probability, in percent, of that pipeline, stage and time spent in
# the stage: the band of 0-6, 7-13, 14-29 or 30+ days (TRUTH_DAY_BANDS, the bands of
# `finance.learned`). The truth is deliberately not the configured probability: it falls the
# longer a deal sits in a stage and, over all the days, lies mostly below the configured one.
TRUTH_DAY_BANDS = (0, 7, 14, 30)
TRUTH_VISIT_DAYS = 60
TRUE_WIN_PERCENT = {
    "Sales": {  # configured 10, 25, 50, 80
        "Lead": (16, 13, 9, 4),
        "Qualified": (36, 31, 23, 12),
        "Proposal": (46, 40, 30, 18),
        "Negotiation": (72, 66, 56, 40),
    },
    "Partnerships": {  # configured 15, 45, 75
        "Intro": (10, 8, 6, 3),
        "Pilot": (56, 50, 40, 26),
        "Contract": (86, 80, 70, 56),
    },
    "Services": {  # configured 20, 60
        "Enquiry": (30, 26, 18, 10),
        "Quote": (50, 46, 36, 20),
    },
    "Wholesale": {  # configured 15, 55, 85
        "Sample": (20, 18, 12, 6),
        "Trial order": (46, 40, 30, 20),
        "Framework": (90, 86, 76, 60),
    },
    "Grants": {  # configured 10, 40
        "Draft": (6, 5, 3, 2),
        "Submitted": (36, 30, 24, 16),
    },
}


def true_win_percent(pipeline: str, stage: str, days: int) -> int:
    """The stated true probability of winning, in percent, of a demo deal that closed from
    `stage` of `pipeline` after `days` in it."""
    band = sum(1 for bound in TRUTH_DAY_BANDS[1:] if days >= bound)
    return TRUE_WIN_PERCENT[pipeline][stage][band]


FIRST_NAMES = [
    "Ana",
    "Ben",
    "Chloé",
    "Dmitri",
    "Elif",
    "Farah",
    "Gustav",
    "Hana",
    "Ibrahim",
    "Jonas",
    "Keiko",
    "Lena",
    "Mateo",
    "Nia",
    "Olga",
    "Pavel",
    "Quinn",
    "Rosa",
    "Sami",
    "Tomás",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zofia",
    "Amara",
    "Bruno",
    "Carmen",
    "Dara",
]
LAST_NAMES = [
    "Almeida",
    "Brandt",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quispe",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhou",
]
ORG_WORDS_A = [
    "Green",
    "Solar",
    "Valley",
    "River",
    "Harbor",
    "Maple",
    "Union",
    "Open",
    "Coastal",
    "Northern",
    "Bright",
]
ORG_WORDS_B = [
    "Bakery",
    "Energy",
    "Housing",
    "Farmers",
    "Printers",
    "Grocers",
    "Bikes",
    "Textiles",
    "Water",
    "Software",
]
JOB_TITLES = [
    "Buyer",
    "Board member",
    "Operations lead",
    "Treasurer",
    "Founder",
    "Procurement officer",
    "Member liaison",
    "",
]
DEAL_THINGS = [
    "Solar roof",
    "Heat pumps",
    "Bulk order",
    "Annual supply",
    "Training programme",
    "Software licences",
    "Delivery bikes",
    "Shared warehouse",
]
SUMMARIES = {
    InteractionType.CALL: ["Intro call", "Follow-up call", "Pricing questions", "Check-in call"],
    InteractionType.EMAIL: ["Sent proposal", "Answered questions", "Shared references", "Reply"],
    InteractionType.MEETING: ["On-site visit", "Demo meeting", "Board presentation"],
    InteractionType.MESSAGE: ["Quick question", "Sent the brochure", "Confirmed the date"],
    InteractionType.PLATFORM_EVENT: ["Opened the newsletter", "Downloaded the catalogue"],
}
TYPE_WEIGHTS = {
    InteractionType.CALL: 35,
    InteractionType.EMAIL: 40,
    InteractionType.MEETING: 15,
    InteractionType.MESSAGE: 8,
    InteractionType.PLATFORM_EVENT: 2,
}


def demo_id(kind: str, index: int) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, f"{kind}-{index}")


@contextmanager
def _historical_timestamps(*model_classes: type[models.Model]) -> Iterator[None]:
    """Let bulk inserts keep the past `created_at` / `updated_at` the demo gives them."""
    switched = []
    for model in model_classes:
        for field in model._meta.concrete_fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                switched.append((field, field.auto_now, field.auto_now_add))
                field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, auto_now, auto_now_add in switched:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


class _Loader:
    """Inserts generated rows in committed batches and reports progress."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log

    def load(
        self,
        model: type[models.Model],
        kind: str,
        rows: Iterator,
        total: int,
        companion: type[models.Model] | None = None,
    ) -> int:
        """Insert `rows`; with a `companion` model, `rows` yields (row, companion row) pairs
        and each batch of companions goes in with its rows, in the same transaction."""
        if total == 0 or model.objects.filter(pk=demo_id(kind, total - 1)).exists():
            self.log(f"  {kind}s: {total:,} already there.")
            return 0
        before = model.objects.count()
        done, step = 0, max(total // 10, BATCH_SIZE)
        with _historical_timestamps(model):
            while batch := list(islice(rows, BATCH_SIZE)):
                with transaction.atomic():
                    if companion is None:
                        copy_insert(model, batch, skip_existing=True)
                    else:
                        copy_insert(model, [row for row, _ in batch], skip_existing=True)
                        copy_insert(companion, [extra for _, extra in batch], skip_existing=True)
                done += len(batch)
                if done % step < BATCH_SIZE or done == total:
                    self.log(f"  {kind}s: {done:,} / {total:,} ({100 * done // total} %)")
        return model.objects.count() - before


def _ensure_pipelines(team: Team, specs: list) -> list[tuple[Pipeline, list[PipelineStage]]]:
    result = []
    for name, currency, stage_specs in specs:
        pipeline, created = Pipeline.objects.get_or_create(
            team=team, name=name, defaults={"currency": currency}
        )
        if created:
            PipelineStage.objects.bulk_create(
                PipelineStage(
                    pipeline=pipeline,
                    name=stage_name,
                    position=position,
                    probability=probability,
                    is_won=is_won,
                    is_lost=is_lost,
                )
                for position, (stage_name, probability, is_won, is_lost) in enumerate(stage_specs)
            )
        result.append((pipeline, list(pipeline.stages.order_by("position"))))
    return result


def _ensure_organizations(team: Team, rng: random.Random, count: int) -> list[Organization]:
    names = sorted({f"{a} {b} Co-op" for a in ORG_WORDS_A for b in ORG_WORDS_B})
    rng.shuffle(names)
    Organization.objects.bulk_create(
        [
            Organization(
                id=demo_id("organization", i),
                team=team,
                name=name,
                website=f"https://{name.lower().replace(' ', '-')}.example",
            )
            for i, name in enumerate(names[:count])
        ],
        ignore_conflicts=True,
    )
    return list(Organization.objects.filter(team=team).order_by("name"))


def _contacts(
    rng: random.Random,
    team: Team,
    owners: list[User],
    organizations: list[Organization],
    total: int,
    now: datetime.datetime,
) -> Iterator[Contact]:
    for i in range(total):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        organization = rng.choice(organizations) if rng.random() < 0.85 else None
        created = now - datetime.timedelta(days=rng.uniform(HISTORY_DAYS / 2, HISTORY_DAYS))
        yield Contact(
            id=demo_id("contact", i),
            team=team,
            owner=rng.choice(owners),
            name=f"{first} {last}",
            email=f"{first.lower()}.{last.lower()}.{i}@client.example",
            phone=f"+33 1 {rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}",
            organization=organization,
            job_title=rng.choice(JOB_TITLES),
            created_at=created,
            updated_at=created,
        )


def _deals(
    rng: random.Random,
    pipelines: list[tuple[Pipeline, list[PipelineStage]]],
    owners: list[User],
    contacts: int,
    total: int,
    now: datetime.datetime,
    closed_every: int | None = None,
) -> Iterator[tuple[Deal, StageVisit]]:
    """Deals and the stage visit of each (its current stage, or the one it closed from)."""
    for i in range(total):
        if closed_every is None:
            pipeline, stages = pipelines[0] if rng.random() < 0.8 else pipelines[1]
        else:
            pipeline, stages = rng.choice(pipelines)
        open_stages = [stage for stage in stages if not stage.is_closing]
        won_stage = next(stage for stage in stages if stage.is_won)
        lost_stage = next(stage for stage in stages if stage.is_lost)
        created = now - datetime.timedelta(days=rng.uniform(0, HISTORY_DAYS))
        age_days = (now - created).days
        closes_after = datetime.timedelta(days=rng.uniform(14, 180))
        if closed_every is None:
            closed = age_days > 30 and rng.random() < min(0.85, age_days / 240)
        else:
            closed = i % closed_every == closed_every - 1
        deal = Deal(
            id=demo_id("deal", i),
            pipeline=pipeline,
            contact_id=demo_id("contact", rng.randrange(contacts)) if contacts else None,
            owner=rng.choice(owners),
            title=f"{rng.choice(DEAL_THINGS)} #{i + 1}",
            value_cents=rng.choice([5, 10, 25, 50, 100, 250]) * rng.randrange(10_000, 100_000),
            currency=pipeline.currency,
            created_at=created,
        )
        if closed:
            closed_at = min(created + closes_after, now)
            last_stage = rng.choice(open_stages)
            stayed = datetime.timedelta(seconds=rng.uniform(0, TRUTH_VISIT_DAYS * 86_400))
            deal.created_at = created = min(created, closed_at - stayed)
            truth = true_win_percent(pipeline.name, last_stage.name, stayed.days)
            won = rng.random() < truth / 100
            deal.status = DealStatus.WON if won else DealStatus.LOST
            deal.stage = won_stage if won else lost_stage
            deal.closed_at = deal.stage_entered_at = deal.updated_at = closed_at
            deal.expected_close_date = (
                closed_at + datetime.timedelta(days=rng.randint(-20, 20))
            ).date()
            visit = (last_stage, closed_at - stayed, closed_at)
        else:
            deal.stage = rng.choice(open_stages)
            deal.forecast_category = stage_forecast_category(deal.stage)
            deal.stage_entered_at = deal.updated_at = created + (now - created) * rng.random()
            deal.expected_close_date = (created + closes_after).date()
            if closed_every is not None:
                deal.expected_close_date = now.date() + datetime.timedelta(days=rng.randint(0, 330))
            elif deal.expected_close_date < now.date() and rng.random() < 0.7:
                deal.expected_close_date = now.date() + datetime.timedelta(days=rng.randint(7, 120))
            visit = (deal.stage, deal.stage_entered_at, None)
        stage, entered_at, left_at = visit
        # Ids follow the deals' indexes (a re-run skips them); the sequence is moved past them.
        yield (
            deal,
            StageVisit(
                id=i + 1,
                deal_id=deal.id,
                stage_id=stage.pk,
                stage_name=stage.name,
                entered_at=entered_at,
                left_at=left_at,
            ),
        )


def _stage_history(
    team: Team, pipelines: list[tuple[Pipeline, list[PipelineStage]]], log: Callable[[str], None]
) -> int:
    """The stage changes and lost reasons of the demo deals, which are loaded in bulk without
    the deal services: each deal was created in its pipeline's first stage, moved to the stage
    it is in (or, when closed, to the stage of its stage visit, the one it closed from) and then
    won or lost; a lost deal gets one of the team's reasons. What the reports read. Returns
    the changes written."""
    stages = {pipeline.pk: stage_list for pipeline, stage_list in pipelines}
    reasons = list(LostReason.objects.filter(team=team, archived=False).order_by("position"))
    last_visit = StageVisit.objects.filter(deal=models.OuterRef("pk")).order_by("-entered_at")
    deals = (
        Deal.objects.filter(pipeline__team=team, stage_changes__isnull=True)
        .annotate(
            visit_stage_id=models.Subquery(last_visit.values("stage_id")[:1]),
            visit_entered_at=models.Subquery(last_visit.values("entered_at")[:1]),
        )
        .values_list(
            "pk",
            "pipeline_id",
            "stage_id",
            "status",
            "created_at",
            "stage_entered_at",
            "closed_at",
            "visit_stage_id",
            "visit_entered_at",
        )
    )
    # Batches of at most BATCH_SIZE changes and lost deals per reason: the memory stays the
    # same from 1,000 to 1,500,000 deals (`seed_demo --scale xlarge`).
    batch, written, lost_by_reason = [], 0, {reason.pk: [] for reason in reasons}

    def _lost_reason_set(reason_id: uuid.UUID) -> None:
        ids = lost_by_reason[reason_id]
        Deal.objects.filter(pk__in=ids).update(lost_reason_id=reason_id)
        ids.clear()

    for index, (
        pk,
        pipeline_id,
        stage_id,
        status,
        created,
        entered,
        closed,
        visit_stage_id,
        visit_entered_at,
    ) in enumerate(deals.iterator(chunk_size=5000)):
        open_stages = [stage for stage in stages[pipeline_id] if not stage.is_closing]
        by_id = {stage.pk: stage for stage in stages[pipeline_id]}
        first, current = open_stages[0], by_id[stage_id]
        path = [(StageChangeKind.CREATED, None, first, created)]
        if status == DealStatus.OPEN:
            if current.pk != first.pk:
                path.append((StageChangeKind.MOVED, first, current, entered))
        else:
            # The stage it closed from and when it entered it: its stage visit, which the
            # known-truth outcomes were drawn from (`true_win_percent`).
            last = by_id.get(visit_stage_id, open_stages[-1])
            if last.pk != first.pk:
                moved_at = visit_entered_at or created + (closed - created) / 2
                path.append((StageChangeKind.MOVED, first, last, moved_at))
            path.append((status, last, current, closed))
            if status == DealStatus.LOST and reasons:
                reason_id = reasons[index % len(reasons)].pk
                lost_by_reason[reason_id].append(pk)
                if len(lost_by_reason[reason_id]) >= BATCH_SIZE:
                    _lost_reason_set(reason_id)
        batch += [
            StageChange(
                deal_id=pk,
                pipeline_id=pipeline_id,
                kind=kind,
                from_stage_id=source.pk if source else None,
                from_stage_name=source.name if source else "",
                to_stage_id=target.pk,
                to_stage_name=target.name,
                changed_at=at,
            )
            for kind, source, target, at in path
        ]
        if len(batch) >= BATCH_SIZE:
            written += len(StageChange.objects.bulk_create(batch))
            batch = []
    written += len(StageChange.objects.bulk_create(batch))
    stage_history_refresh()
    for reason_id in lost_by_reason:
        _lost_reason_set(reason_id)
    log(f"CRM: {written:,} stage changes of the demo deals.")
    return written


def copy_id(index: int) -> uuid.UUID:
    """The id of copied deal `index` (`seed_demo --scale xlarge`): an MD5 of the demo
    namespace and the index, which PostgreSQL computes too (`_SQL_COPY_ID`)."""
    return uuid.UUID(hashlib.md5(f"{DEMO_NAMESPACE}:deal-{index}".encode()).hexdigest())  # noqa: S324 (an id, not a secret)


_SQL_COPY_ID = f"md5('{DEMO_NAMESPACE}:deal-' || i)::uuid"


def _copy_columns(model: type[models.Model], replaced: dict[str, str]) -> tuple[str, str]:
    """The column list of `model` and the SELECT list copying row `src`, with `replaced`
    columns given as SQL expressions instead; the serial `id` column is left out unless
    replaced."""
    names, values = [], []
    for field in model._meta.concrete_fields:
        if field.column == "id" and "id" not in replaced:
            continue
        names.append(connection.ops.quote_name(field.column))
        values.append(replaced.get(field.column, f"src.{connection.ops.quote_name(field.column)}"))
    return ", ".join(names), ", ".join(values)


def _deal_copies(base: int, total: int, log: Callable[[str], None]) -> int:
    """Deals base .. total - 1 as copies of deals 0 .. base - 1 (deal i of deal i mod base:
    its status, stage, value, dates, lost reason, stage visit and stage history; title #i+1),
    made by PostgreSQL in committed batches of COPY_BATCH_SIZE; a re-run skips the batches
    already there. Returns the deals added."""
    added = 0
    deal_columns, deal_values = _copy_columns(
        Deal,
        {
            "id": "ids.id",
            "title": "regexp_replace(src.title, '#[0-9]+$', '#' || (ids.i + 1))",
        },
    )
    visit_columns, visit_values = _copy_columns(
        StageVisit, {"id": "ids.i + 1", "deal_id": "ids.id"}
    )
    change_columns, change_values = _copy_columns(StageChange, {"deal_id": "ids.id"})
    for start in range(base, total, COPY_BATCH_SIZE):
        stop = min(start + COPY_BATCH_SIZE, total)
        if Deal.objects.filter(pk=copy_id(stop - 1)).exists():
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE demo_copy_sources (i integer PRIMARY KEY, id uuid) "
                "ON COMMIT DROP"
            )
            with cursor.copy("COPY demo_copy_sources (i, id) FROM STDIN") as copy:
                for index in range(base):
                    copy.write_row([index, demo_id("deal", index)])
            cursor.execute(
                f"CREATE TEMPORARY TABLE demo_copy_ids ON COMMIT DROP AS SELECT i, "  # noqa: S608 (our integers)
                f"{_SQL_COPY_ID} AS id, (SELECT s.id FROM demo_copy_sources s "
                f"WHERE s.i = g.i % {base}) AS source FROM generate_series({start}, {stop - 1}) "
                "AS g(i)"
            )
            cursor.execute(
                f"INSERT INTO {Deal._meta.db_table} ({deal_columns}) SELECT {deal_values} "  # noqa: S608
                f"FROM demo_copy_ids ids JOIN {Deal._meta.db_table} src ON src.id = ids.source "
                "ON CONFLICT DO NOTHING"
            )
            added += cursor.rowcount
            cursor.execute(
                f"INSERT INTO {StageVisit._meta.db_table} ({visit_columns}) "  # noqa: S608
                f"SELECT {visit_values} FROM demo_copy_ids ids "
                f"JOIN {StageVisit._meta.db_table} src ON src.deal_id = ids.source "
                "ON CONFLICT DO NOTHING"
            )
            cursor.execute(
                f"INSERT INTO {StageChange._meta.db_table} ({change_columns}) "  # noqa: S608
                f"SELECT {change_values} FROM demo_copy_ids ids "
                f"JOIN {StageChange._meta.db_table} src ON src.deal_id = ids.source"
            )
            # Dropped now, not only at commit: an enclosing transaction may copy again.
            cursor.execute("DROP TABLE demo_copy_ids, demo_copy_sources")
        log(
            f"  deals: {stop:,} / {total:,} ({100 * stop // total} %), copies of the first {base:,}"
        )
    return added


def _interactions(
    rng: random.Random,
    authors: list[User],
    contacts: int,
    total: int,
    now: datetime.datetime,
    busy: int = 0,
) -> Iterator[Interaction]:
    """The first `busy` interactions all go to contact 0, the rest to random contacts."""
    types, weights = list(TYPE_WEIGHTS), list(TYPE_WEIGHTS.values())
    for i in range(total):
        kind = rng.choices(types, weights)[0]
        timestamp = now - datetime.timedelta(seconds=rng.uniform(0, HISTORY_DAYS * 86_400))
        yield Interaction(
            id=demo_id("interaction", i),
            contact_id=demo_id("contact", 0 if i < busy else rng.randrange(contacts)),
            author=None if kind == InteractionType.PLATFORM_EVENT else rng.choice(authors),
            interaction_type=kind,
            summary=rng.choice(SUMMARIES[kind]),
            details="" if rng.random() < 0.6 else "Notes: next step agreed, follow up next week.",
            timestamp=timestamp,
            created_at=timestamp,
            updated_at=timestamp,
        )


def _stage_visit_ids_reset() -> None:
    """Move the stage visits' id sequence past the ids the demo gave (PostgreSQL; SQLite
    takes the largest id + 1 by itself)."""
    statements = connection.ops.sequence_reset_sql(no_style(), [StageVisit])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def seed(*, options: dict, log: Callable[[str], None]) -> None:
    """Add the demo team's CRM records; sizes from --contacts, --deals, --interactions."""
    seed_value = options.get("seed", 2026)
    sizes = {
        kind: options.get(kind) if options.get(kind) is not None else default
        for kind, default in (
            ("contacts", DEFAULT_CONTACTS),
            ("deals", DEFAULT_DEALS),
            ("interactions", DEFAULT_INTERACTIONS),
        )
    }
    if any(size < 0 for size in sizes.values()):
        raise ValueError(f"Demo sizes must be whole numbers >= 0, not {sizes}.")
    if sizes["contacts"] == 0:
        sizes["interactions"] = 0
    team = Team.objects.get(name=DEMO_TEAM)
    people = list(
        User.objects.filter(
            memberships__team=team, memberships__role__in=[Role.REP, Role.MANAGER]
        ).order_by("username")
    )
    # Anchored at midnight so that two runs on the same day produce identical rows.
    now = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    rng = {kind: random.Random(f"{seed_value}:{kind}") for kind in ("org", *sizes)}  # noqa: S311 (demo data)
    log(
        f"CRM demo data (seed {seed_value}): {sizes['contacts']:,} contacts, "
        f"{sizes['deals']:,} deals, {sizes['interactions']:,} interactions."
    )
    large = benchmark_scale(options)
    # xlarge: the first XLARGE_BASE_DEALS deals generated, the others copied in PostgreSQL.
    copied = (
        options.get("scale") == "xlarge"
        and connection.vendor == "postgresql"
        and sizes["deals"] > XLARGE_BASE_DEALS
    )
    generated_deals = XLARGE_BASE_DEALS if copied else sizes["deals"]
    pipelines = _ensure_pipelines(team, PIPELINES + SCALE_PIPELINES if large else PIPELINES)
    organizations = _ensure_organizations(team, rng["org"], max(sizes["contacts"] // 8, 1))
    loader = _Loader(log)
    added = {
        "contacts": loader.load(
            Contact,
            "contact",
            _contacts(rng["contacts"], team, people, organizations, sizes["contacts"], now),
            sizes["contacts"],
        ),
        "deals": loader.load(
            Deal,
            "deal",
            _deals(
                rng["deals"],
                pipelines,
                people,
                sizes["contacts"],
                generated_deals,
                now,
                closed_every=SCALE_CLOSED_EVERY if large else None,
            ),
            generated_deals,
            companion=StageVisit,
        ),
        "interactions": loader.load(
            Interaction,
            "interaction",
            _interactions(
                rng["interactions"],
                people,
                sizes["contacts"],
                sizes["interactions"],
                now,
                busy=SCALE_BUSY_CONTACT_INTERACTIONS if large else 0,
            ),
            sizes["interactions"],
        ),
    }
    if added["deals"]:
        _stage_visit_ids_reset()
        # Bulk rows bypass the deal services, which keep each stage's expected value and the
        # stage history.
        _stage_history(team, pipelines, log)
    if copied:
        added["deals"] += _deal_copies(XLARGE_BASE_DEALS, sizes["deals"], log)
        _stage_visit_ids_reset()
    if added["deals"]:
        for pipeline, _ in pipelines:
            stage_expected_values_refresh(pipeline_id=pipeline.pk)
    if added["interactions"]:
        # COPY sends no signals: the cached first pages of the team's timelines are stale.
        contact_timelines_touch(contacts=Contact.objects.filter(team=team))
        # ... nor keeps the activity report's totals: recount them.
        log(f"CRM: {activity_totals_recount_all():,} activity totals (person, day).")
    if added["deals"] or added["interactions"]:
        # Nor does it keep the deals' last activity (`crm.activity`).
        deal_activity_refresh(Deal.objects.filter(pipeline__team=team))
    if added["contacts"] or added["deals"]:
        search_words_refresh()
    if any(added.values()):
        # Every cached board and page is stale (crm/board_cache.py, coop/page_cache.py): the
        # statement watcher sees the loader's writes, but a bulk load says so itself.
        boards_changed()
        pages_changed()
    log("CRM: added " + ", ".join(f"{count:,} {kind}" for kind, count in added.items()) + ".")
