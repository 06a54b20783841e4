"""Fail-closed placement of a cart whose last update is still pending.

A coupon was applied while Talon.One failed for a moment: the update waits in the outbox
and the quote is not confirmed. The order was then recorded at full price with the coupon
dropped, and the close delivered that very update and booked the discounts the order was
never charged (an ``outage_at_checkout`` discrepancy with Talon.One up). Fail-closed now
delivers the pending update before recording the order, so charged is booked; when
Talon.One still fails, the order is refused, within one ``PLACEMENT_TIMEOUT`` in all.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from django_talon import services
from django_talon.exceptions import OrderRefusedError
from django_talon.models import Discrepancy, LedgerEntry, OutboxMessage
from tests.core.conftest import ESPRESSO, GRINDER, make_cart
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

SESSIONS = "/v2/customer_sessions/*"


@pytest.fixture
def pending_coupon(shop: Any, settings: Any) -> Any:
    """A cart whose WELCOME10 update failed once and waits in the outbox."""
    settings.TALON = {
        **settings.TALON,
        "ORDER_PLACEMENT": "fail_closed",
        "CLIENT_MAX_ATTEMPTS": 1,
        "PLACEMENT_TIMEOUT": 2.0,
    }
    cart = make_cart(items=[ESPRESSO, GRINDER])
    shop.control.add_fault(kind="error", status=503, path=SESSIONS, times=1)
    services.apply_coupon(cart, "WELCOME10")
    assert OutboxMessage.objects.filter(state="pending").count() == 1
    assert not services.quote_for_cart(cart).confirmed
    return cart


def test_the_pending_update_is_delivered_and_the_order_charged_as_booked(
    pending_coupon: Any,
) -> None:
    with transaction.atomic():
        order = Order.objects.create(cart=pending_coupon, status="paid")

    session = services.session_for_order(order)
    assert session is not None and session.state == "closed"
    charged = LedgerEntry.objects.get(session_id=session.integration_id, kind="charged")
    booked = LedgerEntry.objects.get(session_id=session.integration_id, kind="booked")
    assert charged.quote_status == "confirmed" and charged.coupon_codes == ["WELCOME10"]
    assert charged.total == booked.total == Decimal("93.40")
    assert booked.coupon_codes == ["WELCOME10"]
    assert not Discrepancy.objects.exists()


def test_talon_one_still_failing_refuses_the_order(shop: Any, pending_coupon: Any) -> None:
    shop.control.add_fault(kind="error", status=503, path=SESSIONS, times=10)
    with pytest.raises(OrderRefusedError), transaction.atomic():
        Order.objects.create(cart=pending_coupon, status="paid")

    assert not Order.objects.exists()
    assert not LedgerEntry.objects.exists()
    (row,) = OutboxMessage.objects.filter(state="pending")  # the coupon update, kept
    assert row.operation == "session.update"


def test_the_close_gets_what_is_left_of_one_placement_timeout(
    shop: Any, pending_coupon: Any
) -> None:
    """The pending update answers after 1.5 s of the 2 s PLACEMENT_TIMEOUT; the close
    would answer after 1 s more: past the placement's one deadline, so it is refused (it
    used to get a deadline of its own, and the placement took 2.5 s)."""
    shop.control.add_fault(kind="latency", seconds=1.5, path=SESSIONS, times=1)
    shop.control.add_fault(kind="latency", seconds=1.0, path=SESSIONS, times=1)
    with pytest.raises(OrderRefusedError), transaction.atomic():
        Order.objects.create(cart=pending_coupon, status="paid")
    assert not Order.objects.exists()
