"""App configuration: registers system checks and signal receivers when Django is ready."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DjangoTalonConfig(AppConfig):
    name = "django_talon"
    label = "django_talon"
    verbose_name = _("Talon.One")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at module level: both need the app registry.
        from django_talon import checks, receivers

        checks.register()
        receivers.connect()
