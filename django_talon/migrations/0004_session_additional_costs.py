# Written for django-talon: CustomerSession.additional_costs and free_items_added.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("django_talon", "0003_sync_problems"),
    ]

    operations = [
        migrations.AddField(
            model_name="customersession",
            name="additional_costs",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="customersession",
            name="free_items_added",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
