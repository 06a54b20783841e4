"""How a shop's own user, cart and order objects become Talon.One payloads.

django-talon never assumes a cart or order model. One adapter class, configured by dotted
path in ``TALON["ADAPTER"]``, answers every question the app has about the shop's objects.
Subclass :class:`TalonAdapter` and override only what differs (docs/adapters.md).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.module_loading import import_string

from django_talon.conf import talon_settings

if TYPE_CHECKING:
    from django.http import HttpRequest

#: Order states (lower-cased ``order.status`` / ``order.state``) mapped by the default adapter.
CLOSED_ORDER_STATES = frozenset({"paid", "placed", "completed", "complete", "fulfilled", "shipped"})
CANCELLED_ORDER_STATES = frozenset({"cancelled", "canceled", "refunded", "voided"})

#: Key in ``request.session`` holding the anonymous customer's session integration id.
REQUEST_SESSION_KEY = "django_talon_session_id"


def cart_key(cart: models.Model) -> str:
    """The stable reference ``'<app_label.model>:<pk>'`` stored on ``CustomerSession.cart_key``."""
    return f"{cart._meta.label_lower}:{cart.pk}"


def _money(value: Any) -> float:
    """Talon.One takes JSON numbers; round through Decimal so 8.50 stays 8.5, not 8.4999."""
    return float(Decimal(str(value)).quantize(Decimal("0.01")))


class TalonAdapter:
    """The default adapter. Every method can be overridden in a subclass.

    The defaults fit the common shape ``Cart(user) <- CartItem(cart, sku, name, price,
    quantity, category)`` and ``Order(cart, user, status)``.
    """

    # -- customers ------------------------------------------------------------------------
    def integration_id(self, user: Any) -> str:
        """Stable Talon.One id for a user: ``user-<pk>``. Never the e-mail (it changes, it leaks)."""
        return f"user-{user.pk}"

    def profile_attributes(self, user: Any) -> dict[str, Any]:
        """Profile attributes sent to Talon.One. Empty by default: custom attributes must exist
        in the Campaign Manager first, so the shop opts in explicitly."""
        return {}

    # -- carts ----------------------------------------------------------------------------
    def cart_items(self, cart: Any) -> list[dict[str, Any]]:
        """The cart as Talon.One ``CartItem`` dicts (sku, name, price, quantity, category, ...).

        Uses ``cart.talon_cart_items()`` when the cart defines it, else iterates ``cart.items``
        reading ``sku``, ``name``, ``price``, ``quantity``, ``category`` (missing ones skipped).
        Lines with a quantity below 1 are left out: Talon.One refuses them, and one such line
        would make the whole session write fail (a dead letter, no discount for the cart).
        """
        custom = getattr(cart, "talon_cart_items", None)
        if callable(custom):
            return list(custom())
        manager = getattr(cart, "items", None)
        rows = manager.all() if manager is not None and hasattr(manager, "all") else []
        items: list[dict[str, Any]] = []
        for row in rows:
            quantity = int(row.quantity)
            if quantity < 1:
                continue
            item: dict[str, Any] = {
                "sku": str(row.sku),
                "name": str(getattr(row, "name", "") or row.sku),
                "quantity": quantity,
                "price": _money(row.price),
            }
            category = getattr(row, "category", None)
            if category:
                item["category"] = str(category)
            attributes = getattr(row, "talon_attributes", None)
            if isinstance(attributes, dict) and attributes:
                item["attributes"] = attributes
            items.append(item)
        return items

    def cart_user(self, cart: Any) -> Any | None:
        """The owner of a cart (``cart.user``) or None for an anonymous cart."""
        user = getattr(cart, "user", None)
        if user is not None and getattr(user, "is_authenticated", True) and user.pk:
            return user
        return None

    def cart_attributes(self, cart: Any) -> dict[str, Any]:
        """Session attributes (must exist in the Campaign Manager). Empty by default."""
        return {}

    def cart_for_item(self, item: Any) -> Any | None:
        """The cart a cart-item row belongs to (``item.cart``)."""
        return getattr(item, "cart", None)

    def new_session_id(self, cart: Any) -> str:
        """Integration id for a NEW Talon.One session of this cart: a random UUID by default,
        so a cart reused after an order gets a fresh session."""
        return uuid.uuid4().hex

    def cart_for_request(self, request: HttpRequest) -> Any | None:
        """The current cart of a request, or None when the adapter cannot tell.

        The default returns None and :func:`django_talon.services.session_for_request` then
        falls back to ``request.session[REQUEST_SESSION_KEY]`` and the user's newest open
        session. Override when the shop keeps its cart id somewhere else.
        """
        return None

    # -- orders ---------------------------------------------------------------------------
    def order_session_state(self, order: Any) -> str | None:
        """Talon.One session state for an order: ``closed`` (paid/placed), ``cancelled``, or
        None (no change yet). Reads ``order.status`` (or ``order.state``)."""
        status = getattr(order, "status", None) or getattr(order, "state", None)
        if not status:
            return None
        status = str(status).lower()
        if status in CLOSED_ORDER_STATES:
            return "closed"
        if status in CANCELLED_ORDER_STATES:
            return "cancelled"
        return None

    def order_cart(self, order: Any) -> Any | None:
        """The cart an order was placed from (``order.cart``)."""
        return getattr(order, "cart", None)

    def order_session_id(self, order: Any) -> str | None:
        """The session integration id recorded on the order (``order.talon_session_id``), if any.

        Shops that delete carts after checkout should store the id on the order (see
        :func:`django_talon.services.session_for_cart`)."""
        value = getattr(order, "talon_session_id", None)
        return str(value) if value else None


@lru_cache(maxsize=8)
def _load_adapter(path: str) -> TalonAdapter:
    cls = import_string(path)
    adapter = cls()
    if not isinstance(adapter, TalonAdapter):
        raise TypeError(
            f"TALON['ADAPTER'] {path!r} must subclass django_talon.adapters.TalonAdapter"
        )
    return adapter


def get_adapter() -> TalonAdapter:
    """The configured adapter instance (one per dotted path, cached)."""
    return _load_adapter(talon_settings.ADAPTER)
