"""Reservation admin: search by code, customer id and e-mail; filter by code and delivery."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from django_talon.models import CouponReservation
from django_talon.services import profile_for_user

pytestmark = pytest.mark.django_db

URL = "/admin/django_talon/couponreservation/"


@pytest.fixture
def rows(django_user_model: Any, shop_settings_off: None) -> dict[str, Any]:
    ann = profile_for_user(django_user_model.objects.create_user("ann", "ann@shop.test", "pw"))
    bob = profile_for_user(django_user_model.objects.create_user("bob", "bob@shop.test", "pw"))
    CouponReservation.objects.create(profile=ann, coupon_code="VIP20")
    delivered = CouponReservation.objects.create(profile=bob, coupon_code="GOLD5")
    CouponReservation.objects.filter(pk=delivered.pk).update(synced_at="2026-01-01T00:00:00Z")
    return {"ann": ann, "bob": bob}


@pytest.fixture
def shop_settings_off(settings: Any) -> None:
    settings.TALON = {**settings.TALON, "SYNC_PROFILES_ON_SAVE": False}


def listed(client: Client, **query: str) -> set[str]:
    response = client.get(URL, query)
    assert response.status_code == 200
    return {r.coupon_code for r in response.context["cl"].result_list}


def test_search_and_filters(admin_client: Client, rows: dict[str, Any]) -> None:
    assert listed(admin_client) == {"VIP20", "GOLD5"}
    assert listed(admin_client, q="VIP") == {"VIP20"}
    assert listed(admin_client, q=rows["bob"].integration_id) == {"GOLD5"}
    assert listed(admin_client, q="ann@shop.test") == {"VIP20"}
    assert listed(admin_client, coupon_code="GOLD5") == {"GOLD5"}
    assert listed(admin_client, synced_at__isempty="1") == {"VIP20"}  # not delivered yet
    assert listed(admin_client, synced_at__isempty="0") == {"GOLD5"}
