"""Shopping journeys against the emulator over HTTP (DESIGN.md data flows 1-4).

The shop is tests/shopapp wired through TALON (CART_MODELS, CART_ITEM_MODELS, ORDER_MODELS,
ADAPTER); the emulator runs the demo campaigns (WELCOME10, free tote over 100, coffee 1 off
each, ...). Call counts come from the emulator's own request log (GET /_emulator/requests).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from django_talon import services
from django_talon.models import (
    CouponReservation,
    CustomerProfile,
    CustomerSession,
    DataDeletionRequest,
    OutboxMessage,
)
from tests.core.conftest import ESPRESSO, GRINDER, KETTLE, make_cart
from tests.shopapp.models import Cart, CartItem, Order

pytestmark = pytest.mark.django_db(transaction=True)


def session_writes(emulator: Any) -> list[dict[str, Any]]:
    return [
        r
        for r in emulator.control.requests("/v2/customer_sessions/")
        if r["method"] in ("PUT", "POST")
    ]


def effect_types(session: CustomerSession) -> list[str]:
    return [e["effectType"] for e in session.effects]


def test_anonymous_cart_login_coupon_order_paid(shop: Any, django_user_model: Any) -> None:
    client = Client()
    cart = make_cart(items=[ESPRESSO])
    web = client.session
    web["cart_id"] = cart.pk
    web.save()
    session = services.session_for_cart(cart, create=False)
    assert session is not None and session.profile_id is None
    # Coffee 1 off each: the anonymous cart already has its discount stored.
    assert "setDiscountPerItem" in effect_types(session)

    user = django_user_model.objects.create_user("ada", "ada@example.com", "pw")
    assert client.login(username="ada", password="pw")
    session.refresh_from_db()
    assert session.profile is not None and session.profile.integration_id == f"user-{user.pk}"
    assert session.profile.user == user
    cart.user = user
    cart.save()

    session = services.apply_coupon(cart, "WELCOME10")
    assert "acceptCoupon" in effect_types(session)
    assert session.coupon_codes == ["WELCOME10"]

    Order.objects.create(cart=cart, user=user, status="paid")
    session.refresh_from_db()
    assert session.state == "closed"
    remote = shop.control.state()["sessions"][session.integration_id]
    assert remote["state"] == "closed"
    assert remote["profileId"] == f"user-{user.pk}"
    assert remote["couponCodes"] == ["WELCOME10"]
    assert not OutboxMessage.objects.filter(state="pending").exists()
    # Profile created by the user signal carries the adapter's attributes.
    assert shop.control.state()["profiles"][f"user-{user.pk}"]["attributes"]["Name"] == "ada"


def test_cancel_after_close_rolls_back(shop: Any, django_user_model: Any) -> None:
    user = django_user_model.objects.create_user("bo", "bo@example.com", "pw")
    cart = make_cart(user=user, items=[GRINDER, KETTLE])
    services.apply_coupon(cart, "WELCOME10")
    order = Order.objects.create(cart=cart, user=user, status="paid")
    session = services.session_for_order(order)
    assert session is not None and session.state == "closed"
    order.status = "cancelled"
    order.save()
    session.refresh_from_db()
    assert session.state == "cancelled"
    remote = shop.control.state()["sessions"][session.integration_id]
    assert remote["state"] == "cancelled"
    assert any(t.startswith("rollback") for t in effect_types(session)), effect_types(session)


def test_user_deleted_erasure_completed_and_local_data_gone(
    shop: Any, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("cy", "cy@example.com", "pw")
    integration_id = f"user-{user.pk}"
    make_cart(user=user, items=[ESPRESSO])
    services.reserve_coupon("VIP20", [user])
    assert integration_id in shop.control.state()["profiles"]

    user.delete()

    request = DataDeletionRequest.objects.get()
    assert request.integration_id == integration_id
    assert request.requested_by == "signal:user_deleted"
    assert request.state == "completed" and request.completed_at is not None
    profile = CustomerProfile.objects.get(integration_id=integration_id)
    assert profile.user is None and profile.attributes == {} and profile.erased_at
    assert not CouponReservation.objects.exists()
    deletes = shop.control.requests(f"/v1/customer_data/{integration_id}")
    assert [r["method"] for r in deletes] == ["DELETE"]
    # Erased means erased: Talon.One holds no profile and no session of the customer, and
    # nothing naming them was sent after the DELETE (the cart's receivers used to re-create
    # the profile from the cascade of the user's delete).
    state = shop.control.state()
    assert integration_id not in state["profiles"]
    assert [s for s in state["sessions"].values() if s.get("profileId") == integration_id] == []
    calls = shop.control.requests()
    after = calls[[c["path"] for c in calls].index(f"/v1/customer_data/{integration_id}") + 1 :]
    assert [c for c in after if f'"{integration_id}"' in json.dumps(c)] == []


def test_unchanged_cart_makes_zero_api_calls(shop: Any) -> None:
    cart = make_cart(items=[ESPRESSO, GRINDER])
    shop.control.clear_requests()
    cart.save()
    item = CartItem.objects.filter(cart=cart).first()
    assert item is not None
    item.save()
    services.update_cart(cart)
    assert shop.control.requests() == []


def test_one_transaction_one_call(shop: Any) -> None:
    shop.control.clear_requests()
    with transaction.atomic():
        make_cart(items=[ESPRESSO, GRINDER, KETTLE])
    assert len(session_writes(shop)) == 1


def test_free_item_and_notification_from_the_rules(shop: Any) -> None:
    cart = make_cart(items=[ESPRESSO])
    session = services.session_for_cart(cart, create=False)
    assert session is not None and "showNotification" in effect_types(session)
    CartItem.objects.create(cart=cart, sku="GRINDER-X", name="G", price=89, quantity=1)
    session.refresh_from_db()
    assert "addFreeItem" in effect_types(session)
    promotions = services.get_promotions(session)
    assert promotions.in_sync and not promotions.stale
    assert promotions.effects_raw == session.effects


def test_rejected_coupon_from_the_emulator(shop: Any) -> None:
    cart = make_cart(items=[ESPRESSO])
    session = services.apply_coupon(cart, "NOPE-123")
    rejected = [e for e in session.effects if e["effectType"] == "rejectCoupon"]
    assert rejected and rejected[0]["props"]["rejectionReason"] == "CouponNotFound"
    assert session.coupon_codes == []


def test_reserved_coupon_only_for_the_reserved_customer(shop: Any, django_user_model: Any) -> None:
    vip = django_user_model.objects.create_user("vip", "vip@example.com", "pw")
    other = django_user_model.objects.create_user("other", "other@example.com", "pw")
    services.reserve_coupon("VIP20", [vip])
    assert CouponReservation.objects.get().synced_at is not None
    assert services.reserved_coupons(vip) == ["VIP20"]
    ok = services.apply_coupon(make_cart(user=vip, items=[GRINDER]), "VIP20")
    assert "acceptCoupon" in effect_types(ok)
    refused = services.apply_coupon(make_cart(user=other, items=[GRINDER]), "VIP20")
    assert "rejectCoupon" in effect_types(refused)
    services.release_coupon("VIP20", [vip])
    assert not CouponReservation.objects.exists()
    assert shop.control.state()["coupons"]["VIP20"]["reservedFor"] == []


def test_referral_created_and_applied(shop: Any, django_user_model: Any) -> None:
    advocate = django_user_model.objects.create_user("adv", "adv@example.com", "pw")
    friend = django_user_model.objects.create_user("fr", "fr@example.com", "pw")
    referral = services.create_referral(advocate, 5)
    assert referral.code and referral.advocate.user == advocate
    session = services.apply_referral(make_cart(user=friend, items=[KETTLE]), referral.code)
    assert "acceptReferral" in effect_types(session), effect_types(session)


def test_return_and_reopen(shop: Any, django_user_model: Any) -> None:
    user = django_user_model.objects.create_user("ret", "ret@example.com", "pw")
    cart = make_cart(user=user, items=[ESPRESSO])
    Order.objects.create(cart=cart, user=user, status="paid")
    session = services.session_for_cart(cart, create=False, open_only=False)
    assert session is not None and session.state == "closed"
    services.return_items(session, [{"position": 0, "quantity": 1}])
    remote = shop.control.state()["sessions"][session.integration_id]
    assert remote["state"] == "partially_returned"
    assert not OutboxMessage.objects.filter(state__in=["pending", "dead"]).exists()


def test_evaluate_cart_is_a_dry_run(shop: Any) -> None:
    with transaction.atomic():
        cart = Cart.objects.create()
    CartItem.objects.bulk_create(
        [
            CartItem(
                cart=cart, sku="ESPRESSO-250", name="E", price=8.5, quantity=1, category="coffee"
            )
        ]
    )
    effects = services.evaluate_cart(cart)
    assert any(e.effect_type == "setDiscountPerItem" for e in effects)
    assert shop.control.state()["sessions"] == {}
