"""The search's dictionary of words (`crm.search`): the table, its trigram index and the
words of the existing names and titles (PostgreSQL only: SQLite has no typo pass)."""

from django.db import migrations, models

FILL = """
INSERT INTO crm_search_words (word)
SELECT DISTINCT word FROM (
    SELECT regexp_split_to_table(lower(text), '[^[:alpha:]]+') AS word FROM (
        SELECT name AS text FROM crm_contacts
        UNION ALL SELECT name FROM crm_organizations
        UNION ALL SELECT title FROM crm_deals
        UNION ALL SELECT title FROM crm_tasks
    ) AS texts
) AS words
WHERE length(word) BETWEEN 3 AND 60
ON CONFLICT DO NOTHING
"""


def index_and_fill(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS crm_search_word_trgm_idx"
        " ON crm_search_words USING gin (word gin_trgm_ops)"
    )
    schema_editor.execute(FILL)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS crm_search_word_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0018_deal_last_activity"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchWord",
            fields=[
                ("word", models.CharField(max_length=60, primary_key=True, serialize=False)),
            ],
            options={
                "db_table": "crm_search_words",
            },
        ),
        migrations.RunPython(index_and_fill, drop_index),
    ]
