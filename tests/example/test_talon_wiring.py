"""The shop wired to django-talon, against the emulator over HTTP (demo campaigns).

These go through the shop's views with Django's test client; the browser tests cover the
same journeys through Chromium. ``transactional_db`` because django-talon's immediate
delivery runs after commit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from example_project.demo.data import load_demo_data
from example_project.orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def add(client: Client, sku: str, quantity: int = 1) -> None:
    client.post("/cart/add/", {"sku": sku, "quantity": quantity})


def emulator_session(talon_emulator: Any) -> dict[str, Any]:
    (session,) = talon_emulator.control.state()["sessions"].values()
    return dict(session)


def test_cart_lines_reach_talon_with_sku_price_and_category(
    shop: Client, talon_emulator: Any
) -> None:
    add(shop, "ESPRESSO-250", 2)
    session = emulator_session(talon_emulator)
    alice = User.objects.get(username="alice")
    assert session["profileId"] == f"user-{alice.pk}"
    (item,) = session["cartItems"]
    assert (item["sku"], item["price"], item["quantity"], item["category"]) == (
        "ESPRESSO-250",
        8.5,
        2,
        "coffee",
    )


def test_an_unchanged_cart_costs_no_api_call(shop: Client, talon_emulator: Any) -> None:
    add(shop, "ESPRESSO-250")
    talon_emulator.control.clear_requests()
    shop.get("/cart/")
    shop.get("/orders/checkout/")
    assert talon_emulator.control.requests("/v2/customer_sessions") == []


def test_order_records_talon_discounts_and_free_item_then_closes_session(
    shop: Client, talon_emulator: Any
) -> None:
    add(shop, "GRINDER-X")
    add(shop, "FILTER-1KG")
    shop.post("/talon/coupon/apply/", {"code": "WELCOME10", "next": "/cart/"})
    page = shop.get("/orders/checkout/").content.decode()
    assert "Canvas tote bag (free)" in page
    shop.post("/orders/checkout/")
    order = Order.objects.get()
    # 113.00 - 1.00 (coffee 1 off) - 11.30 (welcome 10%).
    assert order.subtotal == Decimal("113.00")
    assert order.discount_total == Decimal("12.30")
    assert order.total == Decimal("100.70")
    assert order.coupon_codes == ["WELCOME10"]
    assert order.loyalty_points == Decimal("113")
    free = order.lines.get(free_item=True)
    assert (free.sku, free.unit_price) == ("FREE-TOTE", Decimal("0.00"))
    assert order.lines.get(sku="FILTER-1KG").discount == Decimal("1.00")
    # Placed keeps the session open while the customer pays; paid closes it.
    assert emulator_session(talon_emulator)["state"] == "open"
    shop.post(f"/orders/{order.pk}/pay/", {"card_number": "4242424242424242"})
    assert emulator_session(talon_emulator)["state"] == "closed"


def test_return_sends_every_bought_item_back(shop: Client, talon_emulator: Any) -> None:
    add(shop, "GRINDER-X")
    add(shop, "ESPRESSO-250", 2)
    shop.post("/orders/checkout/")
    order = Order.objects.get()
    shop.post(f"/orders/{order.pk}/pay/", {"card_number": "4242424242424242"})
    shop.post(f"/orders/{order.pk}/return/")
    order.refresh_from_db()
    assert order.status == Order.Status.RETURNED
    session = emulator_session(talon_emulator)
    assert session["state"] == "partially_returned"
    returned = sorted(
        (r["position"], r["quantity"]) for r in session["returns"][0]["returnedCartItems"]
    )
    assert returned == [(0, 1), (1, 2)]


def test_unpaid_order_cancelled_cancels_the_open_session(shop: Client, talon_emulator: Any) -> None:
    add(shop, "KETTLE-GOOSENECK")
    shop.post("/orders/checkout/")
    order = Order.objects.get()
    shop.post(f"/orders/{order.pk}/cancel/")
    assert emulator_session(talon_emulator)["state"] == "cancelled"


def test_my_coupons_lists_reservations_and_creates_a_referral(
    shop: Client, talon_emulator: Any
) -> None:
    from django_talon import services

    services.reserve_coupon("VIP20", [User.objects.get(username="alice")])
    page = shop.get("/accounts/coupons/").content.decode()
    assert "VIP20" in page
    shop.post("/accounts/coupons/referral/")
    page = shop.get("/accounts/coupons/").content.decode()
    (code,) = talon_emulator.control.state()["referrals"]
    assert code in page


def test_guest_cart_and_its_coupon_follow_the_customer_at_login(
    shop_talon: dict[str, Any], talon_emulator: Any
) -> None:
    load_demo_data()
    guest = Client()
    add(guest, "ESPRESSO-250")
    guest.post("/talon/coupon/apply/", {"code": "WELCOME10", "next": "/cart/"})
    guest.post("/accounts/login/", {"username": "alice", "password": "alice-demo-pass"})
    add(guest, "ESPRESSO-250")
    session = emulator_session(talon_emulator)
    alice = User.objects.get(username="alice")
    assert session["profileId"] == f"user-{alice.pk}"
    assert session["couponCodes"] == ["WELCOME10"]
    assert session["cartItems"][0]["quantity"] == 2


def test_checkout_never_breaks_while_talon_is_down(shop: Client, talon_emulator: Any) -> None:
    """Fail open: the order is placed at full price and the closing call waits in the
    outbox; once Talon.One answers again, the cart's update and the close are delivered."""
    from django_talon import outbox
    from django_talon.models import OutboxMessage

    talon_emulator.control.add_fault(kind="drop", path="/v2/customer_sessions/*")
    add(shop, "GRINDER-X")
    page = shop.get("/orders/checkout/").content.decode()
    assert "Your discounts are still being confirmed" in page
    shop.post("/orders/checkout/")
    order = Order.objects.get()
    assert (order.total, order.discount_total) == (Decimal("89.00"), Decimal("0.00"))
    shop.post(f"/orders/{order.pk}/pay/", {"card_number": "4242424242424242"})
    order.refresh_from_db()
    assert order.status == Order.Status.PAID

    talon_emulator.control.clear_faults()
    # What the relay does once the backoff has passed, without waiting for it.
    for key in set(OutboxMessage.objects.filter(state="pending").values_list("key", flat=True)):
        outbox.deliver_key(key, force=True)
    session = emulator_session(talon_emulator)
    assert (session["state"], session["cartItems"][0]["sku"]) == ("closed", "GRINDER-X")


def test_kept_database_is_replayed_into_a_fresh_emulator(shop: Client, talon_emulator: Any) -> None:
    """``manage.py demo --keep-db``: profiles and reservations reach the new emulator."""
    from django_talon import services
    from example_project.demo.data import replay_to_talon

    services.reserve_coupon("VIP20", [User.objects.get(username="alice")])
    talon_emulator.control.reset()  # the emulator restarted and forgot everything
    assert replay_to_talon() == (3, 1)
    state = talon_emulator.control.state()
    assert len(state["profiles"]) == 3
    alice = User.objects.get(username="alice")
    assert state["coupons"]["VIP20"]["reservedFor"] == [f"user-{alice.pk}"]
    assert replay_to_talon() == (3, 1)  # twice changes nothing
    assert talon_emulator.control.state()["coupons"]["VIP20"]["reservedFor"] == [f"user-{alice.pk}"]
