"""Coupon and referral code effects: accepted, rejected, created, reserved, rolled back.

Coupon and referral codes travel in the same ``value`` prop and are rejected with the same
props (``rejectCoupon`` and ``rejectReferral`` share one props schema), so those fields are
declared once on private bases; each effect type still stays its own class.
"""

from __future__ import annotations

from dataclasses import dataclass

from .base import Effect, register

__all__ = [
    "AcceptCoupon",
    "AcceptReferral",
    "CouponCreated",
    "RedeemReferral",
    "ReferralCreated",
    "RejectCoupon",
    "RejectReferral",
    "ReserveCoupon",
    "RollbackCoupon",
    "RollbackReferral",
]


@dataclass(frozen=True, kw_only=True)
class _CodeEffect(Effect):
    """An effect about one coupon or referral code, sent as the ``value`` prop."""

    value: str = ""


@dataclass(frozen=True, kw_only=True)
class _CodeRejection(_CodeEffect):
    """A rejected code: why (open set, kept verbatim) and which condition/effect refused it."""

    rejection_reason: str = ""
    condition_index: int | None = None
    effect_index: int | None = None
    details: str | None = None
    campaign_exclusion_reason: str | None = None


@register("acceptCoupon")
@dataclass(frozen=True, kw_only=True)
class AcceptCoupon(_CodeEffect):
    """Coupon ``value`` is valid for this session."""


@register("rejectCoupon")
@dataclass(frozen=True, kw_only=True)
class RejectCoupon(_CodeRejection):
    """Coupon ``value`` was rejected; ``rejection_reason`` is an open set (kept verbatim)."""


@register("couponCreated")
@dataclass(frozen=True, kw_only=True)
class CouponCreated(_CodeEffect):
    """A coupon was generated for profile ``profile_id`` (full object in createdCoupons)."""

    profile_id: str = ""


@register("reserveCoupon")
@dataclass(frozen=True, kw_only=True)
class ReserveCoupon(Effect):
    """A rule reserved ``coupon_value`` for ``profile_integration_id``."""

    coupon_value: str = ""
    profile_integration_id: str = ""
    is_new_reservation: bool = False


@register("rollbackCoupon")
@dataclass(frozen=True, kw_only=True)
class RollbackCoupon(_CodeEffect):
    """The redemption of coupon ``value`` was rolled back."""


@register("acceptReferral")
@dataclass(frozen=True, kw_only=True)
class AcceptReferral(_CodeEffect):
    """Referral code ``value`` is valid for this session."""


@register("rejectReferral")
@dataclass(frozen=True, kw_only=True)
class RejectReferral(_CodeRejection):
    """Referral code ``value`` was rejected; ``rejection_reason`` is an open set."""


@register("referralCreated")
@dataclass(frozen=True, kw_only=True)
class ReferralCreated(_CodeEffect):
    """A referral code was generated (full object in createdReferrals)."""


@register("redeemReferral")
@dataclass(frozen=True, kw_only=True)
class RedeemReferral(Effect):
    """Deprecated predecessor of acceptReferral."""

    id: int = 0
    value: str = ""


@register("rollbackReferral")
@dataclass(frozen=True, kw_only=True)
class RollbackReferral(_CodeEffect):
    """The redemption of referral code ``value`` was rolled back."""
