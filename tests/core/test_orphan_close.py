"""A fail-closed close that reached Talon.One although the order was refused.

The close is sent, Talon.One closes the session (the coupon redeemed), but its answer comes
after ``PLACEMENT_TIMEOUT``: the order is refused and rolled back, and the local session is
open again while Talon.One's is closed. The shopper changes the cart: Talon.One refuses the
update of a closed session (400). Before, that update became a dead letter and every later
placement was refused the same way, so the order could never be placed; Talon.One kept a
closed session, its coupon redeemed, for an order that does not exist. Now the update finds
the session closed in Talon.One with no order here, reopens it (Talon.One rolls the close
back) and sends the cart, and the order is placed. Against the emulator over HTTP.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import transaction

from django_talon import services
from django_talon.exceptions import OrderRefusedError
from django_talon.models import OutboxMessage
from tests.core.conftest import ESPRESSO, GRINDER
from tests.core.shop import make_cart
from tests.shopapp.models import CartItem, Order

pytestmark = pytest.mark.django_db(transaction=True)

LATE = 1.2  # seconds Talon.One takes to answer the close: after the placement deadline


@pytest.fixture
def fail_closed(settings: Any, shop: Any) -> Any:
    settings.TALON = {**settings.TALON, "ORDER_PLACEMENT": "fail_closed", "PLACEMENT_TIMEOUT": 0.5}
    return shop


def remote_state(shop: Any, session_id: str) -> str:
    return str(shop.control.state()["sessions"][session_id]["state"])


def wait_for_remote(shop: Any, session_id: str, state: str) -> None:
    deadline = time.monotonic() + 10
    while remote_state(shop, session_id) != state:
        assert time.monotonic() < deadline, f"Talon.One never made {session_id} {state}"
        time.sleep(0.05)


def test_a_late_close_is_rolled_back_when_the_cart_changes(fail_closed: Any) -> None:
    cart = make_cart(items=[ESPRESSO])
    services.apply_coupon(cart, "WELCOME10")
    order = Order.objects.create(cart=cart, status="pending")
    session = services.session_for_order(order)
    assert session is not None
    fail_closed.control.add_fault(
        kind="latency", seconds=LATE, method="PUT", path="/v2/customer_sessions/*", times=1
    )
    with pytest.raises(OrderRefusedError), transaction.atomic():
        order.status = "paid"
        order.save()
    wait_for_remote(fail_closed, session.integration_id, "closed")  # the close landed
    session.refresh_from_db()
    assert session.state == "open"

    sku, name, price, quantity, category = GRINDER
    CartItem.objects.create(
        cart=cart, sku=sku, name=name, price=price, quantity=quantity, category=category
    )

    assert remote_state(fail_closed, session.integration_id) == "open"  # reopened, then sent
    remote = fail_closed.control.state()["sessions"][session.integration_id]
    assert [item["sku"] for item in remote["cartItems"]] == ["ESPRESSO-250", "GRINDER-X"]
    assert not OutboxMessage.objects.filter(state="dead").exists()
    with transaction.atomic():
        order.status = "paid"
        order.save()  # placed now: Talon.One confirms the close of the new cart
    assert remote_state(fail_closed, session.integration_id) == "closed"
    assert not OutboxMessage.objects.filter(state__in=["dead", "pending"]).exists()


def test_a_session_closed_for_a_placed_order_is_not_reopened(fail_closed: Any) -> None:
    """Only a close with no order here is rolled back: a placed order's session stays closed
    in Talon.One, and a write the shop still sends for it fails as before."""
    cart = make_cart(items=[ESPRESSO])
    order = Order.objects.create(cart=cart, status="pending")
    with transaction.atomic():
        order.status = "paid"
        order.save()
    session = services.session_for_order(order)
    assert session is not None and session.state == "closed"
    assert remote_state(fail_closed, session.integration_id) == "closed"
