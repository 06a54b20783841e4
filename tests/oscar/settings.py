"""A real django-oscar 4.2 shop wired to django-talon, as docs/oscar.md sets one up.

``DJANGO_SETTINGS_MODULE=tests.oscar.settings pytest tests/oscar`` (``make pytest`` runs it
on SQLite and on PostgreSQL with ``TALON_TEST_DB=postgres``). ``ATOMIC_REQUESTS = True`` as
Oscar recommends; the main suite never collects tests/oscar (tests/conftest.py).
"""

from __future__ import annotations

import os

from oscar import INSTALLED_APPS as OSCAR_APPS
from oscar.defaults import *  # noqa: F403  (Oscar's documented way to get its settings)

from django_talon.contrib.oscar import TALON_WIRING
from django_talon.contrib.oscar.navigation import NAVIGATION_ENTRY

SECRET_KEY = "django-talon-oscar-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
SITE_ID = 1

# django-talon's Oscar app first: its basket partials take precedence over Oscar's.
INSTALLED_APPS = [
    "django_talon.contrib.oscar",
    *OSCAR_APPS,
    "django_talon",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Oscar's BasketMiddleware, carrying the guest's Talon.One codes when baskets merge.
    "django_talon.contrib.oscar.middleware.BasketMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
]

ROOT_URLCONF = "tests.oscar.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.template.context_processors.i18n",
                "django.contrib.messages.context_processors.messages",
                "oscar.apps.search.context_processors.search_form",
                "oscar.apps.checkout.context_processors.checkout",
                "oscar.apps.communication.notifications.context_processors.notifications",
                "oscar.core.context_processors.metadata",
            ]
        },
    }
]

AUTHENTICATION_BACKENDS = [
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
]

HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}

if os.environ.get("TALON_TEST_DB") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("TALON_TEST_PG_NAME", "postgres"),
            "USER": os.environ.get("TALON_TEST_PG_USER", "postgres"),
            "HOST": os.environ.get("TALON_TEST_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("TALON_TEST_PG_PORT", "5432"),
            "ATOMIC_REQUESTS": True,
            "TEST": {
                "NAME": os.environ.get(
                    "TALON_TEST_PG_TEST_NAME", f"test_django_talon_oscar_{os.getpid()}"
                )
            },
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": ":memory:",
            "ATOMIC_REQUESTS": True,
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATIC_URL = "/static/"
MEDIA_URL = "/media/"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

OSCAR_DEFAULT_CURRENCY = "EUR"
OSCAR_SEND_REGISTRATION_EMAIL = False
OSCAR_INITIAL_ORDER_STATUS = "Pending"
OSCAR_INITIAL_LINE_STATUS = "Pending"
OSCAR_ORDER_STATUS_PIPELINE = {
    "Pending": ("Being processed", "Cancelled"),
    "Being processed": ("Complete", "Cancelled"),
    "Complete": (),
    "Cancelled": (),
}
OSCAR_DASHBOARD_NAVIGATION = [*OSCAR_DASHBOARD_NAVIGATION, NAVIGATION_ENTRY]  # noqa: F405

# Each test points BASE_URL/API_KEY at the emulator (the talon_settings fixture).
TALON = {
    "BASE_URL": "http://127.0.0.1:9",
    "API_KEY": "test-api-key",
    "CURRENCY": "EUR",
    "DELIVERY": "sync",
    **TALON_WIRING,
}
TALON_OSCAR = {"TAX_MODE": "incl_tax", "OSCAR_OFFERS": "off"}
