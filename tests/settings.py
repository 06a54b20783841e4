"""Django settings for the test suite.

``TALON_TEST_DB=postgres`` runs on PostgreSQL (127.0.0.1:5432, user postgres, trust auth;
override with ``TALON_TEST_PG_*``); the default is SQLite so that the suite runs anywhere.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "django-talon-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_talon",
    # Test-only cart/order models for the core tests (tests/core); inert unless a test
    # lists them in TALON["CART_MODELS"] / ["ORDER_MODELS"].
    "tests.shopapp",
    # A shop whose lines and orders name their cart ``basket`` (tests/core/test_cart_links.py).
    "tests.basketshop",
    # The example shop's apps (tests/example, tests/browser); they change nothing unless a
    # test points ROOT_URLCONF/TALON at them (tests/example/conftest.py).
    "example_project.catalog",
    "example_project.cart",
    "example_project.orders",
    "example_project.accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

if os.environ.get("TALON_TEST_DB") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("TALON_TEST_PG_NAME", "postgres"),
            "USER": os.environ.get("TALON_TEST_PG_USER", "postgres"),
            "HOST": os.environ.get("TALON_TEST_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("TALON_TEST_PG_PORT", "5432"),
            # One test database per pytest process: two runs at once on one machine (several
            # checkouts, nox and make) must not drop each other's database.
            "TEST": {
                "NAME": os.environ.get(
                    "TALON_TEST_PG_TEST_NAME", f"test_django_talon_{os.getpid()}"
                )
            },
        }
    }
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

# ``TALON_TEST_ATOMIC_REQUESTS=1``: every request in a transaction, as django-oscar shops run
# (`make pytest` repeats tests/core and tests/surfaces this way; docs/adapters.md#transactions).
if os.environ.get("TALON_TEST_ATOMIC_REQUESTS") == "1":
    for _database in DATABASES.values():
        _database["ATOMIC_REQUESTS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Tests create and log in users by the dozen; PBKDF2 is slow on purpose (hundreds of ms per
# hash on a loaded 2-core box), which protects nothing here. tests.ops.worker_settings and the
# other settings modules that import from this one inherit it.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# django_talon.api (the optional DRF extra); tests/surfaces.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
}
SPECTACULAR_SETTINGS = {"TITLE": "django-talon", "VERSION": "0"}
STATIC_URL = "/static/"

# Each test that talks to Talon.One points TALON at the emulator fixture.
TALON = {
    "BASE_URL": "http://127.0.0.1:9",
    "API_KEY": "test-api-key",
}
