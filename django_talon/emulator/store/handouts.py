"""Closing a session hands out the codes its campaigns promised (engine/handouts.py).

``createCoupon`` makes a real coupon of the named coupon campaign with the customer as its
recipient (accepted in the customer's next session, listed by the reservation endpoints and
the inventory), ``createReferral`` a referral code whose advocate is the customer,
``reserveCoupon`` reserves a declared coupon for the customer, ``awardGiveaway`` hands out the
next unused code of its pool. The answer carries ``couponCreated`` / ``referralCreated`` /
``reserveCoupon`` / ``awardGiveaway`` effects (replacing the open session's
``willAwardGiveaway``) and the full objects in ``createdCoupons`` / ``createdReferrals`` /
``awardedGiveaways``.

Nothing here is undone by a cancel, reopen or return: Talon.One's rollback effects do not
cover them ("Reopen does not roll back: addFreeItem, awardGiveaway, coupon/referral creation,
coupon reservation"), and a code already in the customer's hands stays theirs.
"""

from __future__ import annotations

import copy
import string
from datetime import datetime
from typing import Any

from django_talon.emulator.campaign_handouts import (
    DEFAULT_COUPON_PATTERN,
    DEFAULT_REFERRAL_PATTERN,
)
from django_talon.emulator.engine import Outcome
from django_talon.emulator.engine.context import effect_head
from django_talon.emulator.engine.handouts import Handout
from django_talon.emulator.models import Coupon, Profile, Referral, Session
from django_talon.emulator.store.state import StoreState

_ALPHABET = string.ascii_uppercase + string.digits


class HandoutsMixin(StoreState):
    """Materialise a closing session's handouts."""

    def _fresh_code(self, pattern: str, taken: dict[str, Any]) -> str:
        """``pattern`` with each ``#`` a random character, unused among ``taken``'s keys."""
        while True:
            code = "".join(self.rng.choice(_ALPHABET) if ch == "#" else ch for ch in pattern)
            if code.casefold() not in taken:
                return code

    def _hand_out(
        self, session: Session, outcome: Outcome, profile: Profile | None, now: datetime
    ) -> None:
        """Turn the outcome's handouts into stored codes and their effects (in place: the
        session's and the answer's effects are the outcome's list)."""
        effects = outcome.effects
        effects[:] = [e for e in effects if e["effectType"] != "willAwardGiveaway"]
        if profile is None or not session.profile_id:
            return
        for handout in outcome.handouts:
            effect = self._materialise(handout, profile, outcome, now)
            if effect is not None:
                effects.append(effect)

    def _materialise(
        self, handout: Handout, profile: Profile, outcome: Outcome, now: datetime
    ) -> dict[str, Any] | None:
        spec, campaign, owner = handout.spec, handout.campaign, profile.integration_id
        if handout.kind == "createCoupon":
            coupon = Coupon(
                id=self._next("coupon"),
                value=self._fresh_code(
                    str(spec.get("pattern", DEFAULT_COUPON_PATTERN)), self.coupons
                ),
                campaign_id=int(spec["couponCampaignId"]),
                created=now,
                usage_limit=int(spec.get("usageLimit", 1)),
                recipient=owner,
                attributes=dict(spec.get("attributes") or {}),
            )
            self.coupons[coupon.value.casefold()] = coupon
            outcome.created_coupons.append(coupon.to_api())
            props: dict[str, Any] = {"value": coupon.value, "profileId": owner}
            return effect_head(campaign, "couponCreated", props)
        if handout.kind == "createReferral":
            referral = Referral(
                id=self._next("referral"),
                code=self._fresh_code(
                    str(spec.get("pattern", DEFAULT_REFERRAL_PATTERN)), self.referrals
                ),
                campaign_id=int(spec["referralCampaignId"]),
                advocate=owner,
                created=now,
                usage_limit=int(spec.get("usageLimit", 0)),
            )
            self.referrals[referral.code.casefold()] = referral
            outcome.created_referrals.append(referral.to_api())
            return effect_head(campaign, "referralCreated", {"value": referral.code})
        if handout.kind == "reserveCoupon":
            return self._reserve(handout, owner)
        return self._award(handout, profile, outcome, now)

    def _reserve(self, handout: Handout, owner: str) -> dict[str, Any] | None:
        reserved = self.coupons.get(str(handout.spec["couponValue"]).casefold())
        if reserved is None:  # the campaigns were replaced without it since the file was read
            return None
        new = owner not in reserved.reserved_for
        if new:
            reserved.reserved_for.append(owner)
        props = {
            "couponValue": reserved.value,
            "profileIntegrationId": owner,
            "isNewReservation": new,
        }
        return effect_head(handout.campaign, "reserveCoupon", props)

    def _award(
        self, handout: Handout, profile: Profile, outcome: Outcome, now: datetime
    ) -> dict[str, Any] | None:
        """The pool's next unused code; an exhausted pool awards nothing (as Talon.One)."""
        pool_id = int(handout.spec["poolId"])
        giveaway = next((g for g in self.giveaways.get(pool_id, []) if not g["used"]), None)
        if giveaway is None:
            return None
        giveaway.update(
            used=True, profileIntegrationId=profile.integration_id, profileId=profile.id
        )
        outcome.awarded_giveaways.append(copy.deepcopy(giveaway))
        props = {
            "poolId": pool_id,
            "poolName": str(handout.spec.get("poolName", "")),
            "recipientIntegrationId": profile.integration_id,
            "giveawayId": giveaway["id"],
            "code": giveaway["code"],
        }
        return effect_head(handout.campaign, "awardGiveaway", props)
