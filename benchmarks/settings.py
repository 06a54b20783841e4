"""Django settings for the benchmarks: the test settings with a real database file.

``benchmarks/_support.py`` sets the environment before Django starts: the SQLite file
(``TALON_BENCH_SQLITE``) or PostgreSQL (``TALON_BENCH_PG_NAME``), and the emulator URL.
``DEBUG`` stays False so Django keeps no query log (it would grow with the work done).
"""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403
from tests.settings import TALON as _BASE_TALON

DEBUG = False

if os.environ.get("TALON_BENCH_PG_NAME"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ["TALON_BENCH_PG_NAME"],
            "USER": os.environ.get("TALON_TEST_PG_USER", "postgres"),
            "HOST": os.environ.get("TALON_TEST_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("TALON_TEST_PG_PORT", "5432"),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("TALON_BENCH_SQLITE", ":memory:"),
        }
    }

TALON = {
    **_BASE_TALON,
    "BASE_URL": os.environ.get("TALON_BENCH_URL", _BASE_TALON["BASE_URL"]),
    "API_KEY": os.environ.get("TALON_BENCH_API_KEY", _BASE_TALON["API_KEY"]),
    "DELIVERY": "sync",
    # No piggy-backed relay: it would add a query to the journey counts now and then.
    "SYNC_RELAY_INTERVAL": 0,  # type: ignore[dict-item]
}
