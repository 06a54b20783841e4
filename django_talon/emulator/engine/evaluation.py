"""Running the campaigns: which fire for a session, profile or event, in campaign id order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django_talon.emulator.engine.context import (
    EvalContext,
    Lookups,
    Outcome,
    effect_head,
)
from django_talon.emulator.engine.effects import apply_effects
from django_talon.emulator.engine.rejections import (
    campaign_exhausted,
    coupon_rejection,
    failed_condition,
    failure_reason,
    referral_rejection,
    reject_effect,
)
from django_talon.emulator.models import Campaign, Coupon, Referral


def evaluate(campaigns: list[Campaign], ctx: EvalContext, lookups: Lookups) -> Outcome:
    """Run every campaign against the context, in campaign id order."""
    outcome = Outcome()
    by_campaign = _coupons_by_campaign(ctx, lookups, outcome) if ctx.coupon_codes else {}
    referral = _find_referral(ctx, lookups, outcome)
    if by_campaign or referral is not None:
        _reject_codes_of_unknown_campaigns(campaigns, by_campaign, referral, ctx, outcome)
    remaining = ctx.subtotal
    event_type, now = ctx.event_type, ctx.now
    for campaign in campaigns:
        if event_type not in campaign.events:
            continue
        coupons_here = by_campaign.get(campaign.id, _NONE) if by_campaign else _NONE
        referral_here = (
            referral if referral is not None and referral.campaign_id == campaign.id else None
        )
        # (running() is only called for a campaign it could stop: disabled or with a window)
        if (
            campaign.state != "enabled"
            or campaign.start_time is not None
            or campaign.end_time is not None
        ) and not campaign.running(now):
            _reject_codes_of_stopped_campaign(campaign, coupons_here, referral_here, ctx, outcome)
            continue
        if campaign.trigger is None and not campaign.conditions and not campaign.redemption_limit:
            # the plain campaign (no code, no condition, no limit) always fires: _trigger's
            # answer without the call
            remaining = _fire(campaign, _NO_CODE, ctx, lookups, remaining, outcome)
            continue
        trigger = _trigger(campaign, coupons_here, referral_here, ctx, lookups, outcome)
        if trigger is not None:
            remaining = _fire(campaign, trigger, ctx, lookups, remaining, outcome)
    outcome.handouts = ctx.handouts
    outcome.cart_items, outcome.subtotal = ctx.cart_items, ctx.subtotal
    return outcome


#: no codes of a campaign in the session (shared, never modified)
_NONE: list[tuple[str, Coupon]] = []


@dataclass
class _Trigger:
    """Why a campaign fires: the accept effects of its code and the code closing redeems."""

    effects: list[dict[str, Any]] = field(default_factory=list)
    coupon: Coupon | None = None
    referral: Referral | None = None


#: a campaign without a code fires with nothing to accept or redeem (shared, never modified)
_NO_CODE = _Trigger()


def _coupons_by_campaign(
    ctx: EvalContext, lookups: Lookups, outcome: Outcome
) -> dict[int, list[tuple[str, Coupon]]]:
    """The session's coupon codes grouped by campaign; a repeated code counts once, an unknown
    one is rejected right away."""
    by_campaign: dict[int, list[tuple[str, Coupon]]] = {}
    seen_codes: set[str] = set()
    for code in ctx.coupon_codes:
        if code.casefold() in seen_codes:
            continue
        seen_codes.add(code.casefold())
        coupon = lookups.coupon(code)
        if coupon is None:
            outcome.effects.append(reject_effect(None, "coupon", code, "CouponNotFound"))
            continue
        by_campaign.setdefault(coupon.campaign_id, []).append((code, coupon))
    return by_campaign


def _find_referral(ctx: EvalContext, lookups: Lookups, outcome: Outcome) -> Referral | None:
    """The session's referral, if it names one; an unknown code is rejected right away."""
    if not ctx.referral_code:
        return None
    referral = lookups.referral(ctx.referral_code)
    if referral is None:
        outcome.effects.append(
            reject_effect(None, "referral", ctx.referral_code, "ReferralNotFound")
        )
    return referral


def _reject_codes_of_unknown_campaigns(
    campaigns: list[Campaign],
    by_campaign: dict[int, list[tuple[str, Coupon]]],
    referral: Referral | None,
    ctx: EvalContext,
    outcome: Outcome,
) -> None:
    """Codes whose campaign no longer exists (the campaigns were replaced since)."""
    known = {c.id for c in campaigns}
    for cid, entries in by_campaign.items():
        if cid not in known:
            for code, _ in entries:
                outcome.effects.append(
                    reject_effect(None, "coupon", code, "CouponPartOfNotRunningCampaign")
                )
    if referral is not None and referral.campaign_id not in known:
        outcome.effects.append(
            reject_effect(None, "referral", ctx.referral_code, "ReferralPartOfNotRunningCampaign")
        )


def _reject_codes_of_stopped_campaign(
    campaign: Campaign,
    coupons_here: list[tuple[str, Coupon]],
    referral_here: Referral | None,
    ctx: EvalContext,
    outcome: Outcome,
) -> None:
    """Codes of a campaign that is disabled or outside its start/end window."""
    for code, _ in coupons_here:
        outcome.effects.append(
            reject_effect(campaign, "coupon", code, "CouponPartOfNotRunningCampaign")
        )
    if referral_here is not None:
        outcome.effects.append(
            reject_effect(
                campaign, "referral", ctx.referral_code, "ReferralPartOfNotRunningCampaign"
            )
        )


def _trigger(
    campaign: Campaign,
    coupons_here: list[tuple[str, Coupon]],
    referral_here: Referral | None,
    ctx: EvalContext,
    lookups: Lookups,
    outcome: Outcome,
) -> _Trigger | None:
    """Whether a running campaign fires; None (with the reasons recorded) when it does not."""
    if campaign.trigger == "coupon":
        return _coupon_trigger(campaign, coupons_here, ctx, lookups, outcome)
    if campaign.trigger == "referral":
        return _referral_trigger(campaign, referral_here, ctx, lookups, outcome)
    failed = failed_condition(campaign, ctx)
    if failed is not None:
        outcome.failures.append(
            failure_reason(campaign, "condition not met", condition_index=failed)
        )
        return None
    if campaign.redemption_limit and campaign_exhausted(campaign, lookups):
        outcome.failures.append(failure_reason(campaign, "CampaignLimitReached"))
        return None
    return _NO_CODE


def _coupon_trigger(
    campaign: Campaign,
    coupons_here: list[tuple[str, Coupon]],
    ctx: EvalContext,
    lookups: Lookups,
    outcome: Outcome,
) -> _Trigger | None:
    """A coupon campaign fires on the first of its codes in the session that is usable on its
    own, if the conditions hold.

    Each code is checked for its own validity first (expired, used up, reserved for someone
    else ...) and refused with that reason, so an invalid code listed before a valid one does
    not cost the shopper the discount. A campaign fires once per session: further valid codes
    of a campaign that fired are refused with ``EffectCouldNotBeApplied`` (see
    :func:`_surplus_rejection`); when the campaign does not fire, every valid code gets the
    campaign's reason (condition not met, campaign limit reached).
    """
    if not coupons_here:
        outcome.failures.append(
            failure_reason(campaign, "no coupon code of this campaign in session")
        )
        return None
    if len(coupons_here) == 1:  # the usual case: no list to build
        valid = coupons_here
        reason = coupon_rejection(coupons_here[0][1], ctx)
        if reason is not None:
            _reject_coupon(campaign, coupons_here[0], reason, outcome)
            return None
    else:
        valid = _usable_codes(campaign, coupons_here, ctx, outcome)
        if not valid:
            return None
    failed = failed_condition(campaign, ctx)
    if failed is not None:
        for entry in valid:
            _reject_coupon(campaign, entry, "CouponRejectedByCondition", outcome, failed)
        return None
    if campaign_exhausted(campaign, lookups):
        for entry in valid:
            _reject_coupon(campaign, entry, "CampaignLimitReached", outcome)
        return None
    code, coupon = valid[0]
    accept = effect_head(campaign, "acceptCoupon", {"value": code})
    accept["triggeredByCoupon"] = coupon.id
    effects = [accept]
    for surplus_code, _ in valid[1:]:
        effects.append(_surplus_rejection(campaign, surplus_code, code))
    return _Trigger(effects=effects, coupon=coupon)


def _usable_codes(
    campaign: Campaign,
    coupons_here: list[tuple[str, Coupon]],
    ctx: EvalContext,
    outcome: Outcome,
) -> list[tuple[str, Coupon]]:
    """The campaign's codes that are usable on their own, in session order; the others are
    refused with their own reason, as if each had been sent alone."""
    valid: list[tuple[str, Coupon]] = []
    for entry in coupons_here:
        reason = coupon_rejection(entry[1], ctx)
        if reason is None:
            valid.append(entry)
        else:
            _reject_coupon(campaign, entry, reason, outcome)
    return valid


def _reject_coupon(
    campaign: Campaign,
    entry: tuple[str, Coupon],
    reason: str,
    outcome: Outcome,
    condition_index: int | None = None,
) -> None:
    """A ``rejectCoupon`` effect and the matching ``ruleFailureReasons`` entry for one code."""
    code, coupon = entry
    outcome.effects.append(reject_effect(campaign, "coupon", code, reason, condition_index))
    details = "condition not met" if condition_index is not None else reason
    outcome.failures.append(
        failure_reason(campaign, details, condition_index=condition_index, coupon=coupon)
    )


def _surplus_rejection(campaign: Campaign, code: str, applied: str) -> dict[str, Any]:
    """The refusal of a valid code whose campaign already fired with another code.

    The spec's rejection reasons have none for "another code of this campaign was applied";
    ``CouponPartOfNotTriggeredCampaign`` would claim the campaign did not fire, which it did.
    ``EffectCouldNotBeApplied`` ("an effect of the campaign was not applied because a limit for
    it was reached") is the nearest: the campaign's effects apply once per session, and they
    already did for ``applied``. ``details`` says so in words.
    """
    effect = reject_effect(campaign, "coupon", code, "EffectCouldNotBeApplied")
    effect["props"]["details"] = (
        f"another code of this campaign ({applied}) was applied; a campaign applies once "
        "per session"
    )
    return effect


def _referral_trigger(
    campaign: Campaign,
    referral_here: Referral | None,
    ctx: EvalContext,
    lookups: Lookups,
    outcome: Outcome,
) -> _Trigger | None:
    """A referral campaign fires on its referral code, if usable and the conditions hold."""
    if referral_here is None:
        outcome.failures.append(
            failure_reason(campaign, "no referral code of this campaign in session")
        )
        return None
    reason = referral_rejection(referral_here, ctx, lookups)
    if reason is None:
        failed = failed_condition(campaign, ctx)
        if failed is not None:
            outcome.effects.append(
                reject_effect(
                    campaign, "referral", ctx.referral_code, "ReferralRejectedByCondition", failed
                )
            )
            outcome.failures.append(
                failure_reason(
                    campaign, "condition not met", condition_index=failed, referral=referral_here
                )
            )
            return None
    if reason is None and campaign_exhausted(campaign, lookups):
        reason = "CampaignLimitReached"
    if reason is not None:
        outcome.effects.append(reject_effect(campaign, "referral", ctx.referral_code, reason))
        outcome.failures.append(failure_reason(campaign, reason, referral=referral_here))
        return None
    accept = effect_head(campaign, "acceptReferral", {"value": ctx.referral_code})
    return _Trigger(effects=[accept], referral=referral_here)


def _fire(
    campaign: Campaign,
    trigger: _Trigger,
    ctx: EvalContext,
    lookups: Lookups,
    remaining: float,
    outcome: Outcome,
) -> float:
    """Record a firing campaign's effects; returns what is left of the cart to discount."""
    produced, remaining = apply_effects(campaign, ctx, lookups, remaining)
    if trigger is _NO_CODE:  # the usual campaign: nothing accepted, nothing to redeem
        outcome.effects += produced
        outcome.triggered.append(campaign.id)
        return remaining
    coupon = trigger.coupon
    if coupon is not None:
        for effect in produced:
            effect["triggeredByCoupon"] = coupon.id
        outcome.accepted_coupons.append(coupon)
    if trigger.effects:
        outcome.effects.extend(trigger.effects)
    outcome.effects.extend(produced)
    outcome.triggered.append(campaign.id)
    if trigger.referral is not None:
        outcome.accepted_referral = trigger.referral
    return remaining
