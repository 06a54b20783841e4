"""App configuration: registers system checks, signal receivers and the outbox's built-in
operations when Django is ready."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DjangoTalonConfig(AppConfig):
    name = "django_talon"
    label = "django_talon"
    verbose_name = _("Talon.One")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at module level: they need the app registry. The handlers
        # register the outbox's operations on import; the outbox never imports the services
        # itself (the dependency runs services -> outbox only).
        from django_talon import checks, optional_receivers, receivers
        from django_talon.services import handlers, handlers_extra  # noqa: F401  (register)

        checks.register()
        receivers.connect()
        optional_receivers.connect()  # EVENT_RECEIVERS, AUDIENCE_GROUPS (when configured)
