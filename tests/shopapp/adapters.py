"""A shop adapter the way a real shop would write one: the cart id lives in request.session."""

from __future__ import annotations

from typing import Any

from django_talon.adapters import TalonAdapter


class ShopAdapter(TalonAdapter):
    def profile_attributes(self, user: Any) -> dict[str, Any]:
        return {"Name": user.get_full_name() or user.get_username()}

    def cart_for_request(self, request: Any) -> Any | None:
        from tests.shopapp.models import Cart

        cart_id = request.session.get("cart_id")
        return Cart.objects.filter(pk=cart_id).first() if cart_id else None

    def cart_merged_into(self, cart: Any) -> Any | None:
        return cart.merged_into if cart.status == "merged" else None
