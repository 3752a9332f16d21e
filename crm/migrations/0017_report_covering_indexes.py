from django.db import migrations

# The Reports (crm/reports.py) on PostgreSQL, at 150,000 deals and 300,000 stage changes:
# covering indexes let the visibility rule's "deals of my teams' pipelines" and the stage
# history be read by index-only scans, the history already in the order LEAD() needs. SQLite
# has no INCLUDE (Django would warn and drop the columns): it keeps the plain indexes.
REPORT_INDEXES = {
    "crm_stage_change_deal_cover": (
        "crm_deal_stage_changes (deal_id, changed_at, id) "
        "INCLUDE (kind, to_stage_id, to_stage_name)"
    ),
    "crm_stage_change_at_cover": "crm_deal_stage_changes (changed_at) INCLUDE (deal_id, kind)",
    "crm_deal_pipeline_cover": "crm_deals (pipeline_id) INCLUDE (id, owner_id)",
    # Win/loss: the deals closed in a period, grouped by owner and by lost reason, from the
    # index alone (partial: open deals, most of them, are not in it).
    "crm_deal_closed_cover": (
        "crm_deals (pipeline_id, closed_at) "
        "INCLUDE (status, currency, value_cents, owner_id, lost_reason_id) "
        "WHERE closed_at IS NOT NULL"
    ),
}


def add_report_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in REPORT_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop_report_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in REPORT_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0016_tags_and_search_indexes"),
    ]

    operations = [
        migrations.RunPython(add_report_indexes, drop_report_indexes, elidable=False),
    ]
