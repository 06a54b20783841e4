"""What a cart costs after promotions: django-talon's quote, as the shop charges it.

The shop no longer computes its own price from Talon.One's effects. ``services.quote_for_cart``
gives one immutable quote per cart state (no API call: it reads django-talon's mirror); the
cart page and the checkout show it (``{% load talon %}`` shows the same object), checkout
charges ``quote.total`` and the order records the quote (``services.record_order``). A
quote only carries discounts Talon.One confirmed for the cart as it is now, so what the
customer saw is what the order is charged, even while Talon.One is down.

The order page shows line totals that are already net of their item discounts, so its
"Discounts" row is the cart-level part only (:func:`order_totals`): the page adds up.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.http import HttpRequest

from django_talon import services
from example_project.cart.models import Cart
from example_project.orders.models import Order

Quote = services.Quote


def price_cart(request: HttpRequest, cart: Cart) -> Quote:
    """The checkout's quote (what it shows, then charges): ``confirm=True`` delivers a cart
    change still waiting in the outbox first (a coupon applied a moment ago, its delivery
    not done yet), so a customer who goes straight to checkout is quoted with Talon.One's
    answer, not at full price; if Talon.One fails, the quote says so and checkout goes on."""
    return services.quote_for_cart(cart, request=request, confirm=True)


@dataclass(frozen=True)
class OrderTotals:
    """What the order page shows under its lines: they add up to the total."""

    #: The lines' totals, each already net of its item discounts.
    items: Decimal
    #: Discounts that are not on a line (a coupon's percentage off the cart, ...).
    cart_discount: Decimal
    #: Delivery as charged (after a free-shipping promotion).
    shipping: Decimal
    total: Decimal


def order_totals(order: Order) -> OrderTotals:
    """The order page's totals: line totals (net) minus the cart-level discount plus the
    shipping = total."""
    lines = list(order.lines.all())
    items = sum((line.line_total for line in lines), Decimal("0.00"))
    item_discounts = sum((line.discount for line in lines), Decimal("0.00"))
    return OrderTotals(
        items=items,
        cart_discount=order.discount_total - item_discounts,
        shipping=order.shipping,
        total=order.total,
    )
