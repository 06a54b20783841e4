"""A body nested too deeply is a 400 on every write endpoint of the API, never a 500.

DRF's ``JSONParser`` turns only ``ValueError`` into a ``ParseError``; Python's ``json``
raises ``RecursionError`` for deep nesting (5,000 ``[`` on Python 3.11, 100,000 on 3.13,
whose decoder goes deeper), which used to answer 500. The endpoints are read from the
URLconf, so a new one is covered too.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import URLPattern

from django_talon.api import urls
from tests.surfaces.conftest import ESPRESSO, make_cart

pytestmark = pytest.mark.django_db

#: 200 KB: too deep for ``json`` on every supported Python (3.13 still parses 5,000 levels)
NESTED = b"[" * 100_000 + b"]" * 100_000
BODY_METHODS = ("post", "put", "patch")


def write_endpoints() -> list[tuple[str, str]]:
    """(method, URL) of every API view method that takes a request body, or deletes."""
    found = []
    for pattern in urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        view = pattern.callback.view_class  # type: ignore[attr-defined]
        url = "/api/talon/" + re.sub(r"<(?:\w+:)?(\w+)>", r"\1", str(pattern.pattern))
        url = url.replace("code", "VIP20").replace("card_id", "CARD-1").replace("sku", "SKU-1")
        found += [(m, url) for m in (*BODY_METHODS, "delete") if hasattr(view, m)]
    return found


def test_the_endpoints_are_found() -> None:
    posts = {url for method, url in write_endpoints() if method == "post"}
    assert {
        "/api/talon/coupons/",
        "/api/talon/referral/",
        "/api/talon/points/",
        "/api/talon/me/referrals/",
        "/api/talon/staff/reservations/",
        "/api/talon/staff/reservations/release/",
    } <= posts


@pytest.fixture
def clients(shop: Any, django_user_model: Any) -> dict[str, Client]:
    customer = django_user_model.objects.create_user("nested", password="pw")
    make_cart(user=customer, items=[ESPRESSO])
    staff = django_user_model.objects.create_user("nested-staff", password="pw", is_staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="django_talon",
            codename__in=["add_couponreservation", "delete_couponreservation"],
        )
    )
    made = {}
    for role, user in (("customer", customer), ("staff", staff)):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        made[role] = client
    return made


@pytest.mark.parametrize(("method", "url"), write_endpoints())
def test_a_deeply_nested_body_is_a_400(method: str, url: str, clients: dict[str, Client]) -> None:
    client = clients["staff" if "/staff/" in url else "customer"]
    response = getattr(client, method)(url, NESTED, content_type="application/json")
    if method == "delete":  # no body is read: whatever the endpoint answers, never a 5xx
        assert response.status_code < 500, response.content[:200]
        return
    assert response.status_code == 400, response.content[:200]
    assert "nested too deeply" in response.json()["detail"]


def test_a_body_just_deep_enough_to_parse_is_still_a_validation_error(
    clients: dict[str, Client],
) -> None:
    """Below Python's recursion limit the body parses: the serializer refuses it (400)."""
    body = b"[" * 200 + b"]" * 200
    response = clients["customer"].post(
        "/api/talon/coupons/", body, content_type="application/json"
    )
    assert response.status_code == 400 and "nested too deeply" not in response.content.decode()
