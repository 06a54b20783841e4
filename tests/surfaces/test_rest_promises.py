"""What the REST API and the HTML forms promise, held end to end against the emulator: a code
without a cart is refused (404 / "Add something to your cart first"), writes need a CSRF
token unless a token scheme authenticated them, the inventory is snake_case and typed, and
codes are the same code in any case."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from django_talon import services
from django_talon.models import CustomerSession
from tests.shopapp.models import Cart, CartItem, Order
from tests.surfaces.conftest import ESPRESSO, GRINDER, make_cart

pytestmark = pytest.mark.django_db(transaction=True)

API = "/api/talon/"


def post(client: Client, path: str, data: Any, **extra: Any) -> Any:
    return client.post(API + path, data, content_type="application/json", **extra)


def signed_in(django_user_model: Any, name: str, *items: Any, csrf: bool = False) -> Any:
    user = django_user_model.objects.create_user(name, password="pw")
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    if items:
        session = client.session
        session["cart_id"] = make_cart(user, list(items)).pk
        session.save()
    return user, client


def csrf_token(client: Client) -> str:
    """The token a page would embed: Django sets the cookie on the first page that asks."""
    client.get("/admin/login/")
    return str(client.cookies["csrftoken"].value)


# --------------------------------------------------------------------------- no cart


def test_a_code_without_a_cart_is_refused_then_kept_once_there_is_one(shop: Any) -> None:
    browser = Client()
    assert post(browser, "coupons/", {"code": "WELCOME10"}).status_code == 404
    assert not CustomerSession.objects.exists()

    # The shop creates the (empty) cart: now the code has a cart to belong to ...
    cart = Cart.objects.create()
    store = browser.session
    store["cart_id"] = cart.pk
    store.save()
    response = post(browser, "coupons/", {"code": "WELCOME10"})
    assert response.status_code in (200, 202), response.content
    # ... and it survives the first items, which the shop adds through its models
    for sku, name, price, quantity, category in (ESPRESSO, GRINDER):
        CartItem.objects.create(
            cart=cart, sku=sku, name=name, price=price, quantity=quantity, category=category
        )
    promotions = browser.get(API + "promotions/").json()
    assert [(c["code"], c["status"]) for c in promotions["coupons"]] == [("WELCOME10", "accepted")]
    assert promotions["total"] == "93.40"  # 106.00 - 10 % - 2.00 coffee discount
    assert CustomerSession.objects.count() == 1


def test_the_html_form_refuses_a_code_without_a_cart_too(shop: Any) -> None:
    browser = Client()
    response = browser.post("/talon/coupon/apply/", {"code": "WELCOME10", "next": "/"})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Add something to your cart first."
    ]
    assert not CustomerSession.objects.exists()


# --------------------------------------------------------------------------- CSRF


@pytest.mark.parametrize("path", ["coupons/", "referral/"])
def test_anonymous_writes_need_the_csrf_token(shop: Any, path: str) -> None:
    browser = Client(enforce_csrf_checks=True)
    store = browser.session
    store["cart_id"] = make_cart(None, [ESPRESSO]).pk
    store.save()
    forged = post(browser, path, {"code": "WELCOME10"})
    assert forged.status_code == 403
    assert forged.json()["detail"].startswith("CSRF Failed")
    assert browser.delete(API + "referral/").status_code == 403
    token = csrf_token(browser)
    answered = post(browser, path, {"code": "WELCOME10"}, HTTP_X_CSRFTOKEN=token)
    assert answered.status_code in (200, 202), answered.content


def test_signed_in_writes_need_the_csrf_token(shop: Any, django_user_model: Any) -> None:
    _, browser = signed_in(django_user_model, "ann", ESPRESSO, csrf=True)
    assert post(browser, "coupons/", {"code": "WELCOME10"}).status_code == 403
    assert browser.delete(API + "coupons/WELCOME10/").status_code == 403
    assert post(browser, "me/referrals/", {}).status_code == 403
    token = csrf_token(browser)
    assert (
        post(browser, "coupons/", {"code": "WELCOME10"}, HTTP_X_CSRFTOKEN=token).status_code == 200
    )
    # reads never need one
    assert browser.get(API + "promotions/").status_code == 200


def test_header_authenticated_clients_need_no_csrf_token(
    shop: Any, settings: Any, django_user_model: Any
) -> None:
    """Credentials in a header (Basic here; tokens and JWT alike) cannot be forged
    cross-site: no CSRF token is asked for."""
    settings.TALON = {
        **settings.TALON,
        "REST_AUTHENTICATION_CLASSES": [
            "rest_framework.authentication.SessionAuthentication",
            "rest_framework.authentication.BasicAuthentication",
        ],
    }
    user = django_user_model.objects.create_user("app", password="pw")
    make_cart(user, [ESPRESSO])
    app = Client(enforce_csrf_checks=True)
    basic = "Basic " + base64.b64encode(b"app:pw").decode()
    response = post(app, "coupons/", {"code": "WELCOME10"}, HTTP_AUTHORIZATION=basic)
    assert response.status_code == 200, response.content
    assert response.json()["result"]["status"] == "accepted"


# --------------------------------------------------------------------------- inventory


def test_inventory_is_snake_case_and_typed(shop: Any, django_user_model: Any) -> None:
    ann, browser = signed_in(django_user_model, "ann", ESPRESSO, GRINDER)
    Order.objects.create(cart=Cart.objects.get(user=ann), user=ann, status="paid")
    services.reserve_coupon_checked("VIP20", [ann])
    body = browser.get(API + "me/inventory/").json()
    assert set(body) == {"found", "coupons", "referrals", "loyalty"}
    assert body["found"] is True
    (coupon,) = [c for c in body["coupons"] if c["value"] == "VIP20"]
    assert set(coupon) == {
        "value",
        "campaign_id",
        "state",
        "start_date",
        "expiry_date",
        "usage_limit",
        "usage_counter",
        "profile_redemption_count",
        "reservation_mandatory",
    }
    assert (coupon["campaign_id"], coupon["reservation_mandatory"]) == (3, True)
    (program,) = body["loyalty"]
    assert set(program) == {"program_id", "title", "current_balance", "pending_balance"}
    assert program["current_balance"] == "106"
    assert not any(any(ch.isupper() for ch in key) for part in body["coupons"] for key in part)


def test_inventory_of_a_customer_talon_one_does_not_know(
    shop: Any, settings: Any, django_user_model: Any
) -> None:
    settings.TALON = {**settings.TALON, "SYNC_PROFILES_ON_SAVE": False}
    new, browser = signed_in(django_user_model, "new")
    services.profile_for_user(new)  # known here, never sent: Talon.One answers 404
    assert browser.get(API + "me/inventory/").json() == {
        "found": False,
        "coupons": [],
        "referrals": [],
        "loyalty": [],
    }


# --------------------------------------------------------------------------- case


def test_a_code_in_another_case_is_the_same_code(shop: Any, django_user_model: Any) -> None:
    _, browser = signed_in(django_user_model, "ann", ESPRESSO, GRINDER)
    first = post(browser, "coupons/", {"code": "WELCOME10"}).json()
    assert first["result"]["status"] == "accepted"
    again = post(browser, "coupons/", {"code": "welcome10"})
    assert again.status_code == 200  # answered, not "checking..." (202) forever
    body = again.json()
    assert (body["result"]["code"], body["result"]["status"]) == ("WELCOME10", "accepted")
    assert [c["code"] for c in body["promotions"]["coupons"]] == ["WELCOME10"]
    assert CustomerSession.objects.get().coupon_codes == ["WELCOME10"]
    # removing works in any case too
    removed = browser.delete(API + "coupons/Welcome10/")
    assert removed.status_code == 200
    assert removed.json()["coupons"] == [] and removed.json()["total"] == "104.00"


def test_a_code_typed_in_lower_case_first_is_answered(shop: Any, django_user_model: Any) -> None:
    _, browser = signed_in(django_user_model, "bob", ESPRESSO, GRINDER)
    body = post(browser, "coupons/", {"code": "welcome10"}).json()
    assert (body["result"]["code"], body["result"]["status"]) == ("welcome10", "accepted")
    assert body["promotions"]["total"] == "93.40"


def test_the_html_form_reports_a_code_in_another_case(shop: Any, django_user_model: Any) -> None:
    _, browser = signed_in(django_user_model, "cy", ESPRESSO)
    browser.post("/talon/coupon/apply/", {"code": "WELCOME10", "next": "/"})
    response = browser.post("/talon/coupon/apply/", {"code": "welcome10", "next": "/"})
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Code WELCOME10 applied.",
        "Code welcome10 applied.",  # answered, not "We are checking code welcome10."
    ]
