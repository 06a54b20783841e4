"""``python -m tests.customuser.admin_search`` (``DJANGO_SETTINGS_MODULE=
tests.customuser.settings``): searches the customer profile and coupon reservation lists
for a ``Member`` by its ``handle`` and prints, per list, the HTTP status and the rows found, as JSON."""

from __future__ import annotations

import json

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
    print(json.dumps(result))


if __name__ == "__main__":
    main()
