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

from django_talon.contrib.oscar.free_items import is_free_line
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


def sent_items(lines: Iterable[Any], incl_tax: bool) -> list[SentItem]:
    """The items sent for ``lines``, in their order: quantity at least 1 and a known price
    (an unavailable product is left out); a free line (``ADD_FREE_ITEMS``) at price 0."""
    items: list[SentItem] = []
    for line in lines:
        price = line_price(line, incl_tax)
        if line.quantity < 1 or price is None:
            continue
        free = is_free_line(line)
        items.append(
            SentItem(
                line=line,
                sku=line_sku(line),
                quantity=int(line.quantity),
                price=ZERO if free else price,
                unit_price=price,
                free=free,
            )
        )
    return items
