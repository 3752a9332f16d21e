"""Migration 0002 hashes the feed tokens already handed out, so their addresses keep working."""

import hashlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from tests.coop.factories import UserFactory

BEFORE = [("calendar_app", "0002_attendee_guests_event_team")]
AFTER = [("calendar_app", "0003_feed_token_hash")]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_existing_feed_tokens_are_hashed_and_their_addresses_keep_working(client):
    user = UserFactory()
    executor = _migrate(BEFORE)
    try:
        old_apps = executor.loader.project_state(BEFORE).apps
        token = "an-existing-subscription-token-handed-out-before-the-upgrade"
        old_apps.get_model("calendar_app", "CalendarPreference").objects.create(
            user_id=user.pk, feed_token=token
        )
        executor = _migrate(AFTER)
        with connection.cursor() as cursor:
            cursor.execute("SELECT feed_token, feed_token_hash FROM calendar_preferences")
            assert cursor.fetchall() == [(None, hashlib.sha256(token.encode()).hexdigest())]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    response = client.get(reverse("calendar_app:feed", args=[token]))
    assert response.status_code == 200
    assert response.content.startswith(b"BEGIN:VCALENDAR")
