"""Staff reservations are checked with Talon.One before they are accepted (admin form and
``POST staff/reservations/``, against the emulator), and a reservation Talon.One never
accepted is not shown as the customer's code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template import Context, Template
from django.test import Client

import django_talon.emulator
from django_talon import outbox, services
from django_talon.models import CouponReservation, CustomerProfile, OutboxMessage
from tests.surfaces.conftest import ESPRESSO, make_cart
from tests.surfaces.helpers import request_for

pytestmark = pytest.mark.django_db(transaction=True)

API = "/api/talon/"
ADMIN = "/admin/django_talon/customerprofile/"

DEMO = json.loads(
    (Path(django_talon.emulator.__file__).parent / "campaigns" / "demo.json").read_text()
)
#: The demo campaigns plus one whose only coupon expired long ago.
WITH_EXPIRED = {
    **DEMO,
    "campaigns": [
        *DEMO["campaigns"],
        {
            "id": 90,
            "name": "Summer 2020",
            "trigger": "coupon",
            "coupons": [{"value": "SUMMER20", "expiryDate": "2020-09-01T00:00:00Z"}],
            "effects": [{"type": "setDiscount", "name": "Summer", "percent": 20}],
        },
    ],
}


@pytest.fixture
def staff(django_user_model: Any) -> Client:
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


def customer(django_user_model: Any, name: str = "ann") -> tuple[Any, Client]:
    user = django_user_model.objects.create_user(name, password="pw")
    services.profile_for_user(user)
    client = Client()
    client.force_login(user)
    return user, client


def reserve(staff: Client, code: str, user: Any) -> Any:
    return staff.post(
        API + "staff/reservations/",
        {"code": code, "user_ids": [user.pk]},
        content_type="application/json",
    )


def reserved_for(shop: Any, code: str) -> list[str]:
    return [p.integration_id for p in shop.client().get_reserved_customers(code).data]


# --------------------------------------------------------------------------- API


def test_an_unknown_code_is_a_400_and_nothing_is_reserved(
    shop: Any, staff: Client, django_user_model: Any
) -> None:
    ann, ann_client = customer(django_user_model)
    response = reserve(staff, "VIPP20", ann)
    assert response.status_code == 400
    assert response.json() == {"code": ["Talon.One has no coupon VIPP20."]}
    assert not CouponReservation.objects.exists()
    assert not OutboxMessage.objects.filter(key__startswith="coupon:").exists()
    assert ann_client.get(API + "me/reserved-coupons/").json() == []


@pytest.mark.talon_campaigns(WITH_EXPIRED)
def test_an_expired_code_is_a_400_and_talon_one_keeps_no_reservation(
    shop: Any, staff: Client, django_user_model: Any
) -> None:
    ann, _ = customer(django_user_model)
    response = reserve(staff, "SUMMER20", ann)
    assert response.status_code == 400
    assert response.json() == {"code": ["Coupon SUMMER20 has expired in Talon.One."]}
    assert not CouponReservation.objects.exists()
    assert reserved_for(shop, "SUMMER20") == []  # the checking reservation was undone


def test_talon_one_unreachable_is_a_503_and_nothing_is_reserved(
    shop: Any, staff: Client, django_user_model: Any
) -> None:
    ann, _ = customer(django_user_model)
    shop.control.add_fault(kind="error", status=503, path="/v1/coupon_reservations/*")
    response = reserve(staff, "VIP20", ann)
    assert response.status_code == 503
    assert "detail" in response.json()
    assert not CouponReservation.objects.exists()


def test_a_code_in_another_case_is_reserved_as_talon_one_spells_it(
    shop: Any, staff: Client, django_user_model: Any
) -> None:
    ann, ann_client = customer(django_user_model)
    response = reserve(staff, "vip20", ann)
    assert response.status_code == 201, response.content
    assert response.json()["code"] == "VIP20"
    assert reserved_for(shop, "VIP20") == [ann.talon_profile.integration_id]
    assert [r["code"] for r in ann_client.get(API + "me/reserved-coupons/").json()] == ["VIP20"]
    # reserving again in yet another case keeps one row; the holders and release match too
    assert reserve(staff, "Vip20", ann).status_code == 201
    assert CouponReservation.objects.get().coupon_code == "VIP20"
    holders = staff.get(API + "staff/reservations/vip20/").json()
    assert [h["integration_id"] for h in holders["results"]] == [ann.talon_profile.integration_id]
    released = staff.post(
        API + "staff/reservations/release/",
        {"code": "vIp20", "user_ids": [ann.pk]},
        content_type="application/json",
    )
    assert released.json()["count"] == 1
    assert not CouponReservation.objects.exists() and reserved_for(shop, "VIP20") == []
    # the customer can redeem the reserved code typed in lower case
    reserve(staff, "VIP20", ann)
    store = ann_client.session
    store["cart_id"] = make_cart(ann, [ESPRESSO]).pk
    store.save()
    body = ann_client.post(
        API + "coupons/", {"code": "vip20"}, content_type="application/json"
    ).json()
    assert body["result"]["status"] == "accepted"


# --------------------------------------------------------------------------- admin


def test_the_admin_form_says_why_a_code_is_refused(
    shop: Any, staff: Client, django_user_model: Any
) -> None:
    ann, _ = customer(django_user_model)
    selected = [str(ann.talon_profile.pk)]
    page = staff.post(
        ADMIN,
        {
            "action": "reserve_coupon",
            ACTION_CHECKBOX_NAME: selected,
            "apply": "1",
            "code": "VIPP20",
        },
        follow=True,
    )
    assert page.status_code == 200
    assert b"errorlist" in page.content and b"Talon.One has no coupon VIPP20." in page.content
    assert b"Reserved VIPP20" not in page.content
    assert not CouponReservation.objects.exists()

    shop.control.add_fault(kind="error", status=503, path="/v1/coupon_reservations/*")
    down = staff.post(
        ADMIN,
        {"action": "reserve_coupon", ACTION_CHECKBOX_NAME: selected, "apply": "1", "code": "VIP20"},
    )
    assert b"could not check VIP20 right now, so nothing was reserved" in down.content
    assert not CouponReservation.objects.exists()


@pytest.mark.talon_campaigns(WITH_EXPIRED)
def test_the_admin_form_refuses_an_expired_code(
    shop: Any, staff: Client, django_user_model: Any
) -> None:
    ann, _ = customer(django_user_model)
    page = staff.post(
        ADMIN,
        {
            "action": "reserve_coupon",
            ACTION_CHECKBOX_NAME: [str(ann.talon_profile.pk)],
            "apply": "1",
            "code": "summer20",
        },
    )
    assert b"Coupon SUMMER20 has expired in Talon.One." in page.content
    assert not CouponReservation.objects.exists()


# --------------------------------------------------------------------------- never shown


def test_a_reservation_talon_one_refused_is_never_the_customers_code(
    shop: Any, django_user_model: Any
) -> None:
    """``services.reserve_coupon`` (imports, scripts) queues without checking: the row Talon.One
    refuses stays unsynced (a dead letter) and no customer surface shows it."""
    ann, ann_client = customer(django_user_model)
    services.reserve_coupon("GHOST1", [ann])
    row = CouponReservation.objects.get()
    assert row.synced_at is None
    assert OutboxMessage.objects.get(key="coupon:GHOST1").state == outbox.DEAD  # refused: 404
    assert ann_client.get(API + "me/reserved-coupons/").json() == []
    assert services.reserved_coupons(ann) == []
    html = Template("{% load talon %}{% talon_reserved_coupons %}").render(
        Context({"request": request_for(None, ann)})
    )
    assert "GHOST1" not in html
    # a reservation Talon.One accepted is shown everywhere
    services.reserve_coupon_checked("VIP20", [ann])
    assert [r["code"] for r in ann_client.get(API + "me/reserved-coupons/").json()] == ["VIP20"]
    assert services.reserved_coupons(ann) == ["VIP20"]
    shown = Template("{% load talon %}{% talon_reserved_coupons %}").render(
        Context({"request": request_for(None, ann)})
    )
    assert "VIP20" in shown and "GHOST1" not in shown
    assert CustomerProfile.objects.count() == 1
