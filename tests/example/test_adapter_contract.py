"""The adapter contract in the example shop, through its own views against the emulator:
two visitors never share a session, a code typed into an empty cart is kept, the guest's
code survives the login merge, an ordered cart never opens a phantom session, and under
``ATOMIC_REQUESTS`` the coupon form answers with Talon.One's verdict (docs/adapters.md)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client

from django_talon.models import CustomerSession
from example_project.cart.models import Cart
from example_project.orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def add(client: Client, sku: str, quantity: int = 1) -> None:
    client.post("/cart/add/", {"sku": sku, "quantity": quantity})


def test_an_ordered_cart_saved_again_opens_no_phantom_session(
    shop: Client, talon_emulator: Any
) -> None:
    add(shop, "GRINDER-X")
    shop.post("/orders/checkout/")
    order = Order.objects.get()
    shop.post(f"/orders/{order.pk}/pay/", {"card_number": "4242424242424242"})
    cart = Cart.objects.get(pk=order.cart_id)
    assert cart.status == Cart.Status.ORDERED  # the example's Cart.is_open says finished
    cart.save()
    for item in cart.items.all():
        item.quantity += 1
        item.save()
    (session,) = CustomerSession.objects.filter(cart_key=f"cart.cart:{cart.pk}")
    assert session.state == "closed" and session.cart_items[0]["quantity"] == 1
    assert [s["state"] for s in talon_emulator.control.state()["sessions"].values()] == ["closed"]
    add(shop, "ESPRESSO-250")  # the next purchase: a new cart, a new session
    assert CustomerSession.objects.filter(state="open").count() == 1


def test_coupon_form_answers_in_the_same_request_under_atomic_requests(
    shop: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    add(shop, "GRINDER-X")
    response = shop.post("/talon/coupon/apply/", {"code": "WELCOME10", "next": "/cart/"})
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert texts[-1] == "Code WELCOME10 applied." and not any("checking" in t for t in texts)


def open_sessions() -> list[CustomerSession]:
    return list(CustomerSession.objects.filter(state="open").order_by("pk"))


def test_two_anonymous_visitors_never_share_a_session(
    shop_talon: Any, demo_data: Any, talon_emulator: Any
) -> None:
    first, second = Client(), Client()
    add(first, "GRINDER-X")
    first.post("/talon/coupon/apply/", {"code": "WELCOME10", "next": "/cart/"})
    add(second, "ESPRESSO-250")
    one, two = open_sessions()
    assert one.integration_id != two.integration_id and one.cart_key != two.cart_key
    assert [c.upper() for c in one.coupon_codes] == ["WELCOME10"] and two.coupon_codes == []
    remote = talon_emulator.control.state()["sessions"]
    assert remote[two.integration_id]["couponCodes"] == []
    assert b"WELCOME10" not in second.get("/cart/").content


def test_a_code_typed_into_an_empty_cart_is_kept_for_its_first_item(
    shop_talon: Any, demo_data: Any, talon_emulator: Any
) -> None:
    visitor = Client()
    visitor.post("/cart/add/", {"sku": "GRINDER-X", "quantity": 1})
    visitor.post("/cart/update/", {"sku": "GRINDER-X", "quantity": 0})  # the cart is empty
    visitor.post("/talon/coupon/apply/", {"code": "WELCOME10", "next": "/cart/"})
    add(visitor, "ESPRESSO-250")
    (session,) = open_sessions()
    assert [c.upper() for c in session.coupon_codes] == ["WELCOME10"]
    remote = talon_emulator.control.state()["sessions"][session.integration_id]
    assert [c.upper() for c in remote["couponCodes"]] == ["WELCOME10"]
    assert [i["sku"] for i in remote["cartItems"]] == ["ESPRESSO-250"]


def test_the_guests_code_survives_the_login_merge(
    shop_talon: Any, demo_data: Any, talon_emulator: Any
) -> None:
    from django.contrib.auth.models import User

    guest = Client()
    add(guest, "GRINDER-X")
    guest.post("/talon/coupon/apply/", {"code": "WELCOME10", "next": "/cart/"})
    guest.post("/accounts/login/", {"username": "alice", "password": "alice-demo-pass"})
    alice = User.objects.get(username="alice")
    (session,) = open_sessions()
    assert session.profile is not None and session.profile.user_id == alice.pk
    assert [c.upper() for c in session.coupon_codes] == ["WELCOME10"]
    remote = talon_emulator.control.state()["sessions"][session.integration_id]
    assert remote["profileId"] == f"user-{alice.pk}"
    assert [c.upper() for c in remote["couponCodes"]] == ["WELCOME10"]
