"""With ``ATOMIC_REQUESTS=True`` (django-oscar's recommendation) the coupon form and the REST
code endpoints report Talon.One's answer in the same request (docs/adapters.md#transactions).

The request transaction is switched on for the database here, whatever the run's settings;
``make pytest`` also runs tests/core and tests/surfaces with ``TALON_TEST_ATOMIC_REQUESTS=1``.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import DEFAULT_DB_ALIAS, connection
from django.test import Client
from django.urls import resolve

from tests.core.conftest import ESPRESSO, make_cart

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def atomic_requests(monkeypatch: pytest.MonkeyPatch, shop: Any) -> Any:
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    return shop


def visitor_with_cart() -> Client:
    client = Client()
    web = client.session
    web["cart_id"] = make_cart(items=[ESPRESSO]).pk
    web.save()
    return client


@pytest.mark.parametrize(
    "url",
    ["/talon/coupon/apply/", "/talon/coupon/remove/", "/talon/referral/apply/"]
    + ["/api/talon/coupons/", "/api/talon/coupons/X/", "/api/talon/referral/"],
)
def test_code_views_are_outside_the_request_transaction(url: str) -> None:
    assert DEFAULT_DB_ALIAS in resolve(url).func._non_atomic_requests  # type: ignore[attr-defined]


def test_coupon_form_says_applied_in_the_same_request(atomic_requests: Any) -> None:
    client = visitor_with_cart()
    response = client.post("/talon/coupon/apply/", {"code": "WELCOME10"})
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert texts == ["Code WELCOME10 applied."]
    response = client.post("/talon/coupon/apply/", {"code": "NOPE-123"})
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert texts and "checking" not in texts[0]


def test_api_answers_200_with_talon_ones_verdict(atomic_requests: Any) -> None:
    client = visitor_with_cart()
    response = client.post(
        "/api/talon/coupons/", {"code": "WELCOME10"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["result"]["status"] == "accepted"
    refused = client.post(
        "/api/talon/coupons/", {"code": "NOPE-123"}, content_type="application/json"
    )
    assert refused.status_code == 200 and refused.json()["result"]["status"] == "rejected"
    removed = client.delete("/api/talon/coupons/WELCOME10/")
    assert removed.status_code == 200
    assert [c["code"] for c in removed.json()["coupons"]] == []
