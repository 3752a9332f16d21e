from django.db import migrations, models

# The contact page's upcoming meetings (crm.selectors._upcoming_meetings): a contact's
# interactions that stand for a meeting, read by index (partial: almost no entry has one).
# Without it PostgreSQL read every future event of everyone to join them. And the contact
# list's order (name, id), so that its first page is read in order, not all contacts sorted
# (issue 22).


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0022_board_keyset_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="interaction",
            index=models.Index(
                condition=models.Q(("calendar_event__isnull", False)),
                fields=["contact", "calendar_event"],
                name="crm_interaction_meetings_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(fields=["name", "id"], name="crm_contact_name_id_idx"),
        ),
    ]
