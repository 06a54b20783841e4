"""Codes a rule hands out, end to end through the emulator (issue 14).

"Spend 100.00 or more -> a 10 % coupon for next time, a referral code to share, the VIP20
coupon reserved and a partner gift card": the emulator hands them out when the order's
session closes (``couponCreated``, ``referralCreated``, ``reserveCoupon``, ``awardGiveaway``
and ``createdCoupons`` / ``createdReferrals``), the delivery stores them as the customer's
(services/created_codes.py), the customer's surfaces list them, and the created coupon is
accepted in the next cart. A cancel of the order rolls none of them back (Talon.One has no
rollback effect for created or reserved codes or giveaways), so they stay the customer's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.template import Context, Template
from django.test import Client

from django_talon import services
from django_talon.client.effects import AwardGiveaway, CouponCreated, WillAwardGiveaway
from django_talon.models import CouponReservation, Referral
from django_talon.promotions import decoded_effects, summarize_stored
from django_talon.services.profiles import profile_for_user
from django_talon.services.quotes import quote_for_cart
from tests.core.shop import ESPRESSO, GRINDER, KETTLE, make_cart
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

CAMPAIGNS: dict[str, Any] = {
    "giveawayPools": [{"id": 3, "name": "Partner gift cards", "codes": ["GIFT-1", "GIFT-2"]}],
    "campaigns": [
        {
            "id": 71,
            "name": "10% thank-you coupon",
            "trigger": "coupon",
            "effects": [{"type": "setDiscount", "percent": 10}],
        },
        {"id": 72, "name": "Friends", "trigger": "referral", "effects": []},
        {
            "id": 73,
            "name": "VIP",
            "trigger": "coupon",
            "coupons": [{"value": "VIP20", "isReservationMandatory": True}],
            "effects": [{"type": "setDiscount", "amount": 20}],
        },
        {
            "id": 80,
            "name": "Big spender",
            "conditions": [{"type": "subtotalAtLeast", "amount": 100}],
            "effects": [
                {"type": "createCoupon", "couponCampaignId": 71, "pattern": "THX-######"},
                {"type": "createReferral", "referralCampaignId": 72},
                {"type": "reserveCoupon", "couponValue": "VIP20"},
                {"type": "awardGiveaway", "poolId": 3},
            ],
        },
    ],
}


@pytest.fixture
def handout_shop(shop: Any) -> Any:
    shop.load_campaigns(CAMPAIGNS)
    return shop


@pytest.fixture
def customer(db: Any) -> Any:
    user = get_user_model().objects.create_user("ada", "ada@example.com", "pw")
    profile_for_user(user)
    return user


def _big_order(user: Any) -> Order:
    """A paid order of 106.00 (GRINDER + 2 ESPRESSO): over 100, so the rule hands out."""
    cart = make_cart(user=user, items=[ESPRESSO, GRINDER])
    session = services.session_for_cart(cart, create=False)
    assert session is not None
    assert [type(e) for e in decoded_effects(session)] == [WillAwardGiveaway]  # open: a promise
    assert not CouponReservation.objects.exists()
    order: Order = Order.objects.create(cart=cart, user=user, status="paid")
    return order


def _created_code(order: Order) -> str:
    closed = services.session_for_order(order)
    assert closed is not None and closed.state == "closed"
    (created,) = [e for e in decoded_effects(closed) if isinstance(e, CouponCreated)]
    return str(created.value)


def test_closing_hands_out_codes_the_customer_sees_and_uses(
    handout_shop: Any, customer: Any
) -> None:
    order = _big_order(customer)
    code = _created_code(order)
    assert code.startswith("THX-")
    assert services.reserved_coupons(customer) == [code, "VIP20"]
    (referral,) = services.referrals_for_user(customer)
    assert referral.campaign_id == 72 and referral.code.startswith("REF-")
    assert Referral.objects.count() == 1

    http = Client()
    http.force_login(customer)
    mine = {row["code"] for row in http.get("/api/talon/me/reserved-coupons/").json()}
    assert mine == {code, "VIP20"}
    assert [r["code"] for r in http.get("/api/talon/me/referrals/").json()] == [referral.code]

    # the giveaway is in the closed session's summary and its template
    closed = services.session_for_order(order)
    assert closed is not None
    summary = summarize_stored(services.get_promotions(closed))
    assert [c.code for c in summary.created_coupons] == [code]
    assert [c.code for c in summary.created_referrals] == [referral.code]
    (gift,) = summary.giveaways
    assert (gift.code, gift.pool_name) == ("GIFT-1", "Partner gift cards")
    assert any(isinstance(e, AwardGiveaway) for e in decoded_effects(closed))
    html = Template("{% load talon %}{% talon_cart_summary promotions %}").render(
        Context({"promotions": summary})
    )
    assert "GIFT-1" in html and code in html

    # the created coupon is accepted in the next cart: 10 % of 45.00
    cart = make_cart(user=customer, items=[KETTLE])
    services.apply_coupon(cart, code)
    quote = quote_for_cart(cart)
    assert quote.summary is not None
    assert quote.summary.total_discount == Decimal("4.50")
    assert [c.code for c in quote.summary.coupons if c.accepted] == [code]


def test_a_cancelled_order_keeps_the_handed_out_codes(handout_shop: Any, customer: Any) -> None:
    order = _big_order(customer)
    code = _created_code(order)
    order.status = "cancelled"
    order.save()
    closed = services.session_for_order(order)
    assert closed is not None and closed.state == "cancelled"
    assert services.reserved_coupons(customer) == [code, "VIP20"]
    assert len(services.referrals_for_user(customer)) == 1
    cart = make_cart(user=customer, items=[KETTLE])
    services.apply_coupon(cart, code)
    summary = quote_for_cart(cart).summary
    assert summary is not None and summary.total_discount == Decimal("4.50")


def test_a_small_order_hands_out_nothing(handout_shop: Any, customer: Any) -> None:
    Order.objects.create(
        cart=make_cart(user=customer, items=[KETTLE]), user=customer, status="paid"
    )
    assert services.reserved_coupons(customer) == []
    assert services.referrals_for_user(customer) == []
