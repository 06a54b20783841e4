from django.apps import AppConfig


class ShopAppConfig(AppConfig):
    name = "tests.shopapp"
    label = "shopapp"
    default_auto_field = "django.db.models.BigAutoField"
