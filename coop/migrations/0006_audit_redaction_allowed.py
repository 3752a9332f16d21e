"""The append-only audit log admits one change: a GDPR erasure scrubbing a person's identity
from entries' summary and detail (`coop.audit.audit_redact`). On PostgreSQL the trigger lets
an UPDATE through only when the transaction set `coop.audit_redaction` to `on` and every
other column is unchanged; DELETE stays refused."""

from django.db import migrations

_ALLOW_REDACTION = """
CREATE OR REPLACE FUNCTION coop_audit_events_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND current_setting('coop.audit_redaction', true) = 'on'
        AND NEW.id = OLD.id
        AND NEW.occurred_at = OLD.occurred_at
        AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
        AND NEW.actor_name = OLD.actor_name
        AND NEW.action = OLD.action
        AND NEW.object_type = OLD.object_type
        AND NEW.object_id = OLD.object_id
        AND NEW.request_id = OLD.request_id
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'coop_audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
"""
_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION coop_audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'coop_audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
"""


def allow_redaction(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_ALLOW_REDACTION)


def refuse_redaction(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_APPEND_ONLY)


class Migration(migrations.Migration):
    dependencies = [
        ("coop", "0005_audit_merge_and_personal_data"),
    ]

    operations = [migrations.RunPython(allow_redaction, refuse_redaction)]
