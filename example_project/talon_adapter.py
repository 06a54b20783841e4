"""How this shop's carts and orders look to Talon.One (``TALON["ADAPTER"]``).

django-talon's default adapter expects cart rows with ``sku``/``price`` fields; this shop's
cart rows point at a ``Product`` instead, and an order should close its Talon.One session
when it is *paid*, not when it is placed. Those two differences are all this subclass
overrides: it is the template for adapting a shop of your own (docs/integrating.md).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from django_talon.adapters import TalonAdapter


class ShopTalonAdapter(TalonAdapter):
    def cart_items(self, cart: Any) -> list[dict[str, Any]]:
        """Each cart line as a Talon.One cart item; the category drives category campaigns."""
        return [
            {
                "sku": item.product.sku,
                "name": item.product.name,
                "price": float(item.product.price),
                "quantity": item.quantity,
                "category": item.product.category.slug,
            }
            for item in cart.items.select_related("product__category").order_by("pk")
        ]

    def cart_for_request(self, request: HttpRequest) -> Any | None:
        """The visitor's open cart, found the way the shop's own views find it."""
        from example_project.cart.services import get_cart

        return get_cart(request)

    def order_session_state(self, order: Any) -> str | None:
        """Paid closes the session (coupons redeemed, points earned); placed keeps it open
        while the customer pays; cancelled cancels it (Talon.One rolls a closed session
        back). Returns are not a state change here: ``orders.services.return_order`` sends
        the returned items through ``django_talon.services.return_items``."""
        return {"paid": "closed", "cancelled": "cancelled"}.get(order.status)
