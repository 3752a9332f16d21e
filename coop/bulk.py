"""Fast bulk inserts: PostgreSQL's COPY, `bulk_create` elsewhere.

At 100,000 rows Django's multi-row INSERT spends most of its time compiling SQL and
adapting parameters; COPY streams the values instead (see benchmarks/RESULTS.md).
"""

from collections.abc import Iterable

from django.db import connection, models

from coop.writes import copy_seen


def copy_insert(
    model: type[models.Model], rows: Iterable[models.Model], *, skip_existing: bool = False
) -> None:
    """Insert `rows` (model instances whose field values are plain Python values: no
    expressions, defaults already applied) in one COPY. `skip_existing`: rows whose key is
    already there are skipped (COPY into a temporary table, then INSERT ... ON CONFLICT DO
    NOTHING). Must run inside a transaction on PostgreSQL. The write watchers
    (coop/writes.py) see the rows inserted, as they see any INSERT."""
    if connection.vendor != "postgresql":
        model.objects.bulk_create(rows, ignore_conflicts=skip_existing, batch_size=5000)
        return
    fields = model._meta.concrete_fields
    names = [field.attname for field in fields]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    target = table
    with connection.cursor() as cursor:
        if skip_existing:
            target = f"copy_staging_{model._meta.model_name}"
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {target} (LIKE {table}) "
                "ON COMMIT DELETE ROWS"
            )
        with cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([getattr(row, name) for name in names])
        if not skip_existing:
            copy_seen(model._meta.db_table, using=connection.alias)
        if skip_existing:
            insert = f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {target}"  # noqa: S608
            cursor.execute(f"{insert} ON CONFLICT DO NOTHING")
            # Emptied now, not only at commit: an enclosing transaction may insert again.
            cursor.execute(f"TRUNCATE {target}")
