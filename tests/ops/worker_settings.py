"""Settings for the Celery worker subprocesses started by the ops tests.

The worker must see exactly what the test process sees: the same PostgreSQL test database
(its name arrives in ``TALON_TEST_PG_NAME``, set by the fixture from the live connection),
the emulator the test started (``TALON_TEST_BASE_URL``/``TALON_TEST_API_KEY``) and the
broker and queue under test (``TALON_TEST_BROKER_URL``/``TALON_TEST_QUEUE``). Everything
else comes from tests.settings.
"""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403
from tests.settings import TALON as _BASE_TALON

TALON = {
    **_BASE_TALON,
    "BASE_URL": os.environ.get("TALON_TEST_BASE_URL", _BASE_TALON["BASE_URL"]),
    "API_KEY": os.environ.get("TALON_TEST_API_KEY", _BASE_TALON["API_KEY"]),
    "DELIVERY": "celery",
    # Short retry and sweep delays: the tests wait for recovery, they should not wait long.
    "RETRY_BACKOFF": 0.2,
    "RETRY_BACKOFF_MAX": 1.0,
    "SWEEP_AFTER": 1.0,
    # Generous client timeouts: a call abandoned on timeout keeps running in the server,
    # and the next delivery could then overlap it. The tests run on a loaded 2-core box.
    "TIMEOUT": (3.05, 30.0),
    "IMMEDIATE_TIMEOUT": 10.0,
}

CELERY_BROKER_URL = os.environ.get("TALON_TEST_BROKER_URL", "memory://")
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("TALON_TEST_QUEUE", "celery")

# The beat schedule docs/celery.md recommends, with test-sized intervals (a worker started
# with --beat runs it).
from django_talon.tasks import beat_schedule  # noqa: E402

# In-memory beat scheduler: interval entries lose nothing on restart, and Celery's default
# PersistentScheduler shelve file fails on Python 3.13 (dbm.sqlite3 "locking protocol") when
# beat runs inside a worker that is killed and restarted.
CELERY_BEAT_SCHEDULER = "celery.beat:Scheduler"
CELERY_BEAT_SCHEDULE = beat_schedule(
    relay_seconds=float(os.environ.get("TALON_TEST_RELAY_EVERY", "1")),
    sweep_seconds=float(os.environ.get("TALON_TEST_SWEEP_EVERY", "2")),
)
