from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Holds the ``demo`` management command and the demo data; no models."""

    name = "example_project.demo"
    label = "shop_demo"
