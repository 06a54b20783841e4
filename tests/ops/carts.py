"""A minimal shop cart for the ops tests: just enough for the default adapter.

The default :class:`~django_talon.adapters.TalonAdapter` needs ``_meta.label_lower`` and
``pk`` (the cart key), ``user`` (None = anonymous) and ``talon_cart_items()``. Using a plain
object keeps the worker tests independent of any shop models.
"""

from __future__ import annotations

from typing import Any


class _Meta:
    label_lower = "ops_tests.cart"


class OpsCart:
    """Cart ``pk`` holding ``quantity`` units of one coffee (the quantity marks the version)."""

    _meta = _Meta()

    def __init__(self, pk: int, quantity: int) -> None:
        self.pk = pk
        self.quantity = quantity
        self.user = None

    def talon_cart_items(self) -> list[dict[str, Any]]:
        return [
            {
                "sku": "ESPRESSO-250",
                "name": "Espresso 250g",
                "price": 8.5,
                "quantity": self.quantity,
                "category": "coffee",
            }
        ]
