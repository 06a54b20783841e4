"""The adapter for django-oscar: Basket, Line, Order and User as Talon.One sees them.

``TALON["ADAPTER"] = "django_talon.contrib.oscar.adapter.OscarAdapter"``. What it answers:

* **open baskets only**: ``cart_is_open`` is true for a saved basket in Oscar's ``Open``
  status; saved ("save for later"), frozen (checkout in progress), merged and submitted
  baskets never open a session, and an unsaved ``Basket()`` (every cookie-less visitor
  gets one) is no cart at all (``cart_for_request`` answers None for it).
* **prices as Oscar's strategy gives them**: each line's ``unit_price_incl_tax`` or
  ``unit_price_excl_tax`` (``TALON_OSCAR["TAX_MODE"]``); a line whose tax Oscar does not
  know yet (a deferred-tax strategy) is sent excluding tax, and a line without a price
  (unavailable product) is left out. The discounts are charged in the same mode
  (:mod:`django_talon.contrib.oscar.charging`).
* **sku**: the product's UPC, else the stock record's partner SKU, else ``product-<pk>``;
  category: the product's first category's name.
* **free items** (``TALON["ADD_FREE_ITEMS"]``): lines of the product whose UPC is the
  effect's SKU, the granted units sent at price 0 and any units the shopper added to the
  line at its price (:mod:`django_talon.contrib.oscar.free_items`).
* **orders**: the order's status through ``TALON_OSCAR["ORDER_STATUS_MAP"]`` (statuses not
  listed: ``DEFAULT_ORDER_STATE``, ``closed``), its cart is ``order.basket``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from oscar.core.loading import get_model

from django_talon.adapters import TalonAdapter
from django_talon.cart_links import on_write_alias
from django_talon.contrib.oscar.conf import oscar_settings
from django_talon.contrib.oscar.free_items import add_free_item, remove_free_item
from django_talon.contrib.oscar.items import sent_items
from django_talon.contrib.oscar.pricing import ensure_strategy

logger = logging.getLogger("django_talon.contrib.oscar")

if TYPE_CHECKING:
    from django.http import HttpRequest


def fresh_lines(basket: Any) -> list[Any]:
    """The basket's lines read now (not ``all_lines()``'s cache, which a line saved a moment
    ago may not be in yet), in Oscar's line order, with the basket's strategy."""
    ensure_strategy(basket)
    # on the write alias: a read replica does not see the line saved a moment ago
    lines = list(
        on_write_alias(basket.lines, basket)
        .select_related("product", "stockrecord")
        .prefetch_related("attributes")
    )
    for line in lines:
        line.basket = basket
    return lines


class OscarAdapter(TalonAdapter):
    """Oscar's Basket, Line, Order and User (docs/oscar.md)."""

    # -- carts ----------------------------------------------------------------------------
    def cart_is_open(self, cart: Any) -> bool:
        """A saved basket in Oscar's ``Open`` status; every other status is finished."""
        basket_model = get_model("basket", "Basket")
        return cart is not None and cart.pk is not None and cart.status == basket_model.OPEN

    def cart_items(self, cart: Any) -> list[dict[str, Any]]:
        """The basket's lines as :func:`~django_talon.contrib.oscar.items.sent_items` sends
        them (the Talon.One offer charges a quote only for exactly these)."""
        if cart.pk is None:
            return []
        items: list[dict[str, Any]] = []
        for sent in sent_items(cart, fresh_lines(cart), oscar_settings().incl_tax):
            line = sent.line
            item: dict[str, Any] = {
                "sku": sent.sku,
                "name": str(line.product.get_title() or sent.sku),
                "quantity": sent.quantity,
                "price": float(sent.price),
            }
            category = line.product.get_categories().first()
            if category is not None:
                item["category"] = str(category.name)
            items.append(item)
        return items

    def cart_user(self, cart: Any) -> Any | None:
        owner = getattr(cart, "owner", None)
        if owner is not None and owner.pk:
            return owner
        return None

    def cart_user_id(self, cart: Any) -> Any | None:
        """``basket.owner_id``: no query for the owner on every basket change."""
        return getattr(cart, "owner_id", None) or None

    def add_free_item(self, cart: Any, effect: Any) -> bool:
        """``TALON["ADD_FREE_ITEMS"]``: the product whose UPC is the effect's SKU, as a
        zero-price line (:mod:`django_talon.contrib.oscar.free_items`)."""
        return self.cart_is_open(cart) and add_free_item(cart, effect)

    def remove_free_item(self, cart: Any, sku: str) -> bool:
        return self.cart_is_open(cart) and remove_free_item(cart, sku)

    def cart_for_item(self, item: Any) -> Any | None:
        return getattr(item, "basket", None)

    def cart_merged_into(self, cart: Any) -> Any | None:
        """The basket a merged basket went into, as marked by this app's ``BasketMiddleware``
        (Oscar keeps no such link; without that middleware the guest's codes are not
        carried at the merge, only at login through ``cart_for_user``)."""
        from django_talon.contrib.oscar.middleware import MERGED_INTO

        return getattr(cart, MERGED_INTO, None)

    def cart_for_user(self, user: Any) -> Any | None:
        """The customer's open basket (created like Oscar's ``BasketMiddleware`` does): at
        login the guest's codes move to its session, which is where Oscar merges the
        guest's lines on the next request."""
        basket_model = get_model("basket", "Basket")
        basket = basket_model.open.filter(owner=user).order_by("id").first()
        if basket is None:
            basket = basket_model.open.create(owner=user)
        return basket

    def cart_for_request(self, request: HttpRequest) -> Any | None:
        """``request.basket`` (set by Oscar's ``BasketMiddleware``) once it is saved: an
        unsaved basket is every new visitor's, and must never stand for one of them."""
        basket = getattr(request, "basket", None)
        if basket is None or getattr(basket, "pk", None) is None:
            return None
        return basket if self.cart_is_open(basket) else None

    # -- orders ---------------------------------------------------------------------------
    def order_session_state(self, order: Any) -> str | None:
        conf = oscar_settings()
        status = str(getattr(order, "status", "") or "")
        if status in conf.ORDER_STATUS_MAP:
            return conf.ORDER_STATUS_MAP[status]
        return conf.DEFAULT_ORDER_STATE

    def order_cart(self, order: Any) -> Any | None:
        return getattr(order, "basket", None)

    def order_charged_quote(self, order: Any, quote: Any) -> Any:
        """Oscar charges Talon.One's discounts only through the Talon.One offer: while staff
        have it suspended (or it is outside its dates), the order was charged full price,
        and the ledger and the close say so (``services.uncharged_quote``)."""
        from django_talon import services
        from django_talon.contrib.oscar.offers import NOT_APPLIED, talon_offer_applies

        if not (quote.discount_total or quote.free_items) or talon_offer_applies():
            return quote
        logger.warning("order %s: %s", getattr(order, "number", order), NOT_APPLIED)
        return services.uncharged_quote(quote, NOT_APPLIED)

    def order_session_id(self, order: Any) -> str | None:
        return None
