"""What a cart costs after promotions, as the shop records it on the order.

This is the one place where the shop reads django-talon's answer for a cart; the cart
and checkout templates show the same numbers through ``{% load talon %}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.http import HttpRequest

from django_talon import services
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
    #: True while django-talon still waits for Talon.One's answer to the latest cart.
    pending: bool = False

    @property
    def total(self) -> Decimal:
        return max(self.subtotal - self.discount_total, Decimal("0.00"))


def price_cart(request: HttpRequest, cart: Cart) -> CartPricing:
    """The cart's subtotal and the promotions Talon.One granted for it.

    Reads django-talon's mirror (``services.get_promotions``: no API call). The subtotal is
    always the shop's own; discounts count only while the mirror is in step with the cart
    (``in_sync``), so a customer is never charged against an older cart's discounts.
    """
    pricing = CartPricing(subtotal=cart.subtotal)
    stored = services.get_promotions(cart, request=request)
    if not stored.in_sync:
        pricing.pending = True
        return pricing
    summary = stored.summary()
    pricing.discount_total = min(summary.total_discount, pricing.subtotal)
    pricing.line_discounts = {line.sku: line.discount for line in summary.lines if line.discounts}
    pricing.free_items = [
        FreeItem(sku=item.sku, name=item.name or item.sku, quantity=item.desired_quantity)
        for item in summary.free_items
    ]
    pricing.coupon_codes = [result.code for result in summary.accepted_coupons]
    pricing.loyalty_points = summary.points_to_earn
    return pricing
