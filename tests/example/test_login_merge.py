"""Signing in on a second device: the guest cart (with its coupon) and the customer's open
cart become one cart, through the example shop's real login view, against the emulator.

The outside review's case: the customer left ESPRESSO-250 in an open cart on device A; on
device B, as a guest, they add GRINDER-X, apply WELCOME10 and sign in. django-talon's
``user_logged_in`` receiver reads the shop's cart (``cart_for_request`` -> ``get_cart``);
when it ran before the shop's merge receiver, ``get_cart`` stored the customer's old cart
as the session's cart, the merge saw no guest cart, and the guest cart (and its coupon)
was left behind. Both receiver orders are covered: django-talon's login work runs last
(``receivers.login_receiver_last``), and the shop's lookup no longer hides the guest cart
when another receiver runs first.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in
from django.core.signals import request_started
from django.test import Client

from django_talon import receivers
from django_talon.models import CustomerSession
from example_project.cart.models import Cart

pytestmark = pytest.mark.django_db(transaction=True)

LOGIN = {"username": "alice", "password": "alice-demo-pass"}


def add(client: Client, sku: str) -> None:
    client.post("/cart/add/", {"sku": sku, "quantity": 1})


def _uids() -> list[Any]:
    return [receivers._uid_of(entry) for entry in user_logged_in.receivers]


@pytest.fixture
def talon_login_first() -> Iterator[None]:
    """django-talon's login receiver before the shop's (as when nothing reorders it)."""
    reordering = request_started.disconnect(dispatch_uid="django_talon:login_last")
    with user_logged_in.lock:
        entries = user_logged_in.receivers
        index = _uids().index(receivers._LOGIN_UID)
        entries.insert(0, entries.pop(index))
        user_logged_in.sender_receivers_cache.clear()
    try:
        yield
    finally:
        if reordering:
            request_started.connect(
                receivers.login_receiver_last, dispatch_uid="django_talon:login_last"
            )
            receivers.login_receiver_last()


def _second_device_login(talon_emulator: Any) -> tuple[Client, Cart]:
    """Device A: alice's open cart with ESPRESSO-250. Device B: a guest with GRINDER-X and
    WELCOME10 signs in. Returns device B and alice's old cart."""
    device_a = Client()
    assert device_a.post("/accounts/login/", LOGIN).status_code == 302
    add(device_a, "ESPRESSO-250")
    old = Cart.objects.get(user__username="alice", status=Cart.Status.OPEN)
    device_b = Client()
    add(device_b, "GRINDER-X")
    applied = device_b.post("/api/talon/coupons/", {"code": "WELCOME10"}, "application/json")
    assert applied.json()["result"]["status"] == "accepted", applied.content
    assert device_b.post("/accounts/login/", LOGIN).status_code == 302
    return device_b, old


def _assert_one_merged_cart(device: Client, old: Cart, talon_emulator: Any) -> None:
    alice = User.objects.get(username="alice")
    (cart,) = Cart.objects.filter(status=Cart.Status.OPEN)  # no orphaned guest cart
    assert cart.user == alice and cart.pk != old.pk
    assert sorted(i.product.sku for i in cart.items.all()) == ["ESPRESSO-250", "GRINDER-X"]
    old.refresh_from_db()
    assert old.status == Cart.Status.MERGED
    session = CustomerSession.objects.get(cart_key=f"cart.cart:{cart.pk}", state="open")
    assert [c.upper() for c in session.coupon_codes] == ["WELCOME10"]
    assert session.profile is not None and session.profile.user_id == alice.pk
    remote = talon_emulator.control.state()["sessions"][session.integration_id]
    assert remote["profileId"] == f"user-{alice.pk}"
    assert [c.upper() for c in remote["couponCodes"]] == ["WELCOME10"]
    assert sorted(i["sku"] for i in remote["cartItems"]) == ["ESPRESSO-250", "GRINDER-X"]
    shown = device.get("/api/talon/promotions/").json()  # what the reviewer saw
    assert sorted(line["sku"] for line in shown["lines"]) == ["ESPRESSO-250", "GRINDER-X"]
    assert [c.upper() for c in shown["quote"]["coupon_codes"]] == ["WELCOME10"]


def test_second_device_login_merges_both_carts_and_keeps_the_coupon(
    shop_talon: Any, demo_data: Any, talon_emulator: Any
) -> None:
    device, old = _second_device_login(talon_emulator)
    _assert_one_merged_cart(device, old, talon_emulator)


def test_the_same_when_django_talons_login_receiver_runs_first(
    shop_talon: Any, demo_data: Any, talon_emulator: Any, talon_login_first: None
) -> None:
    """The shop's ``get_cart`` no longer stores the customer's own cart over the guest cart
    a login has yet to merge, so the merge works whichever receiver runs first."""
    assert _uids()[0] == receivers._LOGIN_UID
    device, old = _second_device_login(talon_emulator)
    assert _uids()[0] == receivers._LOGIN_UID  # the requests did not reorder it
    _assert_one_merged_cart(device, old, talon_emulator)


def test_django_talons_login_work_runs_after_a_receiver_connected_after_it(
    shop_talon: Any, demo_data: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shop app listed after ``django_talon`` connects its receiver later; a request
    later, django-talon's login work still comes after it."""
    calls: list[str] = []

    def shop_receiver(sender: Any, **kw: Any) -> None:
        calls.append("shop")

    real = receivers._attach_on_login

    def attach(request: Any, user: Any) -> None:
        calls.append("django_talon")
        real(request, user)

    monkeypatch.setattr(receivers, "_attach_on_login", attach)
    user_logged_in.connect(shop_receiver, dispatch_uid="test_shop_late_receiver")
    try:
        assert _uids()[-1] == "test_shop_late_receiver"
        client = Client()
        assert client.post("/accounts/login/", LOGIN).status_code == 302
    finally:
        user_logged_in.disconnect(dispatch_uid="test_shop_late_receiver")
    assert calls == ["shop", "django_talon"]


def test_a_login_receiver_disconnected_on_purpose_stays_disconnected(demo_data: Any) -> None:
    assert user_logged_in.disconnect(dispatch_uid=receivers._LOGIN_UID)
    try:
        Client().get("/")
        assert receivers._LOGIN_UID not in _uids()
    finally:
        receivers.connect()
    assert receivers._LOGIN_UID in _uids()
