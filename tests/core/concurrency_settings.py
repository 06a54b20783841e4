"""Settings of the writer subprocesses of tests/core/test_concurrency.py.

Each writer must see what the test process sees: the PostgreSQL test database pytest-django
created (its name in ``TALON_TEST_PG_NAME``), the emulator the test started
(``TALON_TEST_BASE_URL``/``TALON_TEST_API_KEY``) and the test shop's wiring (tests/shopapp),
delivering synchronously like a shop without Celery. Everything else is tests.settings.
"""

from __future__ import annotations

import os

from tests.core.shop import SHOP_WIRING
from tests.settings import *  # noqa: F403
from tests.settings import TALON as _BASE_TALON

TALON = {
    **_BASE_TALON,
    **SHOP_WIRING,
    "BASE_URL": os.environ.get("TALON_TEST_BASE_URL", _BASE_TALON["BASE_URL"]),
    "API_KEY": os.environ.get("TALON_TEST_API_KEY", _BASE_TALON["API_KEY"]),
    # A loaded 2-core box: a slow answer must not count as an outage here.
    "TIMEOUT": (3.05, 30.0),
    "IMMEDIATE_TIMEOUT": 10.0,
}
