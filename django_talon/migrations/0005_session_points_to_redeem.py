# Written for django-talon: CustomerSession.points_to_redeem (paying with loyalty points).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("django_talon", "0004_session_additional_costs"),
    ]

    operations = [
        migrations.AddField(
            model_name="customersession",
            name="points_to_redeem",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
    ]
