"""The default adapter leaves out cart lines with nothing in them (quantity < 1).

Talon.One (and the client's input check) refuse a quantity of 0, so sending such a line
turned the whole session write into a dead letter: no discount for the rest of the cart.
Shops commonly keep a line at 0 after "set quantity to 0".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from django_talon.adapters import TalonAdapter
from django_talon.models import OutboxMessage
from tests.core.conftest import ESPRESSO, make_cart
from tests.shopapp.models import CartItem

pytestmark = pytest.mark.django_db(transaction=True)


def test_zero_quantity_line_is_left_out_and_the_rest_is_delivered(shop: Any) -> None:
    cart = make_cart(items=[ESPRESSO])
    CartItem.objects.create(
        cart=cart, sku="GONE-1", name="Removed", price=Decimal("5.00"), quantity=0
    )

    assert [i["sku"] for i in TalonAdapter().cart_items(cart)] == ["ESPRESSO-250"]
    assert not OutboxMessage.objects.filter(state=OutboxMessage.State.DEAD).exists()
    writes = [r for r in shop.control.requests("/v2/customer_sessions/") if r["method"] == "PUT"]
    last = writes[-1]["body"]["customerSession"]["cartItems"]
    assert [i["sku"] for i in last] == ["ESPRESSO-250"]
