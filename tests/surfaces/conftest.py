"""Fixtures for the display-layer tests: the test shop wired to the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches

from django_talon.testing.django import talon_settings  # noqa: F401  (re-exported fixture)
from tests.core.shop import (  # noqa: F401  (re-exported for the tests)
    ESPRESSO,
    GRINDER,
    KETTLE,
    SHOP_WIRING,
    make_cart,
)

SHOP_TALON: dict[str, Any] = {**SHOP_WIRING, "REFERRAL_CAMPAIGN_ID": 5}


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    """Throttle counters, the breaker and remembered balances live in the cache."""
    for alias in ("default",):
        caches[alias].clear()
    yield
    caches["default"].clear()


@pytest.fixture
def shop(settings: Any, talon_settings: dict[str, Any], talon_emulator: Any) -> Any:  # noqa: F811
    """The test shop (tests/shopapp) delivering synchronously to the emulator."""
    settings.TALON = {**settings.TALON, **SHOP_TALON}
    return talon_emulator
