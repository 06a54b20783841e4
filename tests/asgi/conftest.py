"""The session-cart shop (tests/asgi/sessionshop.py) wired to the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from django_talon.testing.django import talon_settings  # noqa: F401  (re-exported fixture)
from tests.asgi.sessionshop import SESSION_WIRING

MIDDLEWARE = "django_talon.middleware.TalonRequestMiddleware"


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    """Breaker, kill switch and cached prior prices live in the cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def session_shop(settings: Any, talon_settings: dict[str, Any], talon_emulator: Any) -> Any:  # noqa: F811
    """The session-cart shop's URLs, adapter and TalonRequestMiddleware; the emulator."""
    settings.TALON = {**settings.TALON, **SESSION_WIRING}
    settings.ROOT_URLCONF = "tests.asgi.sessionshop"
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]
    return talon_emulator
