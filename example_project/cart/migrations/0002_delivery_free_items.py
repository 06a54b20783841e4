from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cart", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="cart",
            name="delivery",
            field=models.CharField(
                choices=[
                    ("pickup", "Collect in store (free)"),
                    ("standard", "Standard delivery"),
                ],
                default="pickup",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="cartitem",
            name="free",
            field=models.BooleanField(default=False),
        ),
    ]
