"""The test shop (tests/shopapp) as the core and display-layer tests wire and fill it.

One place for the shop's TALON wiring, its products and the cart builder, so the layers test
against the same shop; each conftest adds only the settings its tests are about.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

#: TALON settings that point the app at the test shop's models, delivering synchronously.
SHOP_WIRING: dict[str, Any] = {
    "DELIVERY": "sync",
    "SYNC_RELAY_INTERVAL": 0,
    "ADAPTER": "tests.shopapp.adapters.ShopAdapter",
    "CART_MODELS": ["shopapp.Cart"],
    "CART_ITEM_MODELS": ["shopapp.CartItem"],
    "ORDER_MODELS": ["shopapp.Order"],
}

ESPRESSO = ("ESPRESSO-250", "Espresso beans 250 g", "8.50", 2, "coffee")
GRINDER = ("GRINDER-X", "Grinder X", "89.00", 1, "equipment")
KETTLE = ("KETTLE-GOOSENECK", "Gooseneck kettle", "45.00", 1, "equipment")


def make_cart(user: Any = None, items: list[tuple[str, str, str, int, str]] | None = None) -> Any:
    """A shop cart with items ``(sku, name, price, quantity, category)`` (saved one by one,
    as a shop would; each save fires the receivers when TALON wires the shop models)."""
    from tests.shopapp.models import Cart, CartItem

    cart = Cart.objects.create(user=user)
    for sku, name, price, quantity, category in items or []:
        CartItem.objects.create(
            cart=cart,
            sku=sku,
            name=name,
            price=Decimal(price),
            quantity=quantity,
            category=category,
        )
    return cart
