"""The whole Oscar journey against the emulator over HTTP, through Oscar's own views.

Guest basket -> Talon.One coupon through Oscar's voucher form -> login (Oscar merges the
guest's basket) -> checkout -> the order Oscar places is charged Talon.One's discount ->
the dashboard cancels it -> Talon.One rolls the session back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from oscar.core.loading import get_model

from django_talon.models import CustomerSession, LedgerEntry
from tests.oscar.conftest import (
    add_to_basket,
    basket_of,
    check_out,
    enter_code,
    log_in,
    make_user,
    sessions_of,
    staff_client,
)

pytestmark = pytest.mark.django_db(transaction=True)

Order = get_model("order", "Order")


def test_guest_coupon_login_checkout_cancel(
    shop: Any, catalogue: dict[str, Any], staff: Any
) -> None:
    guest = Client()
    add_to_basket(guest, catalogue["mug"], 2)  # 25.00
    add_to_basket(guest, catalogue["tea"], 1)  # 8.00
    assert enter_code(guest, "WELCOME10") == "Code WELCOME10 applied."
    guest_basket, page = basket_of(guest)
    # Oscar's own totals carry Talon.One's 10%: 33.00 - 3.30.
    assert guest_basket.total_incl_tax == Decimal("29.70")
    assert b"Talon.One promotions" in page.content
    assert b"WELCOME10" in page.content
    (guest_session,) = sessions_of(guest_basket)
    assert guest_session.coupon_codes == ["WELCOME10"]

    make_user("ada@example.com")
    log_in(guest, "ada@example.com")
    basket, page = basket_of(guest)  # Oscar merged the cookie basket into ada's
    assert basket.pk != guest_basket.pk and basket.owner.email == "ada@example.com"
    assert get_model("basket", "Basket").objects.get(pk=guest_basket.pk).status == "Merged"
    (session,) = sessions_of(basket)
    assert session.coupon_codes == ["WELCOME10"]  # the guest's code came along
    assert basket.total_incl_tax == Decimal("29.70")
    guest_session.refresh_from_db()
    assert guest_session.coupon_codes == []  # no code is held by two sessions

    check_out(guest)
    order = Order.objects.get()
    # Oscar computed the order total itself, and it is Talon.One's quote.
    assert order.total_incl_tax == Decimal("29.70")
    assert order.total_before_discounts_incl_tax == Decimal("33.00")
    (discount,) = order.discounts.all()
    assert discount.offer_name == "Talon.One promotions" and discount.amount == Decimal("3.30")
    charged = LedgerEntry.objects.get(kind="charged")
    assert charged.total == order.total_incl_tax and charged.discount_total == Decimal("3.30")
    session.refresh_from_db()
    assert session.state == "closed"
    remote = shop.control.state()["sessions"][session.integration_id]
    assert remote["state"] == "closed" and remote["couponCodes"] == ["WELCOME10"]
    # The submitted basket opens no new session.
    assert get_model("basket", "Basket").objects.get(pk=basket.pk).status == "Submitted"
    assert CustomerSession.objects.filter(cart_key=session.cart_key, state="open").count() == 0

    dashboard = staff_client(staff)
    response = dashboard.post(
        f"/dashboard/orders/{order.number}/",
        {"order_action": "change_order_status", "new_status": "Cancelled"},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "Cancelled"
    session.refresh_from_db()
    assert session.state == "cancelled"
    assert shop.control.state()["sessions"][session.integration_id]["state"] == "cancelled"
    assert LedgerEntry.objects.filter(kind="cancelled", session_id=session.integration_id).exists()


def test_a_code_whose_delivery_failed_is_confirmed_at_checkout(
    shop: Any, catalogue: dict[str, Any], settings: Any
) -> None:
    """WELCOME10 entered while Talon.One failed once: the basket page shows no discount
    (the change waits in the outbox); Oscar's checkout confirms it before pricing the
    basket, so the order is charged the 10% Talon.One books."""
    from django_talon.models import OutboxMessage

    settings.TALON = {**settings.TALON, "CLIENT_MAX_ATTEMPTS": 1}
    make_user("bea@example.com")
    client = Client()
    log_in(client, "bea@example.com")
    add_to_basket(client, catalogue["mug"], 2)  # 25.00
    shop.control.add_fault(kind="error", status=503, path="/v2/customer_sessions/*", times=1)
    enter_code(client, "WELCOME10")
    assert OutboxMessage.objects.filter(state="pending").exists()
    basket, _page = basket_of(client)
    assert basket.total_incl_tax == Decimal("25.00")

    check_out(client)
    order = Order.objects.get()
    assert order.total_incl_tax == Decimal("22.50")
    charged = LedgerEntry.objects.get(kind="charged")
    assert charged.total == order.total_incl_tax and charged.coupon_codes == ["WELCOME10"]
