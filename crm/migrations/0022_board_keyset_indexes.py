# The pipeline board pages each column by keyset on (sort key, id): these partial indexes
# (open deals only) let a page walk one stage's entries from the cursor and stop after it.

import datetime
import django.db.models.functions.comparison
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0021_activity_hours'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='deal',
            index=models.Index(models.F('stage'), django.db.models.functions.comparison.Coalesce('expected_close_date', models.Value(datetime.date(9999, 12, 31))), models.F('id'), condition=models.Q(('status', 'open')), name='crm_deal_open_stage_close_idx'),
        ),
        migrations.AddIndex(
            model_name='deal',
            index=models.Index(condition=models.Q(('status', 'open')), fields=['stage', 'value_cents', 'id'], name='crm_deal_open_stage_value_idx'),
        ),
    ]
