"""Rejection reasons -> human messages: every documented reason, fallback, overrides, i18n."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from django.utils import translation

from django_talon import messages
from tests.resources import require_spec

COUPON_REASONS = [
    "CampaignLimitReached", "CouponExpired", "CouponLimitReached", "CouponNotFound",
    "CouponPartOfNotRunningCampaign", "CouponRecipientDoesNotMatch", "CouponRejectedByCondition",
    "CouponStartDateInFuture", "EffectCouldNotBeApplied", "ProfileLimitReached",
    "CouponPartOfNotTriggeredCampaign", "CouponReservationRequired", "ProfileRequired",
]  # fmt: skip
REFERRAL_REASONS = [
    "AdvocateNotFound", "CampaignLimitReached", "EffectCouldNotBeApplied", "ProfileLimitReached",
    "ReferralCustomerAlreadyReferred", "ReferralExpired", "ReferralLimitReached",
    "ReferralNotFound", "ReferralPartOfNotRunningCampaign", "ReferralRecipientDoesNotMatch",
    "ReferralRecipientIdSameAsAdvocate", "ReferralRejectedByCondition",
    "ReferralStartDateInFuture", "ReferralPartOfNotTriggeredCampaign",
]  # fmt: skip


def test_every_documented_reason_has_its_own_message() -> None:
    assert set(messages.COUPON_REJECTION_MESSAGES) == set(COUPON_REASONS)
    assert set(messages.REFERRAL_REJECTION_MESSAGES) == set(REFERRAL_REASONS)
    coupon_texts = {str(m) for m in messages.COUPON_REJECTION_MESSAGES.values()}
    referral_texts = {str(m) for m in messages.REFERRAL_REJECTION_MESSAGES.values()}
    assert len(coupon_texts) == len(COUPON_REASONS)
    assert len(referral_texts) == len(REFERRAL_REASONS)


def test_reason_lists_match_the_api_digest_when_available() -> None:
    """Guards against the hard-coded lists above drifting from the digest of the spec."""
    text = (require_spec() / "TALON_API.md").read_text()
    coupon = re.search(r"rejectCoupon `rejectionReason` values: (.*?)\.\n", text, re.S)
    referral = re.search(r"rejectReferral `rejectionReason` values: (.*?)\. \(", text, re.S)
    assert coupon and referral
    assert {r.strip() for r in coupon.group(1).split(",")} == set(COUPON_REASONS)
    assert {r.strip() for r in referral.group(1).split(",")} == set(REFERRAL_REASONS)


@pytest.mark.parametrize("reason", COUPON_REASONS)
def test_coupon_message_mentions_code_and_is_not_the_reason(reason: str) -> None:
    text = messages.coupon_rejection_message(reason, "SPRING")
    assert reason not in text
    assert "%(" not in text
    assert text.strip()


@pytest.mark.parametrize("reason", REFERRAL_REASONS)
def test_referral_message_is_human(reason: str) -> None:
    text = messages.referral_rejection_message(reason, "FRIEND-1")
    assert reason not in text and "%(" not in text and text.strip()


def test_unknown_reason_falls_back_to_generic_message() -> None:
    assert messages.coupon_rejection_message("BrandNewReason2030", "X1") == (
        "Coupon X1 could not be applied."
    )
    assert messages.referral_rejection_message(None, "R1") == (
        "Referral code R1 could not be applied."
    )


def test_settings_overrides_per_reason_per_kind_and_fallback() -> None:
    overrides = {
        "CouponExpired": "Too late for %(code)s!",
        "referral:CampaignLimitReached": "Referral programme full.",
        "*": "Nope (%(code)s).",
        "CouponNotFound": "Broken %(missing)s placeholder",
    }
    with override_settings(TALON={"REJECTION_MESSAGES": overrides}):
        assert messages.coupon_rejection_message("CouponExpired", "A") == "Too late for A!"
        assert messages.referral_rejection_message("CampaignLimitReached", "R") == (
            "Referral programme full."
        )
        # coupon kind keeps its built-in message for the same reason
        assert "limit" in messages.coupon_rejection_message("CampaignLimitReached", "C")
        assert messages.coupon_rejection_message("Whatever", "Q") == "Nope (Q)."
        # a broken override never breaks the page
        assert messages.coupon_rejection_message("CouponNotFound", "Z") == (
            "Broken %(missing)s placeholder"
        )


def test_messages_follow_the_active_language() -> None:
    with translation.override("en"):
        assert messages.coupon_rejection_message("CouponExpired", "A") == "Coupon A has expired."
    # Without a catalog for a language gettext returns the msgid, never the reason code.
    with translation.override("de"):
        assert "CouponExpired" not in messages.coupon_rejection_message("CouponExpired", "A")
