"""REST API against the emulator over HTTP: happy paths, 400s, foreign data, anonymous, 429,
and the one exception handler that answers django-talon's errors."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import exception_handler as drf_exception_handler

from django_talon import resilience
from django_talon.api.views import TalonAPIView
from django_talon.exceptions import (
    OrderRefusedError,
    TalonRequestFailedError,
    TalonUnavailableError,
)
from django_talon.models import CouponReservation, CustomerSession, Referral
from django_talon.services import profile_for_user
from django_talon.services.placement import AlreadyPlacedRefusedError
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


def test_a_code_with_a_slash_is_removed_as_it_was_applied(
    shop: Any, django_user_model: Any
) -> None:
    """``SUMMER/24``: ``DELETE coupons/SUMMER%2F24/`` answered Django's HTML 404 (``<str:>``
    stops at the slash) and the code stayed applied."""
    import json

    from django_talon.emulator import DEMO_CAMPAIGNS

    data = json.loads(DEMO_CAMPAIGNS.read_text())
    welcome = next(c for c in data["campaigns"] if c["name"] == "Welcome 10%")
    welcome["coupons"] = [*welcome["coupons"], "SUMMER/24"]
    shop.load_campaigns(data)
    _, client, _ = customer(django_user_model, "ann", ESPRESSO, GRINDER)
    assert post(client, "coupons/", {"code": "SUMMER/24"}).json()["result"]["status"] == "accepted"
    response = client.delete(API + "coupons/SUMMER%2F24/")
    assert response.status_code == 200, response.content[:300]
    assert response.json()["coupons"] == [] and response.json()["total"] == "104.00"
    assert client.delete(API + "coupons/SUMMER/24/").status_code == 404  # not applied now


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
    # a code sent before there is any cart is refused (it would belong to no cart), and
    # nothing is stored for it
    response = post(client, "coupons/", {"code": "WELCOME10"})
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no cart to apply a code to."}
    assert post(client, "referral/", {"code": "REF-X"}).status_code == 404
    assert not CustomerSession.objects.exists()


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
    staff.user_permissions.add(  # is_staff alone opens no staff endpoint (test_staff_permissions)
        *Permission.objects.filter(
            codename__in=[
                "add_couponreservation",
                "delete_couponreservation",
                "view_couponreservation",
            ]
        )
    )
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


# --------------------------------------------------------------------------- error mapping
# One exception handler (django_talon.api.errors) answers django-talon's errors for every
# view of the app; the views themselves catch nothing.


class _Raising(TalonAPIView):
    """A view of the app raising whatever the test asks for."""

    permission_classes = [AllowAny]
    error: Exception = RuntimeError()

    def get(self, request: Request) -> Response:
        raise self.error


class _RaisingWithRefusal(_Raising):
    def talon_refused(self, exc: TalonRequestFailedError) -> APIException | None:
        if exc.status == 404:
            return ValidationError({"thing": ["refused"]})
        return None


def answer(error: Exception, view: type[_Raising] = _Raising) -> Any:
    return view.as_view(error=error)(APIRequestFactory().get("/x"))


@pytest.mark.parametrize(
    ("error", "status", "detail"),
    [
        (
            TalonUnavailableError("circuit open"),
            503,
            "Talon.One is not reachable right now; please try again shortly.",
        ),
        (TalonRequestFailedError("x", status=401), 502, "Talon.One answered with an error."),
        (TalonRequestFailedError("x", status=201), 502, "Talon.One answered with an error."),
        (OrderRefusedError(cause="timeout"), 503, OrderRefusedError.default_message),
        # another order placed the cart already: a conflict, not "try again in a moment"
        (
            AlreadyPlacedRefusedError(cause="timeout"),
            409,
            AlreadyPlacedRefusedError.default_message,
        ),
    ],
    ids=[
        "unavailable-503",
        "request-failed-502",
        "unusable-answer-502",
        "order-refused-503",
        "already-placed-409",
    ],
)
def test_exception_handler_maps_each_talon_error(
    error: Exception, status: int, detail: str
) -> None:
    response = answer(error)
    assert response.status_code == status
    assert response.data == {"detail": detail}
    assert "circuit open" not in str(response.data) and "timeout" not in str(response.data)


def test_exception_handler_lets_a_view_give_a_refusal_its_4xx_meaning() -> None:
    response = answer(TalonRequestFailedError("x", status=404), _RaisingWithRefusal)
    assert response.status_code == 400 and response.data == {"thing": ["refused"]}
    # a status the view does not claim stays Talon.One's error
    assert answer(TalonRequestFailedError("x", status=401), _RaisingWithRefusal).status_code == 502


def test_exception_handler_keeps_the_projects_handler_and_other_errors(settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "EXCEPTION_HANDLER": "tests.surfaces.test_api.project_handler",
    }
    response = answer(TalonUnavailableError("down"))
    assert response.status_code == 503
    assert response.data == {"error": "talon_unavailable"}  # formatted by the project
    assert answer(NotFound()).status_code == 404
    with pytest.raises(RuntimeError):  # not ours: a 500 as before
        answer(RuntimeError("boom"))


def project_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """A project's REST_FRAMEWORK["EXCEPTION_HANDLER"] that formats errors its own way."""
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, APIException):
        response.data = {"error": exc.default_code}
    return response


def test_endpoints_answer_talon_errors_through_the_handler(
    shop: Any, django_user_model: Any
) -> None:
    _, client, _ = customer(django_user_model, "ann")
    shop.control.add_fault(path="/v1/customer_profiles/*", kind="error", status=401)
    response = client.get(API + "me/inventory/")
    assert response.status_code == 502
    assert response.json() == {"detail": "Talon.One answered with an error."}
    shop.control.clear_faults()
    shop.control.add_fault(path="/v1/referrals", kind="error", status=503)
    response = post(client, "me/referrals/", {})
    assert response.status_code == 503
    assert response.json() == {
        "detail": "Talon.One is not reachable right now; please try again shortly."
    }
    shop.control.clear_faults()
    response = post(client, "me/referrals/", {"campaign_id": 999})  # a real 400
    assert response.status_code == 400
    assert response.json() == {"campaign_id": ["Talon.One refused this referral campaign."]}
    resilience.set_kill_switch(True)
    try:
        assert client.get(API + "me/inventory/").status_code == 503
        assert post(client, "me/referrals/", {}).status_code == 503
    finally:
        resilience.set_kill_switch(False)
    assert not Referral.objects.exists()
