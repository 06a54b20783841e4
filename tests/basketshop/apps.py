from django.apps import AppConfig


class BasketShopConfig(AppConfig):
    name = "tests.basketshop"
    label = "basketshop"
    default_auto_field = "django.db.models.BigAutoField"
