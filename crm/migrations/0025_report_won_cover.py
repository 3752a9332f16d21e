from django.db import migrations

# The velocity report's sales cycle (crm/reports.py, VELOCITY_SQL) starts from the deals won
# in the period: their standing wins (a reopened deal's win has a `left_at`). Found through
# the pipeline's cover of every change, a year of a large team read all 190,000 changes of the
# year to keep the 8,500 wins. This partial index holds only standing wins. SQLite reads the
# (smaller) table itself and needs none.
WON_COVER = (
    "crm_stage_change_won_cover",
    "crm_deal_stage_changes (pipeline_id, changed_at) INCLUDE (deal_id) "
    "WHERE kind = 'won' AND left_at IS NULL",
)


def add_won_cover(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        name, definition = WON_COVER
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop_won_cover(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {WON_COVER[0]}")


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0024_report_index_only_covers"),
    ]

    operations = [
        migrations.RunPython(add_won_cover, drop_won_cover, elidable=False),
    ]
