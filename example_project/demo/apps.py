from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Holds the ``demo`` management command and the demo data; no models."""

    name = "example_project.demo"
    label = "shop_demo"

    def ready(self) -> None:
        # Make the shop's Celery app the current one before any task is sent. It lives
        # here, not in example_project/__init__.py, so that importing the shop's apps from
        # another settings module (the test suite) never swaps that project's Celery app.
        from example_project import celery  # noqa: F401
