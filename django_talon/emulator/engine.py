"""The rule engine: which campaigns fire for a session, profile or event, and why others don't.

:func:`evaluate` runs every campaign of a (validated) campaign file against an
:class:`EvalContext` and returns an :class:`Outcome`: the effect objects in the v2 shape plus
what closing the session would redeem. It reads the store only through :class:`Lookups`.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django_talon.client.effects import encode_v1_effect
from django_talon.emulator.campaign_file import CampaignFileError
from django_talon.emulator.models import Campaign, Coupon, Profile, Referral
from django_talon.emulator.util import is_number, money


@dataclass
class EvalContext:
    """The inputs of one evaluation (a session update, profile update or custom event)."""

    now: datetime
    event_type: str
    profile: Profile | None
    profile_id: str
    cart_items: list[dict[str, Any]]
    session_attributes: dict[str, Any]
    first_session: bool
    coupon_codes: list[str]
    referral_code: str


@dataclass
class Outcome:
    """What an evaluation produced: effect objects plus what closing would redeem."""

    effects: list[dict[str, Any]] = field(default_factory=list)
    accepted_coupons: list[Coupon] = field(default_factory=list)
    accepted_referral: Referral | None = None
    triggered: list[int] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)


class Lookups:
    """Read access the engine needs to the store (kept narrow on purpose)."""

    def __init__(
        self,
        coupon: Callable[[str], Coupon | None],
        referral: Callable[[str], Referral | None],
        campaign_redemptions: Callable[[int], int],
        already_referred: Callable[[int, str, str], bool],
        rng: random.Random,
    ) -> None:
        self.coupon = coupon
        self.referral = referral
        self.campaign_redemptions = campaign_redemptions
        self.already_referred = already_referred
        self.rng = rng


def _head(campaign: Campaign | None, effect_type: str, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "campaignId": campaign.id if campaign else 0,
        "rulesetId": campaign.ruleset_id if campaign else 0,
        "ruleIndex": 0,
        "ruleName": campaign.rule_name if campaign else "",
        "effectType": effect_type,
        "props": props,
    }


def subtotal(items: Iterable[dict[str, Any]]) -> float:
    """Cart item total before discounts."""
    return money(sum(float(i["price"]) * int(i["quantity"]) for i in items))


def _matches_item(item: dict[str, Any], spec: dict[str, Any]) -> bool:
    if "sku" in spec and item.get("sku") != spec["sku"]:
        return False
    return not ("category" in spec and item.get("category") != spec["category"])


def _condition_holds(cond: dict[str, Any], ctx: EvalContext) -> bool:
    ctype = cond["type"]
    if ctype == "subtotalAtLeast":
        return subtotal(ctx.cart_items) >= float(cond["amount"])
    if ctype == "subtotalBelow":
        return subtotal(ctx.cart_items) < float(cond["amount"])
    if ctype == "containsSku":
        return any(i.get("sku") == cond["sku"] for i in ctx.cart_items)
    if ctype == "containsCategory":
        return any(i.get("category") == cond["category"] for i in ctx.cart_items)
    if ctype == "itemQuantityAtLeast":
        count = sum(int(i["quantity"]) for i in ctx.cart_items if _matches_item(i, cond))
        return count >= int(cond["quantity"])
    if ctype == "profileAttributeEquals":
        return ctx.profile is not None and bool(
            ctx.profile.attributes.get(cond["attribute"]) == cond["value"]
        )
    if ctype == "sessionAttributeEquals":
        return bool(ctx.session_attributes.get(cond["attribute"]) == cond["value"])
    if ctype == "audienceMember":
        return ctx.profile is not None and int(cond["audienceId"]) in ctx.profile.audiences
    if ctype == "firstSession":
        return ctx.first_session == bool(cond.get("value", True))
    if ctype == "profileRequired":
        return ctx.profile is not None
    raise CampaignFileError(f"unknown condition type {ctype!r}")  # parse_campaigns prevents this


def _failed_condition(campaign: Campaign, ctx: EvalContext) -> int | None:
    for index, cond in enumerate(campaign.conditions):
        if not _condition_holds(cond, ctx):
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


def _coupon_rejection(coupon: Coupon, ctx: EvalContext) -> str | None:
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


def _referral_rejection(referral: Referral, ctx: EvalContext, lookups: Lookups) -> str | None:
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


def _reject(
    campaign: Campaign | None,
    kind: str,
    value: str,
    reason: str,
    condition_index: int | None = None,
) -> dict[str, Any]:
    props: dict[str, Any] = {"value": value, "rejectionReason": reason}
    if condition_index is not None:
        props["conditionIndex"] = condition_index
    effect = _head(campaign, "rejectCoupon" if kind == "coupon" else "rejectReferral", props)
    if condition_index is not None:
        effect["conditionIndex"] = condition_index
    return effect


def _failure(
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


def evaluate(campaigns: list[Campaign], ctx: EvalContext, lookups: Lookups) -> Outcome:
    """Run every campaign against the context, in campaign id order."""
    outcome = Outcome()
    by_campaign: dict[int, list[tuple[str, Coupon]]] = {}
    seen_codes: set[str] = set()
    for code in ctx.coupon_codes:
        if code.casefold() in seen_codes:
            continue
        seen_codes.add(code.casefold())
        coupon = lookups.coupon(code)
        if coupon is None:
            outcome.effects.append(_reject(None, "coupon", code, "CouponNotFound"))
            continue
        by_campaign.setdefault(coupon.campaign_id, []).append((code, coupon))
    referral: Referral | None = None
    if ctx.referral_code:
        referral = lookups.referral(ctx.referral_code)
        if referral is None:
            outcome.effects.append(_reject(None, "referral", ctx.referral_code, "ReferralNotFound"))
    known = {c.id for c in campaigns}
    for cid, entries in by_campaign.items():
        if cid not in known:  # coupon of a campaign that no longer exists
            for code, _ in entries:
                outcome.effects.append(
                    _reject(None, "coupon", code, "CouponPartOfNotRunningCampaign")
                )
    if referral is not None and referral.campaign_id not in known:
        outcome.effects.append(
            _reject(None, "referral", ctx.referral_code, "ReferralPartOfNotRunningCampaign")
        )
    remaining = subtotal(ctx.cart_items)
    for campaign in campaigns:
        coupons_here = by_campaign.get(campaign.id, [])
        referral_here = (
            referral if referral is not None and referral.campaign_id == campaign.id else None
        )
        if ctx.event_type not in campaign.events:
            continue
        if not campaign.running(ctx.now):
            for code, _ in coupons_here:
                outcome.effects.append(
                    _reject(campaign, "coupon", code, "CouponPartOfNotRunningCampaign")
                )
            if referral_here is not None:
                outcome.effects.append(
                    _reject(
                        campaign, "referral", ctx.referral_code, "ReferralPartOfNotRunningCampaign"
                    )
                )
            continue
        trigger_effects: list[dict[str, Any]] = []
        used_coupon: Coupon | None = None
        used_referral: Referral | None = None
        if campaign.trigger == "coupon":
            if not coupons_here:
                outcome.failures.append(
                    _failure(campaign, "no coupon code of this campaign in session")
                )
                continue
            for extra_code, _ in coupons_here[1:]:
                outcome.effects.append(
                    _reject(campaign, "coupon", extra_code, "CouponPartOfNotTriggeredCampaign")
                )
            code, coupon = coupons_here[0]
            reason = _coupon_rejection(coupon, ctx)
            if reason is None:
                failed = _failed_condition(campaign, ctx)
                if failed is not None:
                    outcome.effects.append(
                        _reject(campaign, "coupon", code, "CouponRejectedByCondition", failed)
                    )
                    outcome.failures.append(
                        _failure(
                            campaign, "condition not met", condition_index=failed, coupon=coupon
                        )
                    )
                    continue
            if reason is None and _campaign_exhausted(campaign, lookups):
                reason = "CampaignLimitReached"
            if reason is not None:
                outcome.effects.append(_reject(campaign, "coupon", code, reason))
                outcome.failures.append(_failure(campaign, reason, coupon=coupon))
                continue
            accept = _head(campaign, "acceptCoupon", {"value": code})
            accept["triggeredByCoupon"] = coupon.id
            trigger_effects.append(accept)
            used_coupon = coupon
        elif campaign.trigger == "referral":
            if referral_here is None:
                outcome.failures.append(
                    _failure(campaign, "no referral code of this campaign in session")
                )
                continue
            reason = _referral_rejection(referral_here, ctx, lookups)
            if reason is None:
                failed = _failed_condition(campaign, ctx)
                if failed is not None:
                    outcome.effects.append(
                        _reject(
                            campaign,
                            "referral",
                            ctx.referral_code,
                            "ReferralRejectedByCondition",
                            failed,
                        )
                    )
                    outcome.failures.append(
                        _failure(
                            campaign,
                            "condition not met",
                            condition_index=failed,
                            referral=referral_here,
                        )
                    )
                    continue
            if reason is None and _campaign_exhausted(campaign, lookups):
                reason = "CampaignLimitReached"
            if reason is not None:
                outcome.effects.append(_reject(campaign, "referral", ctx.referral_code, reason))
                outcome.failures.append(_failure(campaign, reason, referral=referral_here))
                continue
            trigger_effects.append(_head(campaign, "acceptReferral", {"value": ctx.referral_code}))
            used_referral = referral_here
        else:
            failed = _failed_condition(campaign, ctx)
            if failed is not None:
                outcome.failures.append(
                    _failure(campaign, "condition not met", condition_index=failed)
                )
                continue
            if _campaign_exhausted(campaign, lookups):
                outcome.failures.append(_failure(campaign, "CampaignLimitReached"))
                continue
        produced, remaining = _apply_effects(campaign, ctx, lookups, remaining)
        if used_coupon is not None:
            for effect in produced:
                effect["triggeredByCoupon"] = used_coupon.id
        outcome.effects.extend(trigger_effects)
        outcome.effects.extend(produced)
        outcome.triggered.append(campaign.id)
        if used_coupon is not None:
            outcome.accepted_coupons.append(used_coupon)
        if used_referral is not None:
            outcome.accepted_referral = used_referral
    return outcome


def _campaign_exhausted(campaign: Campaign, lookups: Lookups) -> bool:
    return bool(campaign.redemption_limit) and (
        lookups.campaign_redemptions(campaign.id) >= campaign.redemption_limit
    )


def _apply_effects(
    campaign: Campaign, ctx: EvalContext, lookups: Lookups, remaining: float
) -> tuple[list[dict[str, Any]], float]:
    produced: list[dict[str, Any]] = []
    for spec in campaign.effects:
        etype = spec["type"]
        name = str(spec.get("name", campaign.name))
        if etype == "setDiscount":
            if is_number(spec.get("percent")):
                value = money(subtotal(ctx.cart_items) * float(spec["percent"]) / 100)
            else:
                value = money(float(spec["amount"]))
            value = money(min(value, remaining))
            if value <= 0:
                continue
            remaining = money(remaining - value)
            produced.append(_head(campaign, "setDiscount", {"name": name, "value": value}))
        elif etype == "setDiscountPerItem":
            for position, item in enumerate(ctx.cart_items):
                if not _matches_item(item, spec):
                    continue
                unit_price = float(item["price"])
                if is_number(spec.get("percent")):
                    per_unit = money(unit_price * float(spec["percent"]) / 100)
                else:
                    per_unit = money(min(float(spec["amount"]), unit_price))
                for sub in range(int(item["quantity"])):
                    value = money(min(per_unit, remaining))
                    if value <= 0:
                        break
                    remaining = money(remaining - value)
                    produced.append(
                        _head(
                            campaign,
                            "setDiscountPerItem",
                            {
                                "name": f"{name}#{position}",
                                "value": value,
                                "position": position,
                                "subPosition": sub,
                            },
                        )
                    )
        elif etype == "addFreeItem":
            props: dict[str, Any] = {"sku": spec["sku"], "name": str(spec.get("name", spec["sku"]))}
            if "quantity" in spec:
                props["desiredQuantity"] = int(spec["quantity"])
            produced.append(_head(campaign, "addFreeItem", props))
        elif etype == "addLoyaltyPoints":
            if ctx.profile is None and not ctx.profile_id:
                continue  # loyalty needs a customer profile
            if is_number(spec.get("points")):
                points = float(spec["points"])
            else:
                points = float(
                    math.floor(subtotal(ctx.cart_items) * float(spec["pointsPerAmount"]))
                )
            if points <= 0:
                continue
            produced.append(
                _head(
                    campaign,
                    "addLoyaltyPoints",
                    {
                        "name": name,
                        "programId": int(spec["programId"]),
                        "subLedgerId": str(spec.get("subLedgerId", "")),
                        "value": points,
                        "recipientIntegrationId": ctx.profile_id,
                        "transactionUUID": str(
                            uuid.UUID(int=lookups.rng.getrandbits(128), version=4)
                        ),
                    },
                )
            )
        elif etype == "showNotification":
            produced.append(
                _head(
                    campaign,
                    "showNotification",
                    {
                        "notificationType": str(spec.get("notificationType", "Info")),
                        "title": str(spec.get("title", campaign.name)),
                        "body": spec["body"],
                    },
                )
            )
    return produced, remaining


# --------------------------------------------------------------------------------------------
# v1 positional effects


def to_v1_effect(effect: dict[str, Any]) -> list[Any]:
    """``[campaignId, rulesetId, ruleIndex, [effectName, args...]]`` (the v1 wire format).

    Uses the client's encoder so the emulator and the client's decoder agree on argument order.
    """
    return encode_v1_effect(effect)
