"""Coupon reservation from Oscar's dashboard: the reserved customer's basket accepts the
code, another customer's refuses it; only staff with the permission get in."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from django_talon.models import CouponReservation
from tests.oscar.conftest import add_to_basket, enter_code, make_user, staff_client

pytestmark = pytest.mark.django_db(transaction=True)

PAGE = "/dashboard/talon/reservations/"


def shopper(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_reserved_code_is_accepted_for_its_customer_only(
    shop: Any, catalogue: dict[str, Any], staff: Any
) -> None:
    ada, bob = make_user("ada@example.com"), make_user("bob@example.com")
    dashboard = staff_client(staff)
    page = dashboard.get(PAGE)
    assert page.status_code == 200 and b"talon_reservation_form" in page.content
    response = dashboard.post(PAGE, {"code": "VIP20", "customers": "ada@example.com\n"})
    assert response.status_code == 302
    (reservation,) = CouponReservation.objects.all()
    assert reservation.profile.user == ada and reservation.coupon_code == "VIP20"
    assert b"ada@example.com" in dashboard.get(PAGE).content

    ada_client, bob_client = shopper(ada), shopper(bob)
    add_to_basket(ada_client, catalogue["mug"])
    add_to_basket(bob_client, catalogue["mug"])
    assert enter_code(ada_client, "VIP20") == "Code VIP20 applied."
    refused = enter_code(bob_client, "VIP20")
    assert "VIP20" not in refused or "applied" not in refused
    assert refused != "We are checking code VIP20."  # Talon.One's real answer, in the request


def test_release_and_unknown_customers(shop: Any, staff: Any) -> None:
    ada = make_user("ada@example.com")
    dashboard = staff_client(staff)
    response = dashboard.post(PAGE, {"code": "VIP20", "customers": "nobody@example.com"})
    assert response.status_code == 200  # the form again, with the error
    assert b"nobody@example.com" in response.content
    assert not CouponReservation.objects.exists()
    dashboard.post(PAGE, {"code": "VIP20", "customers": "ada@example.com"})
    response = dashboard.post(f"{PAGE}{ada.pk}/release/", {"code": "VIP20"})
    assert response.status_code == 302
    assert not CouponReservation.objects.exists()


def test_only_staff_with_the_permission(transactional_db: None) -> None:
    customer = make_user("eve@example.com")
    assert Client().get(PAGE).status_code == 302  # anonymous: to the login page
    assert shopper(customer).get(PAGE).status_code == 403
    staff_without = make_user("staff2@example.com", staff=True)
    assert shopper(staff_without).get(PAGE).status_code == 403
    assert (
        shopper(staff_without).post(PAGE, {"code": "X", "customers": "eve@example.com"}).status_code
        == 403
    )
    assert not CouponReservation.objects.exists()


def test_emails_and_the_code_filter_ignore_case(shop: Any, staff: Any) -> None:
    """An address typed as Bob@Example.com names bob@example.com (it was refused as
    unknown), and the list filtered by "vip20" shows VIP20's reservations (it showed none)."""
    bob = make_user("bob@example.com")
    dashboard = staff_client(staff)
    response = dashboard.post(PAGE, {"code": "VIP20", "customers": "Bob@Example.com\n"})
    assert response.status_code == 302, response.content[:2000]
    (reservation,) = CouponReservation.objects.all()
    assert reservation.profile.user == bob
    for query in ("VIP20", "vip20", "Vip20"):
        page = dashboard.get(PAGE, {"code": query})
        assert [r.pk for r in page.context["reservations"]] == [reservation.pk], query
    assert dashboard.get(PAGE, {"code": "VIP2"}).context["reservations"] == []
