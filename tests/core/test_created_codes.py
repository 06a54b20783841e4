"""Codes a rule hands out become the customer's: couponCreated, reserveCoupon and
referralCreated are stored as the customer's reservations and referrals ("My coupons", the
REST ``me/`` endpoints), awardGiveaway is shown with its code, and has_promotions says so.

The answers come from the real client over the recording HTTP layer (``fake_client``): the
effects are added to every session update answer, validated against the official spec.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client

from django_talon.models import CouponReservation, Referral
from django_talon.services.profiles import profile_for_user
from django_talon.services.quotes import quote_for_cart
from tests.core.conftest import ESPRESSO, FakeClient, make_cart
from tests.surfaces.helpers import request_for

pytestmark = pytest.mark.django_db(transaction=True)


def _handouts(integration_id: str) -> list[dict[str, Any]]:
    return [
        {
            "effectType": "couponCreated",
            "props": {"value": "THANKS-1", "profileId": integration_id},
        },
        {
            "effectType": "reserveCoupon",
            "props": {
                "couponValue": "VIP20",
                "profileIntegrationId": integration_id,
                "isNewReservation": True,
            },
        },
        {"effectType": "referralCreated", "props": {"value": "REF-NEW1"}},
        {
            "effectType": "awardGiveaway",
            "props": {
                "poolId": 3,
                "poolName": "Partner gift cards",
                "recipientIntegrationId": integration_id,
                "giveawayId": 11,
                "code": "GIFT-123",
            },
        },
    ]


def test_handed_out_codes_become_the_customers(
    fake_client: FakeClient, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    profile = profile_for_user(user)
    fake_client.effects = _handouts(profile.integration_id)
    cart = make_cart(user=user, items=[ESPRESSO])

    rows = CouponReservation.objects.filter(profile=profile).order_by("coupon_code")
    assert [(r.coupon_code, r.synced_at is not None) for r in rows] == [
        ("THANKS-1", True),
        ("VIP20", True),
    ]
    referral = Referral.objects.get(code="REF-NEW1")
    assert referral.advocate == profile

    summary = quote_for_cart(cart).summary
    assert summary is not None and summary.has_promotions
    assert [c.code for c in summary.created_coupons] == ["THANKS-1"]
    assert [c.code for c in summary.created_referrals] == ["REF-NEW1"]
    (gift,) = summary.giveaways
    assert (gift.code, gift.pool_name) == ("GIFT-123", "Partner gift cards")

    html = Template("{% load talon %}{% talon_cart_summary promotions %}").render(
        Context({"promotions": summary})
    )
    assert "THANKS-1" in html and "REF-NEW1" in html and "GIFT-123" in html

    request = request_for(None, user)
    mine = Template("{% load talon %}{% talon_reserved_coupons %}").render(
        Context({"request": request})
    )
    assert "THANKS-1" in mine and "VIP20" in mine

    http = Client()
    http.force_login(user)
    body = http.get("/api/talon/me/reserved-coupons/").json()
    assert {row["code"] for row in body} >= {"THANKS-1", "VIP20"}
    referrals = http.get("/api/talon/me/referrals/").json()
    assert "REF-NEW1" in {row["code"] for row in referrals}


def test_a_second_answer_stores_nothing_twice(
    fake_client: FakeClient, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("bo", "bo@example.com", "pw")
    profile = profile_for_user(user)
    fake_client.effects = _handouts(profile.integration_id)
    cart = make_cart(user=user, items=[ESPRESSO, ESPRESSO[:3] + (1, "coffee")])
    assert cart.items.count() == 2
    assert CouponReservation.objects.filter(profile=profile).count() == 2
    assert Referral.objects.filter(code="REF-NEW1").count() == 1


def test_codes_for_unknown_customers_are_not_stored(fake_client: FakeClient) -> None:
    fake_client.effects = _handouts("user-somebody-else")
    make_cart(items=[ESPRESSO])  # anonymous cart: no advocate, no known profile
    assert not CouponReservation.objects.exists()
    assert not Referral.objects.exists()
