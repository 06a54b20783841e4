"""Why a campaign does not fire or a code is refused: conditions, code validity, limits.

Produces the ``rejectCoupon``/``rejectReferral`` effects and the ``ruleFailureReasons`` entries,
in Talon.One's own vocabulary (``CouponExpired``, ``ReferralRecipientDoesNotMatch`` ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django_talon.emulator.campaign_file import CampaignFileError
from django_talon.emulator.engine.context import (
    EvalContext,
    Lookups,
    effect_head,
    matches_item,
)
from django_talon.emulator.models import Campaign, Coupon, Referral


def _subtotal_at_least(cond: dict[str, Any], ctx: EvalContext) -> bool:
    return ctx.subtotal >= float(cond["amount"])


def _subtotal_below(cond: dict[str, Any], ctx: EvalContext) -> bool:
    return ctx.subtotal < float(cond["amount"])


def _contains_sku(cond: dict[str, Any], ctx: EvalContext) -> bool:
    items = ctx.cart_items
    if not items:
        return False
    sku = cond["sku"]
    for item in items:  # (a loop, not any() over a generator: no frame per item)
        if item.get("sku") == sku:
            return True
    return False


def _contains_category(cond: dict[str, Any], ctx: EvalContext) -> bool:
    items = ctx.cart_items
    if not items:
        return False
    category = cond["category"]
    for item in items:
        if item.get("category") == category:
            return True
    return False


def _item_quantity_at_least(cond: dict[str, Any], ctx: EvalContext) -> bool:
    count = sum(int(i["quantity"]) for i in ctx.cart_items if matches_item(i, cond))
    return count >= int(cond["quantity"])


def _profile_attribute_equals(cond: dict[str, Any], ctx: EvalContext) -> bool:
    return ctx.profile is not None and bool(
        ctx.profile.attributes.get(cond["attribute"]) == cond["value"]
    )


def _session_attribute_equals(cond: dict[str, Any], ctx: EvalContext) -> bool:
    return bool(ctx.session_attributes.get(cond["attribute"]) == cond["value"])


def _event_attribute_equals(cond: dict[str, Any], ctx: EvalContext) -> bool:
    return bool(ctx.event_attributes.get(cond["attribute"]) == cond["value"])


def _catalog_attribute_equals(cond: dict[str, Any], ctx: EvalContext) -> bool:
    return any(
        ctx.catalog.get(i.get("sku") or "", {}).get(cond["attribute"]) == cond["value"]
        for i in ctx.cart_items
    )


def _audience_member(cond: dict[str, Any], ctx: EvalContext) -> bool:
    return ctx.profile is not None and int(cond["audienceId"]) in ctx.profile.audiences


def _first_session(cond: dict[str, Any], ctx: EvalContext) -> bool:
    return ctx.first_session == bool(cond.get("value", True))


def _profile_required(cond: dict[str, Any], ctx: EvalContext) -> bool:
    return ctx.profile is not None


#: condition type -> whether it holds. A table rather than a chain of ``if ctype == ...``
#: (issue 13): a condition near the end of the chain compared its type a dozen times. Each
#: check reads the condition when it runs, so a condition edited in place is seen at once.
CONDITION_CHECKS: dict[str, Callable[[dict[str, Any], EvalContext], bool]] = {
    "subtotalAtLeast": _subtotal_at_least,
    "subtotalBelow": _subtotal_below,
    "containsSku": _contains_sku,
    "containsCategory": _contains_category,
    "itemQuantityAtLeast": _item_quantity_at_least,
    "profileAttributeEquals": _profile_attribute_equals,
    "sessionAttributeEquals": _session_attribute_equals,
    "eventAttributeEquals": _event_attribute_equals,
    "catalogAttributeEquals": _catalog_attribute_equals,
    "audienceMember": _audience_member,
    "firstSession": _first_session,
    "profileRequired": _profile_required,
}


def failed_condition(campaign: Campaign, ctx: EvalContext) -> int | None:
    """The index of the campaign's first condition that does not hold (None: all hold)."""
    conditions = campaign.conditions
    if not conditions:
        return None
    checks = CONDITION_CHECKS
    for index, cond in enumerate(conditions):
        check = checks.get(cond["type"])
        if check is None:  # parse_campaigns prevents this
            raise CampaignFileError(f"unknown condition type {cond['type']!r}")
        if not check(cond, ctx):
            return index
    return None


def _lifetime_rejection(
    code: Coupon | Referral, ctx: EvalContext, reasons: tuple[str, str, str]
) -> str | None:
    """Coupons and referrals expire and run out alike: ``reasons`` names (not yet valid,
    expired, used up) in the code kind's own rejection vocabulary."""
    not_yet, expired, used_up = reasons
    if code.start_date is not None and ctx.now < code.start_date:
        return not_yet
    if code.expiry_date is not None and ctx.now >= code.expiry_date:
        return expired
    if code.usage_limit and code.usage_counter >= code.usage_limit:
        return used_up
    return None


def coupon_rejection(coupon: Coupon, ctx: EvalContext) -> str | None:
    """The rejection reason for using this coupon in this context, or None if usable."""
    lifetime = _lifetime_rejection(
        coupon, ctx, ("CouponStartDateInFuture", "CouponExpired", "CouponLimitReached")
    )
    if lifetime is not None:
        return lifetime
    needs_profile = coupon.recipient or coupon.reservation_mandatory or coupon.profile_limit
    if needs_profile and not ctx.profile_id:
        return "ProfileRequired"
    if coupon.recipient and coupon.recipient != ctx.profile_id:
        return "CouponRecipientDoesNotMatch"
    if coupon.reservation_mandatory and ctx.profile_id not in coupon.reserved_for:
        return "CouponReservationRequired"
    if (
        coupon.profile_limit
        and coupon.profile_redemptions.get(ctx.profile_id, 0) >= coupon.profile_limit
    ):
        return "ProfileLimitReached"
    return None


def referral_rejection(referral: Referral, ctx: EvalContext, lookups: Lookups) -> str | None:
    lifetime = _lifetime_rejection(
        referral, ctx, ("ReferralStartDateInFuture", "ReferralExpired", "ReferralLimitReached")
    )
    if lifetime is not None:
        return lifetime
    if not ctx.profile_id:
        return "ProfileRequired"
    if ctx.profile_id == referral.advocate:
        return "ReferralRecipientIdSameAsAdvocate"
    if referral.friend and referral.friend != ctx.profile_id:
        return "ReferralRecipientDoesNotMatch"
    if lookups.already_referred(referral.campaign_id, ctx.profile_id, referral.code):
        return "ReferralCustomerAlreadyReferred"
    return None


def reject_effect(
    campaign: Campaign | None,
    kind: str,
    value: str,
    reason: str,
    condition_index: int | None = None,
) -> dict[str, Any]:
    props: dict[str, Any] = {"value": value, "rejectionReason": reason}
    if condition_index is not None:
        props["conditionIndex"] = condition_index
    effect = effect_head(campaign, "rejectCoupon" if kind == "coupon" else "rejectReferral", props)
    if condition_index is not None:
        effect["conditionIndex"] = condition_index
    return effect


def failure_reason(
    campaign: Campaign,
    details: str,
    *,
    condition_index: int | None = None,
    coupon: Coupon | None = None,
    referral: Referral | None = None,
) -> dict[str, Any]:
    reason: dict[str, Any] = {
        "campaignID": campaign.id,
        "campaignName": campaign.name,
        "rulesetID": campaign.ruleset_id,
        "ruleIndex": 0,
        "ruleName": campaign.rule_name,
        "details": details,
    }
    if condition_index is not None:
        reason["conditionIndex"] = condition_index
    if coupon is not None:
        reason["couponID"] = coupon.id
        reason["couponValue"] = coupon.value
    if referral is not None:
        reason["referralID"] = referral.id
        reason["referralValue"] = referral.code
    return reason


def campaign_exhausted(campaign: Campaign, lookups: Lookups) -> bool:
    return bool(campaign.redemption_limit) and (
        lookups.campaign_redemptions(campaign.id) >= campaign.redemption_limit
    )
