"""Deals keep their last activity (`crm.activity`): the column, filled from the records as
`crm.activity.last_activity` computes it, and a partial index for "My day"'s stale list."""

import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest


def fill(apps, schema_editor):
    """The same expression as `crm.activity.last_activity`, on the historical models."""
    Deal = apps.get_model("crm", "Deal")
    Interaction = apps.get_model("crm", "Interaction")
    Note = apps.get_model("crm", "Note")
    Task = apps.get_model("crm", "Task")
    now = django.utils.timezone.now()
    latest = {
        "interaction": Interaction.objects.filter(
            contact_id=OuterRef("contact_id"), timestamp__lte=now
        )
        .order_by("-timestamp")
        .values("timestamp")[:1],
        "note": Note.objects.filter(deal_id=OuterRef("pk"))
        .order_by("-created_at")
        .values("created_at")[:1],
        "done": Task.objects.filter(deal_id=OuterRef("pk"), completed_at__isnull=False)
        .order_by("-completed_at")
        .values("completed_at")[:1],
    }
    Deal.objects.update(
        last_activity_at=Greatest(
            F("updated_at"),
            F("stage_entered_at"),
            *(Coalesce(Subquery(rows), F("created_at")) for rows in latest.values()),
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0017_report_covering_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="deal",
            name="last_activity_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(
                condition=models.Q(("status", "open")),
                fields=["owner", "last_activity_at"],
                name="crm_deal_open_owner_active_idx",
            ),
        ),
    ]
