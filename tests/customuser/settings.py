"""tests.settings with ``AUTH_USER_MODEL = "customuser.Member"`` (a UUID key) and only the
apps the admin and the REST API need (the test shops' models point at the user model and
need not follow)."""

from __future__ import annotations

from tests.settings import *  # noqa: F403

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_talon",
    "tests.customuser",
]
AUTH_USER_MODEL = "customuser.Member"
ROOT_URLCONF = "tests.customuser.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
# No Talon.One here: the profiles and reservations are rows to search, nothing is sent.
TALON = {"ENABLED": False, "SYNC_PROFILES_ON_SAVE": False}
