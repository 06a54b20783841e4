"""``python -m tests.customuser.admin_search`` (``DJANGO_SETTINGS_MODULE=
tests.customuser.settings``): searches the customer profile and coupon reservation lists
for a ``Member`` by its ``handle`` and prints, per list, the HTTP status and the rows found,
then what the staff REST endpoints answer for customers named by their UUID keys, as JSON."""

from __future__ import annotations

import json
from typing import Any

import django


def main() -> None:
    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from django_talon.models import CouponReservation
    from django_talon.services import profile_for_user
    from tests.customuser.models import Member

    setup_test_environment()
    call_command("migrate", verbosity=0)
    carla = Member.objects.create_user("carla", "pw")
    profile_for_user(Member.objects.create_user("bert", "pw"))
    CouponReservation.objects.create(profile=profile_for_user(carla), coupon_code="VIP20")
    client = Client(raise_request_exception=False)
    client.force_login(Member.objects.create_user("root", "pw", is_staff=True, is_superuser=True))
    result = {}
    for model, shown in (
        ("customerprofile", "integration_id"),
        ("couponreservation", "coupon_code"),
    ):
        response = client.get(f"/admin/django_talon/{model}/", {"q": "carla"})
        rows = response.context["cl"].result_list if response.status_code == 200 else []
        result[model] = [response.status_code, sorted(getattr(row, shown) for row in rows)]
    result["carla"] = profile_for_user(carla).integration_id
    result["staff_api"] = _staff_api(client, carla)
    print(json.dumps(result))


def _staff_api(client: Any, carla: Any) -> dict[str, Any]:
    """The reservation's customers (their UUID keys as strings) and a reservation request
    naming customers by UUID: a malformed key is a 400 naming it, not a 500."""
    listed = client.get("/api/talon/staff/reservations/VIP20/")
    bad = client.post(
        "/api/talon/staff/reservations/",
        {"code": "VIP20", "user_ids": ["not-a-uuid"]},
        content_type="application/json",
    )
    unknown = client.post(
        "/api/talon/staff/reservations/",
        {"code": "VIP20", "user_ids": ["00000000-0000-4000-8000-000000000000"]},
        content_type="application/json",
    )
    rows = listed.json() if listed.status_code == 200 else None
    rows = rows["results"] if isinstance(rows, dict) else rows
    return {
        "list": [listed.status_code, [row["user_id"] for row in rows or []]],
        "bad": [bad.status_code, bad.json() if bad.status_code == 400 else None],
        "unknown": unknown.status_code,
        "carla_pk": str(carla.pk),
    }


if __name__ == "__main__":
    main()
