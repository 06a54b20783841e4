"""Suite-wide pytest configuration.

Strict mode: with ``TALON_STRICT_TESTS=1`` a skipped test (or module) is reported as a
failure, so CI can never go green while silently not running the tests that need
PostgreSQL, Redis, RabbitMQ, Chromium or the spec files. ``xfail`` is not affected.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

from tests.resources import STRICT

#: tests/oscar is a shop of its own (django-oscar's apps, tests/oscar/settings.py): collected
#: only under its settings, in a pass of its own (``make pytest``; noxfile.py).
OSCAR_SETTINGS = "tests.oscar.settings"
collect_ignore = [] if os.environ.get("DJANGO_SETTINGS_MODULE") == OSCAR_SETTINGS else ["oscar"]


def _strict_message(longrepr: Any) -> str:
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return f"TALON_STRICT_TESTS=1 turns this skip into a failure: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[Any]:
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = _strict_message(report.longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[Any]:
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped:
        report.outcome = "failed"
        report.longrepr = _strict_message(report.longrepr)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres`` run only in the PostgreSQL pass (``TALON_TEST_DB=postgres``).

    ``make test`` runs pytest twice: everything else on SQLite, then ``-m postgres`` with
    ``TALON_TEST_DB=postgres``. In the SQLite pass those tests are deselected (not skipped),
    so strict mode stays meaningful for both passes.
    """
    import os

    if os.environ.get("TALON_TEST_DB") == "postgres":
        _skip_everything_without_postgres(items)
        return
    selected = [item for item in items if item.get_closest_marker("postgres") is None]
    deselected = [item for item in items if item.get_closest_marker("postgres") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def _skip_everything_without_postgres(items: list[pytest.Item]) -> None:
    """In the PostgreSQL pass, skip (with the reason) when no server answers.

    Without this, pytest-django would try to create the test database before any test body
    could call ``require_postgres()`` and every test would *error* on a machine without
    PostgreSQL. A skip mark is evaluated before fixtures, so nothing connects; strict mode
    still turns the skips into failures.
    """
    from tests.resources import PG_HOST, PG_PORT, _tcp_reachable

    if _tcp_reachable(PG_HOST, PG_PORT):
        return
    skip = pytest.mark.skip(
        reason=f"PostgreSQL not reachable on {PG_HOST}:{PG_PORT} (set TALON_TEST_PG_HOST/PORT)"
    )
    for item in items:
        item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_caches() -> Generator[None]:
    """Every test starts with empty caches. Code-attempt budgets per IP (every test client is
    127.0.0.1), the circuit breaker, the kill switch and remembered balances live there: left
    over, one test's attempts throttle the next test's coupon (seen only in the full suite)."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()
