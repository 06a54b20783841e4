"""The app of the django-oscar integration: checks, and the Talon.One offer after migrate."""

from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class TalonOscarConfig(AppConfig):
    name = "django_talon.contrib.oscar"
    label = "talon_oscar"
    verbose_name = _("Talon.One for django-oscar")
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from django_talon.contrib.oscar import checks  # noqa: F401  (registers them)
        from django_talon.contrib.oscar.offers import on_post_migrate

        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="talon_oscar:offer")
