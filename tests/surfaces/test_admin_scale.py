"""The reservation admin at scale: pages and actions whose cost must not grow with the rows.

* The changelist's "coupon code" filter listed every distinct code on every page load
  (2,000 links, 190 KB): gone; the search finds codes.
* Reserving for "select all" wrote each customer's row with a lookup and an insert (2,003
  profiles: 4,131 queries, 8.7 s in one request): a constant number of queries per batch.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from django_talon import services
from django_talon.models import CouponReservation, CustomerProfile

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/admin/django_talon/couponreservation/"


def test_the_changelist_lists_no_filter_link_per_code(admin_client: Client) -> None:
    profile = CustomerProfile.objects.create(integration_id="many")
    CouponReservation.objects.bulk_create(
        CouponReservation(profile=profile, coupon_code=f"P-{i}") for i in range(30)
    )
    page = admin_client.get(URL)
    assert page.status_code == 200
    assert b"?coupon_code=" not in page.content
    assert "coupon_code" not in page.context["cl"].list_filter
    searched = admin_client.get(URL, {"q": "P-17"})
    assert [r.coupon_code for r in searched.context["cl"].result_list] == ["P-17"]


def _profiles(prefix: str, n: int) -> list[CustomerProfile]:
    return list(
        CustomerProfile.objects.bulk_create(
            CustomerProfile(integration_id=f"{prefix}-{i}") for i in range(n)
        )
    )


def _reserve_queries(code: str, profiles: list[CustomerProfile]) -> int:
    with CaptureQueriesContext(connection) as queries:
        rows = services.reserve_coupon_checked(code, profiles)
    assert len(rows) == len(profiles)
    return len(queries)


def test_reserving_costs_the_same_queries_for_3_or_60_customers(shop: Any) -> None:
    few = _reserve_queries("VIP20", _profiles("few", 3))
    many = _reserve_queries("WELCOME10", _profiles("many", 60))
    assert many == few, (few, many)
    assert CouponReservation.objects.filter(synced_at__isnull=False).count() == 63


def test_rows_in_another_spelling_are_kept_and_marked_delivered(shop: Any) -> None:
    profiles = _profiles("kept", 4)
    queued = CouponReservation.objects.create(profile=profiles[0], coupon_code="vip20")
    rows = services.reserve_coupon_checked("VIP20", profiles)
    assert [r.profile_id for r in rows] == [p.pk for p in profiles]
    assert rows[0].pk == queued.pk and rows[0].coupon_code == "vip20"  # not a duplicate
    assert CouponReservation.objects.count() == 4
    assert not CouponReservation.objects.filter(synced_at__isnull=True).exists()
    assert all(r.pk is not None and r.synced_at is not None for r in rows)


def test_unchecked_reservations_are_written_in_bulk_too(shop: Any) -> None:
    """``services.reserve_coupon`` (imports, scripts): rows not delivered yet, no duplicate."""
    profiles = _profiles("bulk", 5)
    with CaptureQueriesContext(connection):
        services.reserve_coupon("WELCOME10", profiles[:2])
    with CaptureQueriesContext(connection) as second:
        services.reserve_coupon("WELCOME10", profiles)
    assert CouponReservation.objects.filter(coupon_code="WELCOME10").count() == 5
    inserts = [q for q in second.captured_queries if q["sql"].startswith("INSERT")]
    reservations = [q for q in inserts if "django_talon_couponreservation" in q["sql"]]
    assert len(reservations) == 1, reservations  # one bulk insert for the three new rows
