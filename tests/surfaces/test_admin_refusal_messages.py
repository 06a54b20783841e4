"""Admin messages that tell an outage from a refusal, and say what was really done.

* The discrepancy re-check said "Talon.One unavailable?" for a 404 or 401 too.
* The reserve form read a 401/403 (a wrong API key) as "could not check right now… Try
  again": it is a configuration problem, said as such, without the key.
* "Reserved vip20" while Talon.One's spelling, VIP20, is stored.
* "Erasure requested for 0 customers." as a success when all were already erased.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import constants
from django.test import Client

from django_talon import services
from django_talon.models import CouponReservation, DataDeletionRequest, Discrepancy
from tests.shopapp.models import Order
from tests.surfaces.conftest import GRINDER, make_cart

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN = "/admin/django_talon/"


@pytest.fixture
def staff(django_user_model: Any) -> Client:
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


def shown(response: Any) -> list[tuple[int, str]]:
    assert response.status_code == 200
    return [(m.level, str(m)) for m in response.context["messages"]]


# --------------------------------------------------------------------------- re-check


@pytest.fixture
def discrepancy(shop: Any) -> Discrepancy:
    """WELCOME10 quoted at 10%, the campaign changed to 5% before the close."""
    cart = make_cart(items=[GRINDER])
    services.apply_coupon(cart, "WELCOME10")
    welcome = shop.server.app.store.campaign_by_id[1]
    welcome.effects = [{**welcome.effects[0], "percent": 5}]
    Order.objects.create(cart=cart, status="paid")
    found: Discrepancy = Discrepancy.objects.get()
    return found


def recheck(client: Client, discrepancy: Discrepancy) -> list[tuple[int, str]]:
    post = {"action": "recheck", ACTION_CHECKBOX_NAME: [discrepancy.pk]}
    return shown(client.post(ADMIN + "discrepancy/", post, follow=True))[1:]  # after "0 resolved"


def test_recheck_tells_unavailable_from_refused(
    shop: Any, staff: Client, discrepancy: Discrepancy
) -> None:
    shop.control.add_fault(kind="error", status=503, path="/v2/customer_sessions/*")
    ((level, text),) = recheck(staff, discrepancy)
    assert level == constants.WARNING
    assert "Talon.One is unavailable, try again later" in text and "refused" not in text

    shop.control.clear_faults()
    shop.control.add_fault(kind="error", status=404, path="/v2/customer_sessions/*")
    ((level, text),) = recheck(staff, discrepancy)
    assert level == constants.ERROR
    assert "Talon.One refused the request" in text and "HTTP 404" in text
    assert "unavailable" not in text

    shop.control.clear_faults()
    shop.control.add_fault(kind="error", status=401, path="/v2/customer_sessions/*")
    ((level, text),) = recheck(staff, discrepancy)
    assert level == constants.ERROR
    assert "HTTP 401" in text and "API key" in text and shop.api_key not in text


# --------------------------------------------------------------------------- reserve form


def _reserve(client: Client, profile_pk: int, code: str) -> Any:
    data = {
        "action": "reserve_coupon",
        ACTION_CHECKBOX_NAME: [str(profile_pk)],
        "apply": "1",
        "code": code,
    }
    return client.post(ADMIN + "customerprofile/", data, follow=True)


@pytest.mark.parametrize("status", [401, 403])
def test_reserve_form_says_a_401_or_403_is_a_configuration_problem(
    shop: Any, staff: Client, django_user_model: Any, status: int
) -> None:
    profile = services.profile_for_user(django_user_model.objects.create_user("ann"))
    shop.control.add_fault(kind="error", status=status, path="/v1/coupon_reservations/*")
    page = _reserve(staff, profile.pk, "VIP20").content.decode()
    assert "errorlist" in page
    assert f"credentials (HTTP {status})" in page and "configuration problem" in page
    assert "API key" in page and "Try again" not in page
    assert shop.api_key not in page
    assert not CouponReservation.objects.exists()


def test_reserve_form_names_other_refusals_with_their_status(
    shop: Any, staff: Client, django_user_model: Any
) -> None:
    profile = services.profile_for_user(django_user_model.objects.create_user("ann"))
    shop.control.add_fault(kind="error", status=409, path="/v1/coupon_reservations/*")
    page = _reserve(staff, profile.pk, "VIP20").content.decode()
    assert "Talon.One refused to check VIP20 (HTTP 409)" in page
    assert not CouponReservation.objects.exists()


def test_reserved_message_shows_talon_ones_spelling(
    shop: Any, staff: Client, django_user_model: Any
) -> None:
    profile = services.profile_for_user(django_user_model.objects.create_user("ann"))
    messages = shown(_reserve(staff, profile.pk, "vip20"))
    assert messages == [(constants.SUCCESS, "Reserved VIP20 for 1 customer.")]
    assert CouponReservation.objects.get().coupon_code == "VIP20"


# --------------------------------------------------------------------------- erasure


def test_erasure_of_customers_already_erased_is_not_a_success(
    shop: Any, staff: Client, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("ann")
    profile = services.profile_for_user(user)
    services.erase_customer(user, requested_by="test")
    data = {"action": "request_erasure", ACTION_CHECKBOX_NAME: [str(profile.pk)]}
    for extra in ({}, {"confirm": "yes"}):  # the first post asks for no confirmation either
        messages = shown(staff.post(ADMIN + "customerprofile/", {**data, **extra}, follow=True))
        assert messages == [
            (
                constants.WARNING,
                "The selected customers were already erased: nothing was requested.",
            )
        ]
    assert DataDeletionRequest.objects.count() == 1  # the first erasure's only


def test_resync_of_only_erased_profiles_is_not_a_success(
    shop: Any, staff: Client, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("ann")
    profile = services.profile_for_user(user)
    services.erase_customer(user, requested_by="test")
    data = {"action": "resync", ACTION_CHECKBOX_NAME: [str(profile.pk)]}
    assert shown(staff.post(ADMIN + "customerprofile/", data, follow=True)) == [
        (constants.WARNING, "Nothing was sent: the selected profiles are erased or have no user.")
    ]
