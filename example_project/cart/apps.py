from django.apps import AppConfig


class CartConfig(AppConfig):
    name = "example_project.cart"
    label = "cart"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Login merges the guest cart into the customer's cart (see cart.services).
        from example_project.cart import signals  # noqa: F401
