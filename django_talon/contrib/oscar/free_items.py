"""Talon.One's free items (``addFreeItem``) as zero-price lines of an Oscar basket.

With ``TALON["ADD_FREE_ITEMS"] = True`` the core asks the adapter to add the free item
after Talon.One granted it (``django_talon.services.free_items``). The line is Oscar's own
(``basket.add_product`` of the product whose UPC is the effect's SKU), marked with a line
attribute (the :data:`FREE_OPTION_CODE` option, created on first use), so it never merges
with a line the shopper pays for. It travels to Talon.One at price 0, and the Talon.One
offer discounts its whole price, so Oscar's totals still equal the quote's.

Only the units Talon.One grants are free (:func:`granted_quantities`: the effect's checked
``desired_quantity``). The basket formset lets the shopper raise the free line's quantity;
the units above the grant are sent as a second item of the same SKU at the line's price
(:func:`django_talon.contrib.oscar.items.sent_items`), and Oscar charges them at that
price: what Oscar charges is what Talon.One books.
"""

from __future__ import annotations

import logging
from typing import Any

from oscar.core.loading import get_model

from django_talon.client.effects import AddFreeItem, decode_effects
from django_talon.contrib.oscar.pricing import ensure_strategy
from django_talon.promotions.building import free_item_quantity
from django_talon.promotions.money import UnusableAmountError

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
    """Talon.One no longer grants ``sku``: take its free units out of the basket.

    The units the session last sent at price 0 go; a free line the shopper raised above the
    grant keeps the units they added (sent and charged at their price) as an ordinary paid
    line, merged into their paid line of the product when there is one.
    """
    from django_talon import services

    session = services.session_for_cart(basket, create=False)
    free_left = sum(
        int(item.get("quantity") or 0)
        for item in (session.cart_items if session is not None else None) or []
        if isinstance(item, dict) and item.get("sku") == sku and not float(item.get("price") or 0)
    )
    removed = False
    for line in basket.lines.filter(product__upc=sku).prefetch_related("attributes"):
        if not is_free_line(line):
            continue
        free = min(int(line.quantity), free_left)
        free_left -= free
        paid = int(line.quantity) - free
        if paid > 0:
            _keep_as_paid(basket, line, paid)
        else:
            line.delete()
        removed = True
    return removed


def _keep_as_paid(basket: Any, line: Any, quantity: int) -> None:
    """``line`` without its free mark, ``quantity`` units: Oscar's plain line of the product."""
    line.attributes.filter(value=FREE_VALUE).delete()
    reference = basket._create_line_reference(line.product, line.stockrecord, [])
    paid = basket.lines.filter(line_reference=reference).exclude(pk=line.pk).first()
    if paid is not None:
        paid.quantity += quantity
        paid.save()
        line.delete()
        return
    line.line_reference = reference
    line.quantity = quantity
    line.save()


def granted_quantities(basket: Any) -> dict[str, int]:
    """SKU -> the units Talon.One's last answer for the basket's session grants free
    (``addFreeItem``'s checked ``desired_quantity``; two campaigns granting one SKU: the
    larger, as the quote's free items say). One query.

    The last answer's effects, whatever the quote's status: the grant does not change while
    the shopper's change is on its way, and reading it only from a confirmed quote would
    send the free units at full price while a change is pending, then at 0 again once the
    answer is in, for ever. A grant whose quantity is unusable grants nothing
    (``services.free_items`` records it as a cart ``SyncProblem``).
    """
    from django_talon import services

    session = services.session_for_cart(basket, create=False)
    if session is None:
        return {}
    granted: dict[str, int] = {}
    for effect in decode_effects(session.effects or []):
        if not isinstance(effect, AddFreeItem) or not effect.sku:
            continue
        try:
            quantity = free_item_quantity(effect)
        except UnusableAmountError:
            continue
        granted[effect.sku] = max(granted.get(effect.sku, 0), quantity)
    return granted
