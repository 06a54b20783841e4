"""Django-side pytest fixtures for shops testing against the emulator.

Import lazily (this module needs Django; ``django_talon.testing.plugin`` must not). In a
shop's ``conftest.py``::

    from django_talon.testing.django import talon_settings  # noqa: F401

then request ``talon_settings`` in a test: ``settings.TALON`` points at the ``talon_emulator``
fixture (BASE_URL/API_KEY), calls are enabled, the circuit breaker and kill switch are reset.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def talon_settings(settings: Any, talon_emulator: Any) -> Iterator[dict[str, Any]]:
    """``settings.TALON`` pointed at the emulator for one test (returns the merged dict)."""
    from django_talon import resilience

    settings.TALON = {
        **(getattr(settings, "TALON", None) or {}),
        "BASE_URL": talon_emulator.url,
        "API_KEY": talon_emulator.api_key,
        "ENABLED": True,
    }
    resilience.reset_clients()
    resilience.breaker.reset()
    resilience.set_kill_switch(False)
    yield dict(settings.TALON)
    resilience.breaker.reset()
    resilience.reset_clients()
