"""Fixtures for the core tests: the shop wiring, a recording fake client, the emulator wiring."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.cache import cache

from django_talon import resilience, services
from django_talon.models import CustomerSession
from django_talon.testing.django import talon_settings  # noqa: F401  (re-exported fixture)
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


@dataclass
class _State:
    raw: dict[str, Any]
    effects: list[Any] = field(default_factory=list)


@dataclass
class _Referral:
    code: str
    id: int
    raw: dict[str, Any]


class FakeClient:
    """Records every call; ``fail`` makes the next calls raise; answers with canned effects."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.fail: BaseException | None = None
        self.effects: list[dict[str, Any]] = []

    def _call(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append((name, args, kwargs))
        if self.fail is not None:
            raise self.fail

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]

    def update_customer_session_v2(self, session_id: str, body: Any, **kw: Any) -> _State:
        self._call("update_customer_session_v2", session_id, body, **kw)
        effects = list(self.effects)
        for code in body.get("couponCodes", []):
            if code == "BOGUS":
                effects.append(
                    {
                        "effectType": "rejectCoupon",
                        "props": {"value": code, "rejectionReason": "CouponNotFound"},
                    }
                )
        return _State(raw={"effects": effects})

    def update_customer_profile_v2(self, integration_id: str, attributes: Any, **kw: Any) -> None:
        self._call("update_customer_profile_v2", integration_id, attributes)

    def return_cart_items(self, session_id: str, items: Any, **kw: Any) -> _State:
        self._call("return_cart_items", session_id, items, **kw)
        return _State(raw={"effects": []})

    def reopen_customer_session(self, session_id: str) -> _State:
        self._call("reopen_customer_session", session_id)
        return _State(raw={"effects": []})

    def create_coupon_reservation(self, code: str, ids: Any) -> None:
        self._call("create_coupon_reservation", code, ids)

    def delete_coupon_reservation(self, code: str, ids: Any) -> None:
        self._call("delete_coupon_reservation", code, ids)

    def delete_customer_data(self, integration_id: str) -> None:
        self._call("delete_customer_data", integration_id)

    def create_referral(self, campaign_id: int, advocate: str, **kw: Any) -> _Referral:
        self._call("create_referral", campaign_id, advocate, **kw)
        return _Referral(code="REF-1234", id=1, raw={"code": "REF-1234"})


@pytest.fixture
def fake_client(monkeypatch: pytest.MonkeyPatch, shop_settings: dict[str, Any]) -> FakeClient:
    """Every delivery goes to a recording fake instead of HTTP."""
    client = FakeClient()
    monkeypatch.setattr(resilience, "get_client", lambda **kw: client)
    resilience.breaker.reset()
    return client


def queued_session(settings: Any, code: str) -> tuple[Any, CustomerSession]:
    """A cart (with ESPRESSO) whose session has ``code`` queued and undelivered: the kill
    switch is on while the coupon is applied, so the outbox rows stay pending."""
    settings.TALON = {**settings.TALON, "ENABLED": False}
    cart = make_cart(items=[ESPRESSO])
    session = services.apply_coupon(cart, code)
    settings.TALON = {**settings.TALON, "ENABLED": True}
    return cart, session
