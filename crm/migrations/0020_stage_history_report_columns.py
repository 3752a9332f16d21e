import django.db.models.deletion
from django.db import migrations, models

# The Reports (crm/reports.py) read the stage history by its own copy of each deal's pipeline
# (the visibility rule and the pipeline filter without a semi-join with every visible deal)
# and by the end of each stay (`left_at`, the deal's next change). Filled here from the history
# itself, as `crm.services.stage_history_refresh` keeps them on every write. PostgreSQL gets
# covering indexes for the reports' index-only scans; SQLite has no INCLUDE and needs none.
REPORT_INDEXES = {
    # Velocity: the stays that ended in a period, per pipeline.
    "crm_stage_change_stay_cover": (
        "crm_deal_stage_changes (pipeline_id, left_at) INCLUDE (kind, to_stage_name, changed_at)"
    ),
    # Funnel entries, pipeline-change counts and latest rows, won deals' cycles.
    "crm_stage_change_pipeline_cover": (
        "crm_deal_stage_changes (pipeline_id, changed_at) "
        "INCLUDE (kind, deal_id, to_stage_id, left_at, id)"
    ),
    # Win/loss by stage at loss: each lost deal's losses, a small partial index.
    "crm_stage_change_loss_cover": (
        "crm_deal_stage_changes (deal_id) INCLUDE (from_stage_name) WHERE kind = 'lost'"
    ),
}

# The same statement as `crm.services.STAGE_HISTORY_SQL` over every deal, written out here so
# that the migration does not change when the service does.
FILL_SQL = """
UPDATE crm_deal_stage_changes SET pipeline_id = n.pipeline_id, left_at = n.next_at
FROM (
    SELECT s.id, d.pipeline_id,
           LEAD(s.changed_at) OVER (PARTITION BY s.deal_id ORDER BY s.changed_at, s.id)
               AS next_at
    FROM crm_deal_stage_changes s JOIN crm_deals d ON d.id = s.deal_id
) AS n
WHERE crm_deal_stage_changes.id = n.id
"""


def fill_report_columns(apps, schema_editor):
    schema_editor.execute(FILL_SQL)
    if schema_editor.connection.vendor == "postgresql":
        for name, definition in REPORT_INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop_report_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in REPORT_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0019_search_words"),
    ]

    operations = [
        migrations.AddField(
            model_name="stagechange",
            name="pipeline",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="crm.pipeline",
            ),
        ),
        migrations.AddField(
            model_name="stagechange",
            name="left_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(fill_report_columns, drop_report_indexes, elidable=False),
    ]
