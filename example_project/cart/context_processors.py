"""Template context: the item count shown in the header on every page, and the shop's
currency its own prices are in (``SHOP_CURRENCY``; the checkout shows the quote's)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from example_project.cart.services import get_cart


def cart(request: HttpRequest) -> dict[str, object]:
    current = get_cart(request) if hasattr(request, "session") else None
    return {
        "cart_item_count": current.item_count if current is not None else 0,
        "shop_currency": getattr(settings, "SHOP_CURRENCY", "EUR"),
    }
