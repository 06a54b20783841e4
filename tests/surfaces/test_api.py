"""REST API against the emulator over HTTP: happy paths, 400s, foreign data, anonymous, 429."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from django_talon.models import CouponReservation, Referral
from django_talon.services import profile_for_user
from tests.surfaces.conftest import ESPRESSO, GRINDER, make_cart

pytestmark = pytest.mark.django_db(transaction=True)

API = "/api/talon/"


def customer(django_user_model: Any, name: str, *items: Any) -> tuple[Any, Client, Any]:
    """A signed-in customer with a cart holding ``items`` (pushed to the emulator)."""
    user = django_user_model.objects.create_user(name, password="pw")
    cart = make_cart(user, list(items)) if items else None
    client = Client()
    client.force_login(user)
    if cart is not None:
        session = client.session
        session["cart_id"] = cart.pk
        session.save()
    return user, client, cart


def post(client: Client, path: str, data: Any) -> Any:
    return client.post(API + path, data, content_type="application/json")


# --------------------------------------------------------------------------- promotions


def test_promotions_of_the_current_cart(shop: Any, django_user_model: Any) -> None:
    _, client, _ = customer(django_user_model, "ann", ESPRESSO, GRINDER)
    data = client.get(API + "promotions/").json()
    assert data["currency"] == "EUR"
    assert (data["subtotal"], data["total_discount"], data["total"]) == ("106.00", "2.00", "104.00")
    assert data["lines"][0]["discount"] == "2.00"
    assert data["free_items"][0]["sku"] == "FREE-TOTE"
    assert data["free_items"][0]["in_cart"] is False
    assert data["points_to_earn"] in ("106", "106.0")


def test_promotions_anonymous_without_cart_is_empty(shop: Any, client: Client) -> None:
    data = client.get(API + "promotions/").json()
    assert data["total"] == "0.00" and data["lines"] == [] and data["coupons"] == []


def test_promotions_show_only_my_own_cart(shop: Any, django_user_model: Any) -> None:
    _, ann, _ = customer(django_user_model, "ann", ESPRESSO, GRINDER)
    post(ann, "coupons/", {"code": "WELCOME10"})
    _, bob, _ = customer(django_user_model, "bob")
    data = bob.get(API + "promotions/").json()
    assert data["lines"] == [] and data["coupons"] == [] and data["total"] == "0.00"
    assert bob.delete(API + "coupons/WELCOME10/").status_code == 404  # not on bob's cart
    assert ann.get(API + "promotions/").json()["total"] == "93.40"


# --------------------------------------------------------------------------- coupons


def test_apply_and_remove_coupon(shop: Any, django_user_model: Any) -> None:
    _, client, _ = customer(django_user_model, "ann", ESPRESSO, GRINDER)
    response = post(client, "coupons/", {"code": "WELCOME10"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["result"] == {
        "code": "WELCOME10", "kind": "coupon", "status": "accepted", "reason": "",
        "message": "", "campaign_ids": [1],
    }  # fmt: skip
    assert body["promotions"]["total_discount"] == "12.60"
    assert body["promotions"]["total"] == "93.40"
    sent = [c for c in shop.requests("/v2/customer_sessions/") if c["method"] == "PUT"]
    assert sent[-1]["body"]["customerSession"]["couponCodes"] == ["WELCOME10"]

    response = client.delete(API + "coupons/WELCOME10/")
    assert response.status_code == 200
    assert response.json()["total"] == "104.00"
    assert client.delete(API + "coupons/WELCOME10/").status_code == 404


def test_rejected_coupon_has_a_human_message(shop: Any, django_user_model: Any) -> None:
    _, client, _ = customer(django_user_model, "ann", ESPRESSO)
    body = post(client, "coupons/", {"code": "NOSUCHCODE"}).json()
    assert body["result"]["status"] == "rejected"
    assert body["result"]["reason"] == "CouponNotFound"
    assert body["result"]["message"] == (
        "Coupon NOSUCHCODE does not exist. Please check the code and try again."
    )
    assert body["promotions"]["total"] == "15.00"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "code"),
        ({"code": ""}, "code"),
        ({"code": "A B"}, "code"),
        ({"code": "X" * 101}, "code"),
    ],
)
def test_bad_coupon_input_is_400_with_field_errors(
    shop: Any, django_user_model: Any, payload: dict[str, Any], field: str
) -> None:
    _, client, _ = customer(django_user_model, "ann", ESPRESSO)
    response = post(client, "coupons/", payload)
    assert response.status_code == 400
    assert field in response.json()
    assert isinstance(response.json()[field], list)


def test_anonymous_shopper_with_a_cart_can_apply_a_coupon(shop: Any) -> None:
    cart = make_cart(None, [ESPRESSO, GRINDER])
    client = Client()
    session = client.session
    session["cart_id"] = cart.pk
    session.save()
    body = post(client, "coupons/", {"code": "WELCOME10"}).json()
    assert body["result"]["status"] == "accepted"
    assert client.get(API + "promotions/").json()["total"] == "93.40"


def test_anonymous_without_cart(shop: Any, client: Client) -> None:
    # nothing to remove yet
    assert client.delete(API + "coupons/WELCOME10/").status_code == 404
    assert "detail" in client.delete(API + "referral/").json()
    # a code typed before anything is in the cart gets a session of its own (remembered)
    response = post(client, "coupons/", {"code": "WELCOME10"})
    assert response.status_code in (200, 202)
    assert response.json()["result"]["code"] == "WELCOME10"
    assert [c["code"] for c in client.get(API + "promotions/").json()["coupons"]] == ["WELCOME10"]


def test_code_attempts_are_throttled(shop: Any, settings: Any, django_user_model: Any) -> None:
    settings.TALON = {**settings.TALON, "CODE_ATTEMPT_RATE": "3/day"}
    _, client, _ = customer(django_user_model, "ann", ESPRESSO)
    statuses = [post(client, "coupons/", {"code": f"GUESS{i}"}).status_code for i in range(3)]
    assert statuses == [200, 200, 200]
    response = post(client, "coupons/", {"code": "GUESS4"})
    assert response.status_code == 429
    assert "detail" in response.json()
    assert int(response["Retry-After"]) > 0
    # referral attempts share the budget; reading is never throttled
    assert post(client, "referral/", {"code": "ABCD"}).status_code == 429
    assert client.get(API + "promotions/").status_code == 200
    # another customer has their own budget
    _, other, _ = customer(django_user_model, "bob", ESPRESSO)
    assert post(other, "coupons/", {"code": "WELCOME10"}).status_code == 200


# --------------------------------------------------------------------------- referrals


def test_referral_create_apply_and_privacy(shop: Any, django_user_model: Any) -> None:
    _, advocate, _ = customer(django_user_model, "ann")
    response = post(advocate, "me/referrals/", {})
    assert response.status_code == 201, response.content
    code = response.json()["code"]
    assert response.json()["campaign_id"] == 5
    assert advocate.get(API + "me/referrals/").json()[0]["code"] == code
    assert advocate.get(API + f"me/referrals/{code}/").status_code == 200

    _, friend, _ = customer(django_user_model, "bob", ESPRESSO, GRINDER)
    assert friend.get(API + f"me/referrals/{code}/").status_code == 404  # not theirs
    assert friend.get(API + "me/referrals/").json() == []
    body = post(friend, "referral/", {"code": code}).json()
    assert body["result"]["status"] == "accepted", body
    assert body["promotions"]["total_discount"] == "7.00"  # 5.00 referral + 2.00 coffee
    assert friend.delete(API + "referral/").json()["referrals"] == []

    assert Referral.objects.get(code=code).advocate.user.username == "ann"


def test_referral_bad_input_and_anonymous(
    shop: Any, client: Client, django_user_model: Any
) -> None:
    assert post(client, "me/referrals/", {}).status_code == 403
    assert client.get(API + "me/referrals/").status_code == 403
    _, advocate, _ = customer(django_user_model, "ann")
    response = post(advocate, "me/referrals/", {"campaign_id": "abc"})
    assert response.status_code == 400 and "campaign_id" in response.json()
    response = post(advocate, "me/referrals/", {"campaign_id": 999})
    assert response.status_code == 400 and "campaign_id" in response.json()
    _, shopper, _ = customer(django_user_model, "bob", ESPRESSO)
    for bad in ({}, {"code": ""}, {"code": "TWO WORDS"}, {"code": ["x"]}):
        response = post(shopper, "referral/", bad)
        assert response.status_code == 400 and "code" in response.json(), bad
    response = post(shopper, "referral/", {"code": "NOPE-REF"})
    assert response.json()["result"]["status"] == "rejected"
    assert response.json()["result"]["reason"] == "ReferralNotFound"


# --------------------------------------------------------------------------- reservations


def test_staff_reserve_release_and_customer_views(shop: Any, django_user_model: Any) -> None:
    ann, ann_client, _ = customer(django_user_model, "ann", ESPRESSO, GRINDER)
    bob, bob_client, _ = customer(django_user_model, "bob")
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    staff_client = Client()
    staff_client.force_login(staff)

    # VIP20 needs a reservation
    assert post(ann_client, "coupons/", {"code": "VIP20"}).json()["result"]["reason"] == (
        "CouponReservationRequired"
    )
    ann_id = profile_for_user(ann).integration_id
    response = post(staff_client, "staff/reservations/", {"code": "VIP20", "user_ids": [ann.pk]})
    assert response.status_code == 201, response.content
    assert response.json()["integration_ids"] == [ann_id]
    reserved = shop.client().get_reserved_customers("VIP20")
    assert [p.integration_id for p in reserved.data] == [ann_id]

    assert [r["code"] for r in ann_client.get(API + "me/reserved-coupons/").json()] == ["VIP20"]
    assert bob_client.get(API + "me/reserved-coupons/").json() == []
    holders = staff_client.get(API + "staff/reservations/VIP20/").json()
    assert [h["integration_id"] for h in holders["results"]] == [ann_id]
    assert holders["results"][0]["synced"] is True

    body = post(ann_client, "coupons/", {"code": "VIP20"}).json()
    assert body["result"]["status"] == "accepted"

    inventory = ann_client.get(API + "me/inventory/").json()
    assert "VIP20" in [c["value"] for c in inventory["coupons"]]

    response = post(
        staff_client, "staff/reservations/release/", {"code": "VIP20", "integration_ids": [ann_id]}
    )
    assert response.status_code == 200 and response.json()["count"] == 1
    assert not CouponReservation.objects.exists()
    assert shop.client().get_reserved_customers("VIP20").data == []


def test_staff_endpoints_need_staff_or_permission(shop: Any, django_user_model: Any) -> None:
    ann, ann_client, _ = customer(django_user_model, "ann")
    payload = {"code": "VIP20", "user_ids": [ann.pk]}
    assert post(Client(), "staff/reservations/", payload).status_code == 403
    assert post(ann_client, "staff/reservations/", payload).status_code == 403
    assert ann_client.get(API + "staff/reservations/VIP20/").status_code == 403
    assert post(ann_client, "staff/reservations/release/", payload).status_code == 403

    crm = django_user_model.objects.create_user("crm", password="pw")
    crm.user_permissions.add(Permission.objects.get(codename="add_couponreservation"))
    crm_client = Client()
    crm_client.force_login(crm)
    assert post(crm_client, "staff/reservations/", payload).status_code == 201
    # the add permission does not grant release or listing
    assert post(crm_client, "staff/reservations/release/", payload).status_code == 403
    assert crm_client.get(API + "staff/reservations/VIP20/").status_code == 403


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"code": "VIP20"}, "integration_ids"),
        ({"code": "VIP20", "integration_ids": ["nobody-here"]}, "integration_ids"),
        ({"code": "VIP20", "user_ids": [987654]}, "user_ids"),
        ({"code": "", "user_ids": [1]}, "code"),
        ({"code": "VIP20", "user_ids": ["x"]}, "user_ids"),
    ],
)
def test_staff_bad_input_is_400(
    shop: Any, admin_client: Client, payload: dict[str, Any], field: str
) -> None:
    response = post(admin_client, "staff/reservations/", payload)
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_me_endpoints_reject_anonymous(shop: Any, client: Client) -> None:
    for path in ("me/reserved-coupons/", "me/inventory/", "me/referrals/", "me/referrals/X/"):
        assert client.get(API + path).status_code == 403, path
