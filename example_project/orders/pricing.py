"""What a cart costs after promotions, as the shop records it on the order.

This is the one place where the shop reads django-talon's answer for a cart; the cart
and checkout templates show the same numbers through ``{% load talon %}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.http import HttpRequest

from example_project.cart.models import Cart


@dataclass
class FreeItem:
    sku: str
    name: str
    quantity: int


@dataclass
class CartPricing:
    subtotal: Decimal
    discount_total: Decimal = Decimal("0.00")
    line_discounts: dict[str, Decimal] = field(default_factory=dict)
    free_items: list[FreeItem] = field(default_factory=list)
    coupon_codes: list[str] = field(default_factory=list)
    loyalty_points: Decimal = Decimal("0")

    @property
    def total(self) -> Decimal:
        return max(self.subtotal - self.discount_total, Decimal("0.00"))


def price_cart(request: HttpRequest, cart: Cart) -> CartPricing:
    """The cart's subtotal and the promotions Talon.One granted for it."""
    return CartPricing(subtotal=cart.subtotal)
