"""Partials rendered from real emulator answers; rendering makes no API call."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.template import Context, Template
from django.test import Client, RequestFactory

from django_talon.services import session_for_cart
from tests.surfaces.conftest import ESPRESSO, GRINDER, KETTLE, make_cart

pytestmark = pytest.mark.django_db(transaction=True)

ALL_TAGS = (
    "{% load talon %}{% talon_cart_summary %}{% talon_coupon_form %}{% talon_referral_form %}"
    "{% talon_reserved_coupons %}{% talon_loyalty %}{% talon_notifications %}"
)


def _request(user: Any, cart: Any) -> Any:
    request = RequestFactory().get("/cart/")
    request.session = {"cart_id": cart.pk}  # type: ignore[assignment]
    request.user = user
    return request


def test_partials_show_emulator_amounts_without_api_calls(
    shop: Any, django_user_model: Any, django_assert_max_num_queries: Any
) -> None:
    from django_talon import services

    user = django_user_model.objects.create_user("ann", password="pw")
    cart = make_cart(user, [ESPRESSO, GRINDER])
    services.apply_coupon(session_for_cart(cart), "WELCOME10")
    services.apply_coupon(session_for_cart(cart), "BOGUS1")
    assert any(c["path"].startswith("/v2/customer_sessions/") for c in shop.control.requests())
    shop.clear_requests()

    request = _request(user, cart)
    with django_assert_max_num_queries(4):
        html = Template(ALL_TAGS).render(Context({"request": request}))
    # the call log over HTTP (GET /_emulator/requests): rendering never calls Talon.One
    assert shop.control.requests() == []

    assert "Welcome 10%" in html and "-10.60 EUR" in html  # 10% of 106.00
    assert "-2.00 EUR" in html  # coffee: 1.00 off each of 2 bags
    assert "106.00 EUR" in html and "-12.60 EUR" in html and "93.40 EUR" in html
    assert "Canvas tote bag" in html  # subtotal >= 100
    assert "This order earns you 106 points." in html
    assert "Coupon BOGUS1 does not exist" in html
    assert "talon-coupon-accepted" in html


def test_notification_below_threshold(shop: Any, django_user_model: Any) -> None:
    user = django_user_model.objects.create_user("ann", password="pw")
    cart = make_cart(user, [KETTLE])
    html = Template("{% load talon %}{% talon_notifications %}{% talon_cart_summary %}").render(
        Context({"request": _request(user, cart)})
    )
    assert "Spend 100 EUR, get a free tote bag" in html
    assert "45.00 EUR" in html
    assert "Canvas tote bag" not in html


def last_message(response: Any) -> str:
    return [str(m) for m in get_messages(response.wsgi_request)][-1]


def test_coupon_form_views_apply_remove_and_throttle(
    shop: Any, settings: Any, django_user_model: Any
) -> None:
    settings.TALON = {**settings.TALON, "CODE_ATTEMPT_RATE": "2/day"}
    user = django_user_model.objects.create_user("ann", password="pw")
    cart = make_cart(user, [ESPRESSO, GRINDER])
    client = Client()
    client.force_login(user)
    session = client.session
    session["cart_id"] = cart.pk
    session.save()

    response = client.post("/talon/coupon/apply/", {"code": "WELCOME10", "next": "/cart/"})
    assert response.status_code == 302 and response["Location"] == "/cart/"
    assert last_message(response) == "Code WELCOME10 applied."
    assert session_for_cart(cart).coupon_codes == ["WELCOME10"]  # type: ignore[union-attr]

    response = client.post(
        "/talon/coupon/apply/", {"code": "NOPE", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"  # no open redirect
    assert last_message(response) == (
        "Coupon NOPE does not exist. Please check the code and try again."
    )
    response = client.post("/talon/coupon/apply/", {"code": "ANOTHER"})
    assert "Too many attempts" in last_message(response)

    response = client.post("/talon/coupon/remove/", {"code": "WELCOME10", "next": "/cart/"})
    assert response.status_code == 302
    assert session_for_cart(cart).coupon_codes == []  # type: ignore[union-attr]
    assert client.get("/talon/coupon/apply/").status_code == 405


def test_referral_form_view_and_bad_input(shop: Any, django_user_model: Any) -> None:
    user = django_user_model.objects.create_user("ann", password="pw")
    cart = make_cart(user, [ESPRESSO])
    client = Client()
    client.force_login(user)
    session = client.session
    session["cart_id"] = cart.pk
    session.save()
    response = client.post("/talon/referral/apply/", {"code": "NOT-A-REF"})
    assert "Referral code NOT-A-REF does not exist" in last_message(response)
    response = client.post("/talon/coupon/apply/", {"code": "has space"})
    assert "cannot contain spaces" in last_message(response)
