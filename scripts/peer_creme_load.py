"""Load Creme CRM (the peer of `make bench-peer`) with N contacts and M opportunities.

Runs inside the peer's own virtual environment with its settings
(DJANGO_SETTINGS_MODULE=peerproj.settings), never with Co-op CRM's: see benchmarks/peer.py.

    python scripts/peer_creme_load.py CONTACTS DEALS

Creme's entities are multi-table models (CremeEntity + Contact / Opportunity) tied by
relations (an opportunity targets a contact and is emitted by the managed organisation,
each relation stored with its symmetric one). `Opportunity.save()` writes all of that one
deal at a time (minutes per thousand on this machine), so the rows go in through the ORM in
batches instead: the entity rows with `bulk_create`, the child rows with the same insert
Django uses for a child table, the relations and their symmetric ones with `bulk_create`.
Idempotent by count: a second run adds only what is missing. Prints one JSON line.
"""

import datetime
import json
import random
import sys
import time

import django

django.setup()

from creme.creme_core.models import CremeEntity, Currency, Relation, RelationType  # noqa: E402
from creme.opportunities import constants, get_opportunity_model  # noqa: E402
from creme.opportunities.models import SalesPhase  # noqa: E402
from creme.persons import get_contact_model, get_organisation_model  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.db import connection, transaction  # noqa: E402

BATCH = 5000
FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Elif", "Farah", "Gustav", "Hana", "Ibrahim", "Jonas"]
LAST = ["Almeida", "Brandt", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Haddad"]
THINGS = ["Solar roof", "Heat pumps", "Bulk order", "Annual supply", "Training programme"]


def insert_entities(model, objects, user):
    """Entity rows, then the model's own rows, with the ids of the former."""
    kind = ContentType.objects.get_for_model(model)
    parents = CremeEntity.objects.bulk_create(
        CremeEntity(entity_type=kind, user=user, header_filter_search_field=str(obj)[:200])
        for obj in objects
    )
    for obj, parent in zip(objects, parents, strict=True):
        obj.cremeentity_ptr_id = parent.pk
    model.objects._insert(objects, fields=model._meta.local_concrete_fields)
    return [parent.pk for parent in parents]


def relate(pairs, type_id, user, subject_kind, object_kind):
    """(subject id, object id) pairs of relation type `type_id` and their symmetric ones."""
    forward = RelationType.objects.get(pk=type_id)
    backward = forward.symmetric_type
    first = Relation.objects.bulk_create(
        Relation(
            user=user,
            type=forward,
            subject_entity_id=subject,
            object_entity_id=obj,
            object_ctype=object_kind,
        )
        for subject, obj in pairs
    )
    Relation.objects.bulk_create(
        Relation(
            user=user,
            type=backward,
            subject_entity_id=obj,
            object_entity_id=subject,
            object_ctype=subject_kind,
            symmetric_relation=relation,
        )
        for (subject, obj), relation in zip(pairs, first, strict=True)
    )
    table = Relation._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} r SET symmetric_relation_id = s.id FROM {table} s "  # noqa: S608
            "WHERE s.symmetric_relation_id = r.id AND r.id = ANY(%s)",
            [[relation.pk for relation in first]],
        )


def main() -> None:
    contacts, deals = int(sys.argv[1]), int(sys.argv[2])
    started = time.monotonic()
    Contact, Organisation = get_contact_model(), get_organisation_model()
    Opportunity = get_opportunity_model()
    user = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    emitter = Organisation.objects.filter_managed_by_creme().first()
    phases = list(SalesPhase.objects.order_by("order"))
    currency = Currency.objects.default()
    contact_kind = ContentType.objects.get_for_model(Contact)
    opportunity_kind = ContentType.objects.get_for_model(Opportunity)
    organisation_kind = ContentType.objects.get_for_model(Organisation)
    rng = random.Random(2026)  # noqa: S311 (benchmark data)
    have = Contact.objects.filter(is_user__isnull=True).count()
    while have < contacts:
        size = min(BATCH, contacts - have)
        with transaction.atomic():
            insert_entities(
                Contact,
                [
                    Contact(
                        first_name=rng.choice(FIRST),
                        last_name=rng.choice(LAST),
                        email=f"peer.{have + i}@client.example",
                        phone=f"+33 1 {rng.randrange(10, 99)} {rng.randrange(10, 99)}",
                    )
                    for i in range(size)
                ],
                user,
            )
        have += size
    contact_ids = list(Contact.objects.filter(is_user__isnull=True).values_list("pk", flat=True))
    today = datetime.date.today()
    have = Opportunity.objects.count()
    while have < deals:
        size = min(BATCH, deals - have)
        with transaction.atomic():
            ids = insert_entities(
                Opportunity,
                [
                    Opportunity(
                        name=f"{rng.choice(THINGS)} #{have + i + 1}",
                        estimated_sales=rng.randrange(1_000, 250_000),
                        currency=currency,
                        sales_phase=rng.choice(phases),
                        chance_to_win=rng.choice([10, 25, 50, 80]),
                        expected_closing_date=today + datetime.timedelta(days=rng.randint(0, 330)),
                    )
                    for i in range(size)
                ],
                user,
            )
            targets = [(pk, rng.choice(contact_ids)) for pk in ids]
            relate(targets, constants.REL_SUB_TARGETS, user, opportunity_kind, contact_kind)
            emitted = [(pk, emitter.pk) for pk in ids]
            relate(emitted, constants.REL_SUB_EMIT_ORGA, user, opportunity_kind, organisation_kind)
        have += size
    busiest = (
        Relation.objects.filter(type_id=constants.REL_OBJ_TARGETS)
        .values("subject_entity_id")
        .annotate(n=django.db.models.Count("pk"))
        .order_by("-n")
        .first()
    )
    print(
        json.dumps(
            {
                "contacts": Contact.objects.filter(is_user__isnull=True).count(),
                "deals": Opportunity.objects.count(),
                "busy_contact": busiest["subject_entity_id"],
                "busy_contact_deals": busiest["n"],
                "seconds": round(time.monotonic() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
