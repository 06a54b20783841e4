"""Fixtures for the core tests: the shop wiring, the real client over a recording transport,
the emulator wiring."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from django_talon import resilience, services
from django_talon.models import CustomerSession
from django_talon.testing.django import talon_settings  # noqa: F401  (re-exported fixture)
from tests.core.recording import RecordingClient
from tests.core.shop import (  # noqa: F401  (re-exported for the tests)
    ESPRESSO,
    GRINDER,
    KETTLE,
    SHOP_WIRING,
    make_cart,
)

SHOP_TALON: dict[str, Any] = {**SHOP_WIRING, "MAX_ATTEMPTS": 3, "BREAKER_THRESHOLD": 3}


@pytest.fixture(autouse=True)
def _clean_state() -> Iterator[None]:
    """Breaker, kill switch and relay timestamps live in the cache: start every test clean."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def shop(settings: Any, talon_settings: dict[str, Any], talon_emulator: Any) -> Any:  # noqa: F811
    """The test shop wired to the emulator; returns the emulator handle."""
    settings.TALON = {**settings.TALON, **SHOP_TALON}
    return talon_emulator


@pytest.fixture
def shop_settings(settings: Any) -> dict[str, Any]:
    """TALON wired to the test shop (tests/shopapp), sync delivery, no emulator."""
    settings.TALON = {**settings.TALON, **SHOP_TALON}
    return dict(settings.TALON)


#: The old name: tests annotate ``fake_client: FakeClient``.
FakeClient = RecordingClient


@pytest.fixture
def fake_client(
    monkeypatch: pytest.MonkeyPatch, shop_settings: dict[str, Any]
) -> Iterator[RecordingClient]:
    """Every Talon.One call goes to the real client over a recording HTTP layer
    (tests/core/recording.py): validated, encoded and decoded as in production.

    ``resilience.get_client`` is patched, so ``resilience.guarded()`` (which calls it through
    the module global) hands out this client too. The test fails afterwards when a request
    or a canned answer broke the spec, or an operation had no canned answer: such a problem
    may have been swallowed by the outbox's retry handling.
    """
    client = RecordingClient()
    monkeypatch.setattr(resilience, "get_client", lambda **kw: client)
    resilience.breaker.reset()
    yield client
    assert client.problems == [], "\n".join(client.problems)


def queued_session(settings: Any, code: str) -> tuple[Any, CustomerSession]:
    """A cart (with ESPRESSO) whose session has ``code`` queued and undelivered: the kill
    switch is on while the coupon is applied, so the outbox rows stay pending."""
    settings.TALON = {**settings.TALON, "ENABLED": False}
    cart = make_cart(items=[ESPRESSO])
    session = services.apply_coupon(cart, code)
    settings.TALON = {**settings.TALON, "ENABLED": True}
    return cart, session
