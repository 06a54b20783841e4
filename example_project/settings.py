"""Settings for the example shop.

Everything a developer might change for the demo comes from the environment so that
``manage.py demo``, the browser tests and a production-shaped deployment run the same
code: ``SHOP_DB`` (SQLite file), ``TALON_BASE_URL`` / ``TALON_API_KEY`` (the emulator by
default) and ``CELERY_BROKER_URL`` (unset: Celery runs tasks eagerly, in-process).
"""

from __future__ import annotations

import os
from pathlib import Path

from django_talon.tasks import beat_schedule

BASE_DIR = Path(__file__).resolve().parent
REPO_DIR = BASE_DIR.parent

# The demo is a local tool; a real shop reads its secret from the environment.
SECRET_KEY = os.environ.get("SHOP_SECRET_KEY", "example-shop-demo-key-not-for-production")
DEBUG = os.environ.get("SHOP_DEBUG", "1") not in ("", "0", "false", "no")
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

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
    "example_project.catalog",
    "example_project.cart",
    "example_project.orders",
    "example_project.accounts",
    "example_project.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "example_project.cart.context_processors.cart",
            ]
        },
    }
]

WSGI_APPLICATION = "example_project.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SHOP_DB", str(REPO_DIR / "example_shop.sqlite3")),
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "catalog:list"
LOGOUT_REDIRECT_URL = "catalog:list"

SHOP_CURRENCY = "EUR"
#: Standard delivery, sent to Talon.One as the "shipping" additional cost.
SHOP_SHIPPING_FEE = os.environ.get("SHOP_SHIPPING_FEE", "4.90")

# Celery: without a broker, tasks run eagerly inside the web process (the demo); with
# CELERY_BROKER_URL set (redis://... or amqp://...), a worker and beat deliver them.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULE = beat_schedule(relay_seconds=10, sweep_seconds=60)

# django-talon: the emulator started by `manage.py demo` unless told otherwise. The model
# lists switch on the signal receivers: a saved cart (or cart line) updates its Talon.One
# customer session, a saved order closes or cancels it (see talon_adapter.py).
TALON = {
    "BASE_URL": os.environ.get("TALON_BASE_URL", "http://127.0.0.1:9100"),
    "API_KEY": os.environ.get("TALON_API_KEY", "local-dev-key"),
    "CURRENCY": SHOP_CURRENCY,
    "ADAPTER": "example_project.talon_adapter.ShopTalonAdapter",
    "CART_MODELS": ["cart.Cart"],
    "CART_ITEM_MODELS": ["cart.CartItem"],
    "ORDER_MODELS": ["orders.Order"],
    # The demo campaigns' "Refer a friend" campaign (used by "my coupons").
    "REFERRAL_CAMPAIGN_ID": 5,
    # The demo's Coffee Club: balance, history and "use my points" (campaign 9 spends them).
    "LOYALTY_PROGRAM_ID": 1,
    # The free tote (demo campaign 2) goes into the cart at price 0 (adapter.add_free_item).
    "ADD_FREE_ITEMS": os.environ.get("SHOP_ADD_FREE_ITEMS", "1") not in ("", "0", "false", "no"),
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Bean There (django-talon example shop) API",
    "VERSION": "1.0",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django_talon": {"handlers": ["console"], "level": "INFO"},
        "example_project": {"handlers": ["console"], "level": "INFO"},
    },
}
