from django.db import migrations

# The Reports (crm/reports.py) on PostgreSQL, measured at 150,000 deals: two covering indexes
# so that win/loss and the activity totals are read by index-only scans. `crm_deal_closed_cover`
# (crm 0017) lacked the deal's id, which win/loss counts and joins on, so PostgreSQL read every
# closed deal of the period from the table (15,786 heap blocks for a year); its replacement
# carries it. SQLite has no INCLUDE and keeps its plain indexes.
REPORT_INDEXES = {
    "crm_deal_closed_report_cover": (
        "crm_deals (pipeline_id, closed_at) "
        "INCLUDE (id, status, currency, value_cents, owner_id, lost_reason_id) "
        "WHERE closed_at IS NOT NULL"
    ),
    # Activity: a team's hours of a period with the person and the three totals.
    "crm_activity_hour_report_cover": (
        "crm_activity_hours (team_id, hour) INCLUDE (person_id, interactions, meetings, tasks_done)"
    ),
}
REPLACED = {
    "crm_deal_closed_cover": (
        "crm_deals (pipeline_id, closed_at) "
        "INCLUDE (status, currency, value_cents, owner_id, lost_reason_id) "
        "WHERE closed_at IS NOT NULL"
    ),
}


def _create(schema_editor, indexes: dict[str, str]) -> None:
    for name, definition in indexes.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def _drop(schema_editor, indexes: dict[str, str]) -> None:
    for name in indexes:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def add_report_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _create(schema_editor, REPORT_INDEXES)
    _drop(schema_editor, REPLACED)


def drop_report_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _create(schema_editor, REPLACED)
    _drop(schema_editor, REPORT_INDEXES)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0023_interaction_contact_meetings"),
    ]

    operations = [
        migrations.RunPython(add_report_indexes, drop_report_indexes, elidable=False),
    ]
