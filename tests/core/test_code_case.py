"""Talon.One matches codes case-insensitively; so does every comparison of the app: a code
rejected in another case than the shopper typed is still dropped, and a charged code is
still recognised at the close and in reconciliation."""

from __future__ import annotations

import pytest

from django_talon import services
from django_talon.models import CustomerSession, LedgerEntry
from django_talon.services.reconciliation import _codes_not_charged, _rejection_reason
from tests.core.conftest import ESPRESSO, FakeClient, make_cart

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_code_rejected_in_another_case_is_dropped(fake_client: FakeClient) -> None:
    cart = make_cart(items=[ESPRESSO])
    fake_client.effects = [
        {"effectType": "rejectCoupon", "props": {"value": "welcome10", "rejectionReason": "x"}}
    ]
    services.apply_coupon(cart, "WELCOME10")
    assert CustomerSession.objects.get().coupon_codes == []


def test_reconciliation_compares_codes_in_any_case() -> None:
    charged = LedgerEntry(coupon_codes=["WELCOME10"], referral_code="REF-AB")
    booked = LedgerEntry(coupon_codes=["welcome10"], referral_code="ref-ab")
    assert _codes_not_charged(charged, booked) == ()
    rejected = LedgerEntry(
        effects=[
            {
                "campaignId": 1,
                "rulesetId": 1,
                "ruleIndex": 0,
                "ruleName": "",
                "effectType": "rejectCoupon",
                "props": {"value": "welcome10", "rejectionReason": "CouponLimitReached"},
            }
        ]
    )
    found = _rejection_reason(rejected, charged)
    assert found is not None and found[0] == "budget_exhausted"
