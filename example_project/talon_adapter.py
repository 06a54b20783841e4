"""How this shop's carts and orders look to Talon.One (``TALON["ADAPTER"]``).

django-talon's default adapter expects cart rows with ``sku``/``price`` fields; this shop's
cart rows point at a ``Product`` instead, and an order should close its Talon.One session
when it is *paid*, not when it is placed. It also sends the delivery fee as the ``shipping``
additional cost and puts free gifts into the cart (``TALON["ADD_FREE_ITEMS"]``). It is the
template for adapting a shop of your own (docs/integrating.md).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest

from django_talon.adapters import TalonAdapter


class ShopTalonAdapter(TalonAdapter):
    def cart_items(self, cart: Any) -> list[dict[str, Any]]:
        """Each cart line as a Talon.One cart item; the category drives category campaigns.
        A free gift line goes at price 0."""
        return [
            {
                "sku": item.product.sku,
                "name": item.product.name,
                "price": float(item.unit_price),
                "quantity": item.quantity,
                "category": item.product.category.slug,
            }
            for item in cart.items.select_related("product__category").order_by("pk")
        ]

    def additional_costs(self, cart: Any) -> dict[str, Decimal]:
        """Standard delivery is the ``shipping`` additional cost (the demo campaigns make it
        free from 50.00); collecting in store costs nothing and sends none."""
        fee = cart.shipping_fee
        return {"shipping": fee} if fee else {}

    def add_free_item(self, cart: Any, effect: Any) -> bool:
        """The free gift Talon.One grants (the demo's canvas tote) as a cart line at price 0.
        Not when the customer already has the product in the cart (bought, not given).

        ``effect.desired_quantity`` is the quantity django-talon checked (1..10,000 and room
        for it in the cart; 1 when Talon.One sent none): it refuses any other grant before
        calling this hook, so the shop does not check it again."""
        from example_project.cart.models import CartItem
        from example_project.catalog.models import Product

        product = Product.objects.filter(sku=effect.sku).first()
        if product is None or CartItem.objects.filter(cart=cart, product=product).exists():
            return False
        CartItem.objects.create(
            cart=cart, product=product, quantity=effect.desired_quantity, free=True
        )
        cart.save(update_fields=["updated_at"])
        return True

    def remove_free_item(self, cart: Any, sku: str) -> bool:
        """The gift goes again when the cart no longer earns it."""
        from example_project.cart.models import CartItem

        deleted, _ = CartItem.objects.filter(cart=cart, product__sku=sku, free=True).delete()
        if deleted:
            cart.save(update_fields=["updated_at"])
        return bool(deleted)

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
