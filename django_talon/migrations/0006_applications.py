# Written for django-talon: the Talon.One Application of sessions, profiles and outbox rows
# (TALON["APPLICATIONS"]). Existing rows are the one Application a shop had: "default".

from django.db import migrations, models


def _field(where: str) -> models.CharField:
    return models.CharField(
        "Talon.One Application",
        max_length=50,
        default="default",
        db_index=True,
        help_text=f"The name in TALON['APPLICATIONS'] {where} ('default': the only one).",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("django_talon", "0005_session_points_to_redeem"),
    ]

    operations = [
        migrations.AddField(
            model_name="customersession",
            name="application",
            field=_field("this session lives in"),
        ),
        migrations.AddField(
            model_name="customerprofile",
            name="application",
            field=_field("this profile is written through"),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="application",
            field=_field("this row is delivered to"),
        ),
    ]
