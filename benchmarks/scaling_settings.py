"""Settings for benchmarks/outbox_scaling.py: the ops tests' worker settings, plus
``CONN_MAX_AGE`` from ``TALON_BENCH_CONN_MAX_AGE`` (seconds; 0 = Django's default, a new
database connection for every Celery task) and the relay's fan-out from
``TALON_BENCH_FAN_OUT``."""

from __future__ import annotations

import os
from typing import Any

from tests.ops.worker_settings import *  # noqa: F403
from tests.ops.worker_settings import DATABASES as _DATABASES

_CONN_MAX_AGE: Any = int(os.environ.get("TALON_BENCH_CONN_MAX_AGE", "0"))
DATABASES = {
    alias: {**config, "CONN_MAX_AGE": _CONN_MAX_AGE} for alias, config in _DATABASES.items()
}

# The beat a worker started with --beat runs: relay every second, fanned out or not.
from django_talon.tasks import beat_schedule  # noqa: E402

CELERY_BEAT_SCHEDULE = beat_schedule(
    relay_seconds=1.0, fan_out=os.environ.get("TALON_BENCH_FAN_OUT", "0") == "1"
)
