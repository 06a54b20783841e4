# Written for django-talon: CustomerSession.loyalty_cards (card-based loyalty programs).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("django_talon", "0006_applications"),
    ]

    operations = [
        migrations.AddField(
            model_name="customersession",
            name="loyalty_cards",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
