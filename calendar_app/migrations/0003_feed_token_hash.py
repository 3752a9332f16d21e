"""Keep only the SHA-256 hash of each ICS feed token.

Existing tokens are hashed, so every subscription URL keeps working. The clear column is
emptied and leaves the model, but stays in the table (nullable) for the previous release's
processes during a rolling deploy (docs/operations.md: expand, then contract); the next
release drops it. Backwards, the clear tokens are gone: every feed gets a new address.
"""

import hashlib
import secrets

from django.db import migrations, models


def hash_tokens(apps, schema_editor):
    CalendarPreference = apps.get_model("calendar_app", "CalendarPreference")
    preferences = list(CalendarPreference.objects.all())
    for preference in preferences:
        preference.feed_token_hash = hashlib.sha256(preference.feed_token.encode()).hexdigest()
        preference.feed_token = None
    CalendarPreference.objects.bulk_update(
        preferences, ["feed_token_hash", "feed_token"], batch_size=1000
    )


def new_tokens(apps, schema_editor):
    CalendarPreference = apps.get_model("calendar_app", "CalendarPreference")
    preferences = list(CalendarPreference.objects.all())
    for preference in preferences:
        preference.feed_token = secrets.token_urlsafe(32)
    CalendarPreference.objects.bulk_update(preferences, ["feed_token"], batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ("calendar_app", "0002_attendee_guests_event_team"),
    ]

    operations = [
        migrations.AddField(
            model_name="calendarpreference",
            name="feed_token_hash",
            field=models.CharField(editable=False, max_length=64, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="calendarpreference",
            name="feed_token",
            field=models.CharField(max_length=64, null=True, unique=True),
        ),
        migrations.RunPython(hash_tokens, new_tokens),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="calendarpreference", name="feed_token"),
            ],
        ),
    ]
