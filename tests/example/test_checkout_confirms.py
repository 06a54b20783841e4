"""The example shop's checkout confirms a coupon whose delivery is still pending.

WELCOME10 applied while Talon.One failed for a moment: the cart page says the code is being
checked and shows no discount. Going straight to checkout used to quote (and charge) the
full price; the checkout's quote (``confirm=True``) delivers the waiting change first, so
the checkout shows, and the order is charged, the discount Talon.One then books.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from django_talon.models import LedgerEntry, OutboxMessage
from example_project.orders.models import Order
from tests.example.test_order_adds_up import checkout_page

pytestmark = pytest.mark.django_db(transaction=True)

SESSIONS = "/v2/customer_sessions/*"


def test_a_pending_coupon_is_confirmed_at_checkout(
    shop: Client, talon_emulator: Any, settings: Any
) -> None:
    settings.TALON = {**settings.TALON, "CLIENT_MAX_ATTEMPTS": 1}
    shop.post("/cart/add/", {"sku": "GRINDER-X", "quantity": 1})  # 89.00
    talon_emulator.control.add_fault(kind="error", status=503, path=SESSIONS, times=1)
    shop.post("/talon/coupon/apply/", {"code": "WELCOME10", "next": "/cart/"})
    assert OutboxMessage.objects.filter(state="pending").exists()

    total, page = checkout_page(shop)
    assert total == Decimal("80.10") and "WELCOME10" in page
    shop.post("/orders/checkout/", {"quoted_total": str(total)})
    order = Order.objects.get()
    assert order.total == Decimal("80.10") and order.coupon_codes == ["WELCOME10"]
    charged = LedgerEntry.objects.get(kind="charged")
    assert charged.total == order.total and charged.coupon_codes == ["WELCOME10"]
