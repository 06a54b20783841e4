"""Fixtures for the display-layer tests: the test shop wired to the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import caches

from django_talon.testing.django import talon_settings  # noqa: F401  (re-exported fixture)

SHOP_TALON: dict[str, Any] = {
    "DELIVERY": "sync",
    "SYNC_RELAY_INTERVAL": 0,
    "ADAPTER": "tests.shopapp.adapters.ShopAdapter",
    "CART_MODELS": ["shopapp.Cart"],
    "CART_ITEM_MODELS": ["shopapp.CartItem"],
    "ORDER_MODELS": ["shopapp.Order"],
    "REFERRAL_CAMPAIGN_ID": 5,
}

ESPRESSO = ("ESPRESSO-250", "Espresso beans 250 g", "8.50", 2, "coffee")
GRINDER = ("GRINDER-X", "Grinder X", "89.00", 1, "equipment")
KETTLE = ("KETTLE-GOOSENECK", "Gooseneck kettle", "45.00", 1, "equipment")


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


def make_cart(user: Any = None, items: list[tuple[str, str, str, int, str]] | None = None) -> Any:
    """A shop cart; each item save fires the receivers (session pushed to Talon.One)."""
    from tests.shopapp.models import Cart, CartItem

    cart = Cart.objects.create(user=user)
    for sku, name, price, quantity, category in items or []:
        CartItem.objects.create(
            cart=cart, sku=sku, name=name, price=Decimal(price), quantity=quantity,
            category=category,
        )  # fmt: skip
    return cart
