"""Closing a session redeems (counters move, points are booked); cancel/reopen undoes it."""

from __future__ import annotations

import copy
from typing import Any

from django_talon.emulator.engine import Outcome
from django_talon.emulator.models import Profile, Redemption, Session
from django_talon.emulator.store.loyalty import LoyaltyMixin
from django_talon.emulator.util import money, utcnow

#: rollback effect type -> the effect types it undoes
_UNDOES = {
    "rollbackCoupon": ("acceptCoupon",),
    "rollbackReferral": ("acceptReferral",),
    "rollbackDiscount": (
        "setDiscount",
        "setDiscountPerItem",
        "setDiscountPerAdditionalCost",
        "setDiscountPerAdditionalCostPerItem",
    ),
    "rollbackAddedLoyaltyPoints": ("addLoyaltyPoints",),
    "rollbackDeductedLoyaltyPoints": ("deductLoyaltyPoints",),
    "rollbackIncreasedAchievementProgress": ("increaseAchievementProgress",),
}
_HEAD = ("campaignId", "rulesetId", "ruleIndex")


def _undone_by(effect: dict[str, Any], rollback: dict[str, Any]) -> bool:
    """Whether ``rollback`` (wholly or partly) undoes ``effect``."""
    if effect["effectType"] not in _UNDOES.get(rollback["effectType"], ()):
        return False
    if any(effect.get(k) != rollback.get(k) for k in _HEAD):
        return False
    props, undo = effect["props"], rollback["props"]
    etype = effect["effectType"]
    if etype in ("acceptCoupon", "acceptReferral"):
        return bool(props["value"] == undo["value"])
    if etype == "setDiscountPerItem":
        return bool(
            props["name"] == undo["name"]
            and props["position"] == undo.get("cartItemPosition")
            and props.get("subPosition", 0) == undo.get("cartItemSubPosition", 0)
        )
    if etype == "setDiscount":
        return props["name"] == undo["name"] and "cartItemPosition" not in undo
    if etype in ("setDiscountPerAdditionalCost", "setDiscountPerAdditionalCostPerItem"):
        return bool(
            props["name"] == undo["name"]
            and props["additionalCost"] == undo.get("additionalCost")
            and props.get("position") == undo.get("cartItemPosition")
        )
    if etype == "increaseAchievementProgress":
        return bool(props["achievementId"] == undo["achievementId"])
    return bool(props["transactionUUID"] == undo["transactionUUID"])


def remaining_effects(
    effects: list[dict[str, Any]], rollbacks: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The effects still valid once ``rollbacks`` have undone (part of) them.

    Why: ``GET /v2/customer_sessions/{id}`` "returns only the effects that are valid after any
    rollback effects and their corresponding non-rollback effects are removed" (the spec), and
    after a return the session's effects reflect the returned items. A rollback removes the
    effect it undoes; a partial one (a return's share of a cart discount or of the points)
    lowers its value instead, and the effect goes once nothing is left. The rollbacks
    themselves are not kept. Effect dicts are never changed in place (sessions share them).
    """
    kept = list(effects)
    for rollback in rollbacks:
        for index, effect in enumerate(kept):
            if not _undone_by(effect, rollback):
                continue
            etype = effect["effectType"]
            left = 0.0
            if etype in ("setDiscount", "addLoyaltyPoints", "deductLoyaltyPoints"):
                left = money(float(effect["props"]["value"]) - float(rollback["props"]["value"]))
            if left > 0:
                kept[index] = {**effect, "props": {**effect["props"], "value": left}}
            else:
                del kept[index]
            break
    return kept


class RedemptionMixin(LoyaltyMixin):
    """Redeem on close, unredeem on cancel/reopen, and the rollback effects that go with it."""

    def _redeem(self, session: Session, outcome: Outcome, profile: Profile | None) -> None:
        """Closing a session: move coupon/referral/campaign counters, book loyalty points."""
        redemption = Redemption(
            coupon_values=[c.value for c in outcome.accepted_coupons],
            referral_codes=[outcome.accepted_referral.code] if outcome.accepted_referral else [],
            campaign_ids=list(outcome.triggered),
            effects=copy.deepcopy(outcome.effects),
            total=session.cart_item_total() + session.additional_cost_total(),
            profile_id=session.profile_id,
        )
        for coupon in outcome.accepted_coupons:
            coupon.usage_counter += 1
            if session.profile_id:
                coupon.profile_redemptions[session.profile_id] = (
                    coupon.profile_redemptions.get(session.profile_id, 0) + 1
                )
        if outcome.accepted_referral is not None:
            outcome.accepted_referral.usage_counter += 1
            outcome.accepted_referral.referred.append(session.profile_id)
        for cid in outcome.triggered:
            self.campaign_redemptions[cid] = self.campaign_redemptions.get(cid, 0) + 1
        if profile is not None:
            profile.closed_sessions += 1
            profile.total_sales = money(profile.total_sales + redemption.total)
            self._book_loyalty(session, outcome.effects, utcnow())
        session.redemption = redemption

    def _rollback_effects(self, redemption: Redemption) -> list[dict[str, Any]]:
        rollbacks: list[dict[str, Any]] = []
        now = utcnow()
        for effect in redemption.effects:
            head = {k: v for k, v in effect.items() if k not in ("effectType", "props")}
            props = effect["props"]
            etype = effect["effectType"]
            if etype == "acceptCoupon":
                rollbacks.append(
                    {**head, "effectType": "rollbackCoupon", "props": {"value": props["value"]}}
                )
            elif etype == "acceptReferral":
                rollbacks.append(
                    {**head, "effectType": "rollbackReferral", "props": {"value": props["value"]}}
                )
            elif etype == "setDiscount":
                rollbacks.append(
                    {
                        **head,
                        "effectType": "rollbackDiscount",
                        "props": {"name": props["name"], "value": props["value"]},
                    }
                )
            elif etype == "setDiscountPerItem":
                rollbacks.append(
                    {
                        **head,
                        "effectType": "rollbackDiscount",
                        "props": {
                            "name": props["name"],
                            "value": props["value"],
                            "cartItemPosition": props["position"],
                            "cartItemSubPosition": props.get("subPosition", 0),
                        },
                    }
                )
            elif etype in ("setDiscountPerAdditionalCost", "setDiscountPerAdditionalCostPerItem"):
                undo = {
                    "name": props["name"],
                    "value": props["value"],
                    "additionalCostId": props["additionalCostId"],
                    "additionalCost": props["additionalCost"],
                }
                if "position" in props:
                    undo["cartItemPosition"] = props["position"]
                rollbacks.append({**head, "effectType": "rollbackDiscount", "props": undo})
            else:  # points earned or spent, achievement progress
                rollbacks += self._loyalty_rollbacks(head, effect, redemption.profile_id, now)
        return rollbacks

    def _unredeem(self, session: Session, profile: Profile | None) -> list[dict[str, Any]]:
        """Cancel/reopen of a closed session: restore counters; return the rollback effects."""
        redemption = session.redemption
        if redemption is None:
            return []
        rollbacks = self._rollback_effects(redemption)
        for value in redemption.coupon_values:
            coupon = self.coupons.get(value.casefold())
            if coupon is not None:
                coupon.usage_counter = max(0, coupon.usage_counter - 1)
                if redemption.profile_id in coupon.profile_redemptions:
                    coupon.profile_redemptions[redemption.profile_id] -= 1
                    if coupon.profile_redemptions[redemption.profile_id] <= 0:
                        del coupon.profile_redemptions[redemption.profile_id]
        for code in redemption.referral_codes:
            referral = self.referrals.get(code.casefold())
            if referral is not None:
                referral.usage_counter = max(0, referral.usage_counter - 1)
                if redemption.profile_id in referral.referred:
                    referral.referred.remove(redemption.profile_id)
        for cid in redemption.campaign_ids:
            self.campaign_redemptions[cid] = max(0, self.campaign_redemptions.get(cid, 0) - 1)
        if profile is not None:
            profile.closed_sessions = max(0, profile.closed_sessions - 1)
            profile.total_sales = money(max(0.0, profile.total_sales - redemption.total))
        self._unbook_loyalty(session, rollbacks, utcnow())
        session.redemption = None
        return rollbacks
