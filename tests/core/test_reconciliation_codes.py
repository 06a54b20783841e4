"""A code the order was charged with that the close neither redeemed nor rejected.

Talon.One's close answer can lack the charged code altogether (the close carried other
codes, or the answer accepted and rejected nothing for it). The reason read
``campaign_changed`` with the detail "same cart and codes", which was not true and sent the
operator to the Campaign Manager for a campaign nobody edited.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from django_talon.models import Discrepancy, LedgerEntry
from django_talon.services.ledger import BOOKED, CHARGED
from django_talon.services.reconciliation import book_answer

pytestmark = pytest.mark.django_db(transaction=True)

SESSION = "codes-session"
GRINDER = {"sku": "GRINDER", "name": "Grinder", "price": 89.0, "quantity": 1, "position": 0}


def charged(amounts: dict[str, str], codes: list[str], referral: str = "") -> LedgerEntry:
    entry: LedgerEntry = LedgerEntry.objects.create(
        order_key="shopapp.order:1",
        session_id=SESSION,
        kind=CHARGED,
        currency="EUR",
        quote_status="confirmed",
        discounts_by_campaign=amounts,
        coupon_codes=codes,
        referral_code=referral,
        cart_items=[GRINDER],
    )
    return entry


def discount(campaign: int, value: float) -> dict[str, Any]:
    return {
        "campaignId": campaign,
        "rulesetId": 1,
        "ruleIndex": 0,
        "ruleName": "10% off",
        "effectType": "setDiscount",
        "props": {"name": "10% off", "value": value},
    }


def accept(campaign: int, code: str) -> dict[str, Any]:
    return {
        "campaignId": campaign,
        "rulesetId": 1,
        "ruleIndex": 0,
        "ruleName": "10% off",
        "effectType": "acceptCoupon",
        "props": {"value": code},
    }


def test_a_charged_coupon_missing_from_the_close_is_named(shop_settings: Any) -> None:
    charged({"1": "8.90"}, ["WELCOME10"])
    book_answer(BOOKED, SESSION, [], sent={"cartItems": [GRINDER], "couponCodes": []})

    discrepancy = Discrepancy.objects.get()
    assert discrepancy.reason == Discrepancy.Reason.COUPON_REJECTED
    assert discrepancy.detail.startswith("charged with WELCOME10, not redeemed at the close")
    assert "same cart and codes" not in discrepancy.detail
    assert discrepancy.difference == Decimal("-8.90")


def test_a_charged_referral_missing_from_the_close_is_a_referral_reason(
    shop_settings: Any,
) -> None:
    charged({"3": "5.00"}, [], referral="FRIEND-1")
    book_answer(BOOKED, SESSION, [], sent={"cartItems": [GRINDER]})

    discrepancy = Discrepancy.objects.get()
    assert discrepancy.reason == Discrepancy.Reason.REFERRAL_REJECTED
    assert "charged with FRIEND-1" in discrepancy.detail


def test_the_same_codes_with_other_amounts_stay_campaign_changed(shop_settings: Any) -> None:
    """The check compares codes by their key (case-insensitive), so a booked code in another
    case is the same code; the difference is then the campaign's."""
    charged({"1": "8.90"}, ["WELCOME10"])
    book_answer(
        BOOKED,
        SESSION,
        [accept(1, "welcome10"), discount(1, 4.45)],
        sent={"cartItems": [GRINDER], "couponCodes": ["welcome10"]},
    )

    discrepancy = Discrepancy.objects.get()
    assert discrepancy.reason == Discrepancy.Reason.CAMPAIGN_CHANGED
    assert "same cart and codes" in discrepancy.detail
