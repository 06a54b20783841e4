"""An erased customer whose shop account is kept gets clear 4xx answers, against the emulator.

``POST me/referrals/`` used to answer 502 "Talon.One answered with an error." although no
call was made; staff reservations answered 201 with ``count`` 0 by ``user_ids`` but 400
"Unknown customers" by ``integration_ids``. Now: 403 saying the data was erased, and the same
400 naming the erased customers by either field; nothing is sent to Talon.One.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from django_talon import services
from django_talon.models import CouponReservation

pytestmark = pytest.mark.django_db(transaction=True)

RESERVE = "/api/talon/staff/reservations/"
RELEASE = "/api/talon/staff/reservations/release/"


@pytest.fixture
def erased(shop: Any, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("erased", "erased@example.com", "pw")
    services.profile_for_user(user)
    services.erase_customer(user, requested_by="test")
    shop.control.clear_requests()
    return user


@pytest.fixture
def staff(django_user_model: Any) -> Client:
    user = django_user_model.objects.create_user("desk", password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="django_talon",
            codename__in=["add_couponreservation", "delete_couponreservation"],
        )
    )
    client = Client()
    client.force_login(user)
    return client


def test_creating_a_referral_code_says_the_data_was_erased(shop: Any, erased: Any) -> None:
    client = Client()
    client.force_login(erased)
    response = client.post("/api/talon/me/referrals/", {}, content_type="application/json")
    assert response.status_code == 403
    assert "erased" in response.json()["detail"]
    assert shop.control.requests() == []  # Talon.One was not asked


@pytest.mark.parametrize("path", [RESERVE, RELEASE])
def test_staff_reservations_name_erased_customers_by_either_field(
    path: str, shop: Any, erased: Any, staff: Client, django_user_model: Any
) -> None:
    live = django_user_model.objects.create_user("live", "live@example.com", "pw")
    services.erase_customer(integration_id="user-999999", requested_by="test")  # never known
    shop.control.clear_requests()
    integration_id = f"user-{erased.pk}"

    by_user = staff.post(
        path, {"code": "VIP20", "user_ids": [erased.pk, live.pk]}, "application/json"
    )
    by_id = staff.post(
        path,
        {"code": "VIP20", "integration_ids": [integration_id, "user-999999"]},
        "application/json",
    )
    unknown = staff.post(path, {"code": "VIP20", "integration_ids": ["nobody"]}, "application/json")

    assert by_user.status_code == 400 and by_id.status_code == 400
    (user_error,) = by_user.json()["user_ids"]
    assert "Erased customers" in user_error and user_error.endswith(f": {erased.pk}")
    (id_error,) = by_id.json()["integration_ids"]
    assert "Erased customers" in id_error and id_error.endswith(f"{integration_id}, user-999999")
    assert unknown.json() == {"integration_ids": ["Unknown customers: nobody"]}
    assert not CouponReservation.objects.exists()  # the live customer was not reserved either
    assert shop.control.requests() == []
