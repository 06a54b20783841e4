"""What a cart-level discount may be taken from: the ``scope`` of Talon.One's ``setDiscount``.

With cascading discounts, Talon.One names a cart discount's scope: ``cartItems`` (the
items' prices), ``additionalCosts`` (the additional costs: shipping, gift wrap) or
``sessionTotal`` (both). Without it (cascading off) the discount is on the items. The
quote (what the shop charges) and the ledger's booked side both allocate through
:func:`take_cart_discounts`, so a free-shipping discount larger than the items is taken off
the shipping on both sides instead of being capped at the items on one of them.

An unknown scope (the enum is open) is taken off the items, as before scopes existed: it
never takes money off what the shop charges for shipping without being told to.

A per-item discount (``setDiscountPerItem``) has scopes of its own, within its line:
``price`` (the item's price, also without a scope), ``additionalCosts`` (the item's own
additional costs, after their own discounts) or ``itemTotal`` (the price, then those costs):
:func:`take_item_discounts`, the same rule one line at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

__all__ = [
    "ADDITIONAL_COSTS",
    "CART_ITEMS",
    "ITEM_PRICE",
    "ITEM_TOTAL",
    "SESSION_TOTAL",
    "take_cart_discounts",
    "take_item_discounts",
]

CART_ITEMS = "cartItems"
ADDITIONAL_COSTS = "additionalCosts"
SESSION_TOTAL = "sessionTotal"
#: a per-item discount's scopes (``additionalCosts`` is the item's own costs there)
ITEM_PRICE = "price"
ITEM_TOTAL = "itemTotal"

#: a per-item scope as the cart-level scope of the same reach, within one line
_AS_CART_SCOPE = {ADDITIONAL_COSTS: ADDITIONAL_COSTS, ITEM_TOTAL: SESSION_TOTAL}


def take_cart_discounts(
    discounts: Iterable[tuple[str, Decimal]], items_room: Decimal, costs_room: Decimal
) -> list[tuple[Decimal, Decimal]]:
    """Each ``(scope, amount)``, in the order given, as ``(off the items, off the costs)``.

    ``items_room`` is what the items have left after their own discounts; ``costs_room``
    what the additional costs have left after theirs. A discount takes what its scope
    allows while there is room (``sessionTotal``: the items first, then the costs), never
    more than its amount and never below zero; the rooms shrink as they are taken.
    """
    zero = Decimal(0) * items_room
    items_left, costs_left = max(items_room, zero), max(costs_room, zero * costs_room)
    taken: list[tuple[Decimal, Decimal]] = []
    for scope, amount in discounts:
        wanted = max(amount, zero)
        off_items = off_costs = zero
        if scope != ADDITIONAL_COSTS:
            off_items = min(wanted, items_left)
            items_left -= off_items
        if scope in (ADDITIONAL_COSTS, SESSION_TOTAL):
            off_costs = min(wanted - off_items, costs_left)
            costs_left -= off_costs
        taken.append((off_items, off_costs))
    return taken


def take_item_discounts(
    discounts: Iterable[tuple[str, Decimal]], price_room: Decimal, costs_room: Decimal
) -> list[tuple[Decimal, Decimal]]:
    """Each per-item discount of one line, ``(scope, amount)`` in the order given, as ``(off
    the item's price, off the item's own additional costs)``.

    ``price_room`` is the line's subtotal; ``costs_room`` its additional costs after their
    own discounts. ``price``, no scope and an unknown one take from the price only.
    """
    return take_cart_discounts(
        ((_AS_CART_SCOPE.get(scope, CART_ITEMS), amount) for scope, amount in discounts),
        price_room,
        costs_room,
    )
