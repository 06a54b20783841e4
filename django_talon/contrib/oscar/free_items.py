"""Talon.One's free items (``addFreeItem``) as zero-price lines of an Oscar basket.

With ``TALON["ADD_FREE_ITEMS"] = True`` the core asks the adapter to add the free item
after Talon.One granted it (``django_talon.services.free_items``). The line is Oscar's own
(``basket.add_product`` of the product whose UPC is the effect's SKU), marked with a line
attribute (the :data:`FREE_OPTION_CODE` option, created on first use), so it never merges
with a line the shopper pays for. It travels to Talon.One at price 0, and the Talon.One
offer discounts its whole price, so Oscar's totals still equal the quote's.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from oscar.core.loading import get_model

from django_talon.contrib.oscar.pricing import ensure_strategy

logger = logging.getLogger("django_talon.contrib.oscar")

FREE_OPTION_CODE = "talon_free_item"
#: The line attribute's value: how a free line is recognised (no extra query per line).
FREE_VALUE = "django-talon free item"


def free_option() -> Any:
    option_model = get_model("catalogue", "Option")
    option, _ = option_model._default_manager.get_or_create(
        code=FREE_OPTION_CODE,
        defaults={"name": "Talon.One free item", "type": option_model.TEXT, "required": False},
    )
    return option


def is_free_line(line: Any) -> bool:
    """A line added for an ``addFreeItem`` effect (its attributes are prefetched by Oscar's
    ``all_lines()`` and by the adapter)."""
    return any(attribute.value == FREE_VALUE for attribute in line.attributes.all())


def add_free_item(basket: Any, effect: Any) -> bool:
    """Add the effect's product (UPC = ``effect.sku``) as a free line; False when there is
    no such product or it cannot be bought (logged: the campaign names a SKU the shop lacks)."""
    product = get_model("catalogue", "Product")._default_manager.filter(upc=effect.sku).first()
    if product is None:
        logger.warning("free item %s: no Oscar product has this UPC", effect.sku)
        return False
    ensure_strategy(basket)
    info = basket.strategy.fetch_for_product(product)
    if not info.availability.is_available_to_buy:
        logger.info("free item %s: not available to buy", effect.sku)
        return False
    quantity = max(int(getattr(effect, "desired_quantity", 1) or 1), 1)
    basket.add_product(product, quantity, options=[{"option": free_option(), "value": FREE_VALUE}])
    # Oscar saves the line before its attribute: the line's own save was mirrored at its
    # full price; now that it is marked free, mirror the basket again (at price 0).
    from django_talon import services

    services.update_cart(basket)
    return True


def remove_free_item(basket: Any, sku: str) -> bool:
    """Delete the free lines of ``sku`` (Talon.One no longer grants them)."""
    removed = False
    for line in basket.lines.filter(product__upc=sku).prefetch_related("attributes"):
        if is_free_line(line):
            line.delete()
            removed = True
    return removed


def free_value(line: Any, unit_price: Decimal) -> Decimal:
    """What a free line is charged off: its whole price."""
    return Decimal(unit_price * int(line.quantity))
