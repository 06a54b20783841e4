"""The cart items django-talon sends to Talon.One for an Oscar basket, line by line.

One function (:func:`sent_items`) for both sides: the adapter's ``cart_items`` builds the
session's items from it, and the Talon.One offer (:mod:`django_talon.contrib.oscar.charging`)
charges a quote only when the quote's lines are these items as they would be sent *now*
(sku, quantity and unit price): a stock record's price changed in the dashboard changes no
basket line, so the mirror still has the old price until the offer notices.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django_talon.contrib.oscar.free_items import granted_quantities, is_free_line
from django_talon.contrib.oscar.pricing import line_price, line_sku

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class SentItem:
    """One cart item as sent: part or all of one Oscar ``line``."""

    line: Any
    sku: str
    quantity: int
    #: The unit price sent (0.00 for a free item's units).
    price: Decimal
    #: The line's own unit price in the charged tax mode (what a free unit's discount is).
    unit_price: Decimal
    free: bool = False


def sent_items(basket: Any, lines: Iterable[Any], incl_tax: bool) -> list[SentItem]:
    """The items sent for ``basket``'s ``lines``, in their order: quantity at least 1 and a
    known price (an unavailable product is left out).

    A free line (``ADD_FREE_ITEMS``) is sent as the units Talon.One grants at price 0
    (:func:`~django_talon.contrib.oscar.free_items.granted_quantities`, read only when the
    basket has a free line) and, when the shopper raised its quantity above the grant, the
    other units at the line's price: only the granted units are free.
    """
    lines = list(lines)
    granted: dict[str, int] | None = None
    items: list[SentItem] = []
    for line in lines:
        price = line_price(line, incl_tax)
        if line.quantity < 1 or price is None:
            continue
        sku, quantity = line_sku(line), int(line.quantity)
        if not is_free_line(line):
            items.append(SentItem(line, sku, quantity, price, price))
            continue
        if granted is None:
            granted = granted_quantities(basket)
        free = min(quantity, granted.get(sku, 0))
        if free:
            items.append(SentItem(line, sku, free, ZERO, price, free=True))
        if quantity > free:
            items.append(SentItem(line, sku, quantity - free, price, price))
    return items
