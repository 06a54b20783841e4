"""The emulator's state and every Integration API operation on it.

One :class:`Store` holds profiles, sessions, coupons, referrals, reservations and loyalty
ledgers. Every public method takes the store lock for its whole duration, so each API call is
atomic and the store is thread-safe. Methods validate the complete request before changing
anything, so a 400 never leaves a half-applied update behind, and dry runs work on copies and
never touch stored state at all.
"""

from __future__ import annotations

import copy
import random
import string
import threading
from dataclasses import replace
from datetime import datetime
from typing import Any

from django_talon.emulator.errors import bad_request, not_found
from django_talon.emulator.models import (
    ACCOUNT_ID,
    Campaign,
    Coupon,
    Profile,
    Redemption,
    Referral,
    Session,
)
from django_talon.emulator.rules import (
    PROFILE_EVENT,
    SESSION_EVENT,
    CampaignSet,
    EvalContext,
    Lookups,
    Outcome,
    evaluate,
    to_v1_effect,
)
from django_talon.emulator.util import (
    isoformat,
    money,
    parse_datetime,
    query_bool,
    utcnow,
    want_int,
    want_list,
    want_number,
    want_object,
    want_str,
)

SESSION_STATES = ("open", "closed", "partially_returned", "cancelled")
RESPONSE_CONTENT = {
    "customerSession",
    "customerProfile",
    "coupons",
    "triggeredCampaigns",
    "referral",
    "loyalty",
    "event",
    "awardedGiveaways",
    "ruleFailureReasons",
    "previousReturns",
    "campaignEligibility",
    "achievements",
}
PROFILE_RESPONSE_CONTENT = {
    "customerProfile",
    "triggeredCampaigns",
    "loyalty",
    "event",
    "awardedGiveaways",
    "ruleFailureReasons",
    "campaignEligibility",
    "achievements",
}
MAX_CART_ITEMS = 1000
MAX_CART_UNITS = 10_000
MAX_BATCH = 1000
MAX_EVENTS = 10_000


def _profile_context(profile: Profile, integration_id: str, now: datetime) -> EvalContext:
    """Evaluation inputs of a profile update (v1 and v2 alike): no session, cart or codes."""
    return EvalContext(
        now=now,
        event_type=PROFILE_EVENT,
        profile=profile,
        profile_id=integration_id,
        cart_items=[],
        session_attributes={},
        first_session=False,
        coupon_codes=[],
        referral_code="",
    )


class Store:
    """All emulator state plus the operations of the Integration API."""

    def __init__(self, campaigns: CampaignSet, *, seed: int = 0) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.reset(campaigns)

    # ---------------------------------------------------------------------------- lifecycle

    def reset(self, campaigns: CampaignSet | None = None) -> None:
        """Forget everything and start again from the given (or the current) campaigns."""
        with self.lock:
            if campaigns is not None:
                self.campaign_set = campaigns
            now = utcnow()
            self.rng = random.Random(self.seed)
            self._ids: dict[str, int] = {}
            self.campaigns: list[Campaign] = [replace(c) for c in self.campaign_set.campaigns]
            for campaign in self.campaigns:
                campaign.created = now
            self.campaign_by_id = {c.id: c for c in self.campaigns}
            self.campaign_redemptions: dict[int, int] = {}
            self.coupons: dict[str, Coupon] = {}  # casefolded value -> coupon
            for campaign in self.campaigns:
                for spec in self.campaign_set.coupons.get(campaign.id, []):
                    self.coupons[spec.value.casefold()] = Coupon(
                        id=self._next("coupon"),
                        value=spec.value,
                        campaign_id=campaign.id,
                        created=now,
                        usage_limit=spec.usage_limit,
                        profile_limit=spec.profile_limit,
                        start_date=spec.start_date,
                        expiry_date=spec.expiry_date,
                        recipient=spec.recipient,
                        reservation_mandatory=spec.reservation_mandatory,
                        attributes=dict(spec.attributes),
                    )
            self.referrals: dict[str, Referral] = {}  # casefolded code -> referral
            self.profiles: dict[str, Profile] = {}
            self.sessions: dict[str, Session] = {}
            self.profile_session_count: dict[str, int] = {}
            self.events: list[dict[str, Any]] = []
            self.idempotent_returns: dict[tuple[str, str], dict[str, Any]] = {}
            self.lookups = Lookups(
                coupon=lambda code: self.coupons.get(code.casefold()),
                referral=lambda code: self.referrals.get(code.casefold()),
                campaign_redemptions=lambda cid: self.campaign_redemptions.get(cid, 0),
                already_referred=self._already_referred,
                rng=self.rng,
            )

    @property
    def application_id(self) -> int:
        return self.campaign_set.application_id

    def _next(self, kind: str) -> int:
        self._ids[kind] = self._ids.get(kind, 0) + 1
        return self._ids[kind]

    def _already_referred(self, campaign_id: int, profile_id: str, code: str) -> bool:
        return any(
            r.campaign_id == campaign_id and profile_id in r.referred and r.code != code
            for r in self.referrals.values()
        )

    # ---------------------------------------------------------------------------- helpers

    def _profile(self, integration_id: str, *, create: bool, now: datetime) -> Profile | None:
        profile = self.profiles.get(integration_id)
        if profile is None and create:
            profile = Profile(
                id=self._next("profile"),
                integration_id=integration_id,
                created=now,
                last_activity=now,
            )
            self.profiles[integration_id] = profile
        return profile

    def _transient_profile(self, integration_id: str, now: datetime) -> Profile:
        """A profile for dry runs: the stored one copied, or a fresh unsaved one."""
        stored = self.profiles.get(integration_id)
        if stored is not None:
            return copy.deepcopy(stored)
        return Profile(id=0, integration_id=integration_id, created=now, last_activity=now)

    def _render_profile(self, profile: Profile, *, legacy: bool = False) -> dict[str, Any]:
        return profile.to_api(self.campaign_set.audiences, legacy=legacy)

    def _loyalty(
        self, profile: Profile | None, pending: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        programs: dict[str, Any] = {}
        for pid, program in sorted(self.campaign_set.loyalty_programs.items()):
            balance = profile.loyalty.get(pid, 0.0) if profile else 0.0
            tentative = balance + sum(
                float(e["props"]["value"])
                for e in (pending or [])
                if e["effectType"] == "addLoyaltyPoints" and e["props"]["programId"] == pid
            )
            programs[str(pid)] = {
                "id": pid,
                "title": program["title"],
                "name": program["name"],
                "ledger": {
                    "currentBalance": money(balance),
                    "pendingBalance": 0.0,
                    "expiredBalance": 0.0,
                    "spentBalance": 0.0,
                    "tentativeCurrentBalance": money(tentative),
                },
            }
        return {"programs": programs}

    def _campaign_api(self, campaign: Campaign, now: datetime) -> dict[str, Any]:
        features = {"coupon": ["coupons"], "referral": ["referrals"]}.get(
            campaign.trigger or "", []
        )
        if any(e["type"] == "addLoyaltyPoints" for e in campaign.effects):
            features = [*features, "loyalty"]
        frontend = (
            "running"
            if campaign.running(now)
            else (
                "disabled"
                if campaign.state != "enabled"
                else (
                    "scheduled" if campaign.start_time and now < campaign.start_time else "expired"
                )
            )
        )
        limits = []
        if campaign.redemption_limit:
            limits.append(
                {
                    "action": "redeemCoupon",
                    "limit": campaign.redemption_limit,
                    "entities": ["Coupon"],
                }
            )
        return {
            "id": campaign.id,
            "created": isoformat(campaign.created or now),
            "applicationId": self.application_id,
            "userId": 1,
            "name": campaign.name,
            "description": campaign.description,
            "state": campaign.state,
            "tags": list(campaign.tags),
            "features": features,
            "limits": limits,
            "frontendState": frontend,
            "storesImported": False,
            "reevaluateOnReturn": False,
        }

    def _event(
        self,
        event_type: str,
        *,
        profile_id: str,
        session_id: str,
        attributes: dict[str, Any],
        effects: list[Any],
        now: datetime,
        store: bool,
    ) -> dict[str, Any]:
        event = {
            "id": self._next("event") if store else 0,
            "created": isoformat(now),
            "applicationId": self.application_id,
            "profileId": profile_id,
            "type": event_type,
            "attributes": dict(attributes),
            "sessionId": session_id,
            "effects": effects,
            "ledgerEntries": [],
            "meta": {},
        }
        if store:
            self.events.append(
                {
                    "id": event["id"],
                    "type": event_type,
                    "sessionId": session_id,
                    "profileId": profile_id,
                    "created": event["created"],
                }
            )
            if len(self.events) > MAX_EVENTS:  # a long-running demo keeps constant memory
                del self.events[: len(self.events) - MAX_EVENTS]
        return event

    # ---------------------------------------------------------------------------- parsing

    @staticmethod
    def _parse_cart_item(raw: Any, pointer: str, *, legacy: bool) -> dict[str, Any]:
        item = want_object(raw, pointer)
        out: dict[str, Any] = {}
        out["sku"] = want_str(item.get("sku"), f"{pointer}/sku", min_length=1)
        if "quantity" not in item:
            raise bad_request(f"{pointer}/quantity is required", pointer=f"{pointer}/quantity")
        out["quantity"] = want_int(item["quantity"], f"{pointer}/quantity", minimum=1)
        if "price" not in item:
            raise bad_request(
                f"{pointer}/price is required (no catalog)", pointer=f"{pointer}/price"
            )
        price = want_number(item["price"], f"{pointer}/price")
        out["price"] = (
            int(price) if float(price).is_integer() and isinstance(item["price"], int) else price
        )
        if "name" in item:
            out["name"] = want_str(item["name"], f"{pointer}/name", min_length=1 if legacy else 0)
        elif legacy:
            raise bad_request(f"{pointer}/name is required", pointer=f"{pointer}/name")
        if "category" in item:
            out["category"] = want_str(item["category"], f"{pointer}/category")
        for dim in ("weight", "height", "width", "length"):
            if dim in item:
                out[dim] = want_number(item[dim], f"{pointer}/{dim}")
        if "attributes" in item:
            out["attributes"] = dict(want_object(item["attributes"], f"{pointer}/attributes"))
        if "product" in item and not legacy:
            product = want_object(item["product"], f"{pointer}/product")
            out["product"] = {"name": want_str(product.get("name"), f"{pointer}/product/name")}
        return out

    def _parse_session_v2(self, raw: Any) -> dict[str, Any]:
        """Validate a NewCustomerSessionV2; returns only the fields that were present."""
        cs = want_object(raw, "/customerSession")
        out: dict[str, Any] = {}
        if "profileId" in cs:
            out["profileId"] = want_str(
                cs["profileId"], "/customerSession/profileId", max_length=1000
            )
        if "storeIntegrationId" in cs:
            out["storeIntegrationId"] = want_str(
                cs["storeIntegrationId"],
                "/customerSession/storeIntegrationId",
                min_length=1,
                max_length=1000,
            )
        if "evaluableCampaignIds" in cs:
            ids = want_list(cs["evaluableCampaignIds"], "/customerSession/evaluableCampaignIds")
            out["evaluableCampaignIds"] = [
                want_int(v, f"/customerSession/evaluableCampaignIds/{i}") for i, v in enumerate(ids)
            ]
        if "couponCodes" in cs:
            codes = want_list(cs["couponCodes"], "/customerSession/couponCodes")
            out["couponCodes"] = [
                want_str(c, f"/customerSession/couponCodes/{i}", max_length=100)
                for i, c in enumerate(codes)
            ]
        if "referralCode" in cs:
            out["referralCode"] = want_str(
                cs["referralCode"], "/customerSession/referralCode", max_length=100
            )
        if "loyaltyCards" in cs:
            cards = want_list(cs["loyaltyCards"], "/customerSession/loyaltyCards", max_items=1)
            out["loyaltyCards"] = [
                want_str(c, f"/customerSession/loyaltyCards/{i}") for i, c in enumerate(cards)
            ]
        if "state" in cs:
            state = want_str(cs["state"], "/customerSession/state")
            if state not in SESSION_STATES:
                raise bad_request(
                    f"/customerSession/state must be one of {', '.join(SESSION_STATES)}",
                    pointer="/customerSession/state",
                )
            out["state"] = state
        if "cartItems" in cs:
            items = want_list(
                cs["cartItems"], "/customerSession/cartItems", max_items=MAX_CART_ITEMS
            )
            parsed = [
                self._parse_cart_item(it, f"/customerSession/cartItems/{i}", legacy=False)
                for i, it in enumerate(items)
            ]
            if sum(i["quantity"] for i in parsed) > MAX_CART_UNITS:
                raise bad_request(
                    f"the cart holds more than {MAX_CART_UNITS} units",
                    pointer="/customerSession/cartItems",
                )
            out["cartItems"] = parsed
        if "additionalCosts" in cs:
            costs = want_object(cs["additionalCosts"], "/customerSession/additionalCosts")
            parsed_costs: dict[str, dict[str, Any]] = {}
            for name, cost in costs.items():
                pointer = f"/customerSession/additionalCosts/{name}"
                cost_obj = want_object(cost, pointer)
                parsed_costs[name] = {
                    "price": want_number(cost_obj.get("price"), f"{pointer}/price")
                }
            out["additionalCosts"] = parsed_costs
        if "identifiers" in cs:
            idents = want_list(cs["identifiers"], "/customerSession/identifiers", max_items=5)
            out["identifiers"] = [
                want_str(v, f"/customerSession/identifiers/{i}") for i, v in enumerate(idents)
            ]
        if "attributes" in cs:
            out["attributes"] = dict(want_object(cs["attributes"], "/customerSession/attributes"))
        return out

    @staticmethod
    def _parse_response_content(body: dict[str, Any], allowed: set[str]) -> list[str] | None:
        if "responseContent" not in body:
            return None
        values = want_list(body["responseContent"], "/responseContent")
        result = []
        for i, value in enumerate(values):
            text = want_str(value, f"/responseContent/{i}")
            if text not in allowed:
                raise bad_request(
                    f"/responseContent/{i}: unknown value {text!r}", pointer=f"/responseContent/{i}"
                )
            result.append(text)
        return result

    # ---------------------------------------------------------------------------- sessions

    def _context(
        self, session: Session, profile: Profile | None, now: datetime, event: str
    ) -> EvalContext:
        return EvalContext(
            now=now,
            event_type=event,
            profile=profile,
            profile_id=session.profile_id,
            cart_items=session.cart_items,
            session_attributes=session.attributes,
            first_session=session.first_session,
            coupon_codes=session.coupon_codes,
            referral_code=session.referral_code,
        )

    def _evaluate(
        self,
        session: Session,
        profile: Profile | None,
        now: datetime,
        only: list[int] | None = None,
    ) -> Outcome:
        campaigns = self.campaigns
        if only is not None:
            wanted = set(only)
            campaigns = [c for c in campaigns if c.id in wanted]
        return evaluate(
            campaigns, self._context(session, profile, now, SESSION_EVENT), self.lookups
        )

    def _redeem(self, session: Session, outcome: Outcome, profile: Profile | None) -> None:
        """Closing a session: move coupon/referral/campaign counters and confirm loyalty points."""
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
            for effect in outcome.effects:
                if effect["effectType"] == "addLoyaltyPoints":
                    pid = int(effect["props"]["programId"])
                    profile.loyalty[pid] = money(
                        profile.loyalty.get(pid, 0.0) + float(effect["props"]["value"])
                    )
        session.redemption = redemption

    def _rollback_effects(self, redemption: Redemption) -> list[dict[str, Any]]:
        rollbacks: list[dict[str, Any]] = []
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
            elif etype == "addLoyaltyPoints":
                rollbacks.append(
                    {
                        **head,
                        "effectType": "rollbackAddedLoyaltyPoints",
                        "props": {
                            "programId": props["programId"],
                            "subLedgerId": props["subLedgerId"],
                            "value": props["value"],
                            "recipientIntegrationId": props["recipientIntegrationId"],
                            "transactionUUID": props["transactionUUID"],
                        },
                    }
                )
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
            for effect in redemption.effects:
                if effect["effectType"] == "addLoyaltyPoints":
                    pid = int(effect["props"]["programId"])
                    profile.loyalty[pid] = money(
                        profile.loyalty.get(pid, 0.0) - float(effect["props"]["value"])
                    )
        session.redemption = None
        return rollbacks

    def _apply_session_update(
        self,
        session_id: str,
        fields: dict[str, Any],
        *,
        dry: bool,
        now: datetime,
        only: list[int] | None = None,
    ) -> tuple[Session, Profile | None, list[dict[str, Any]], Outcome | None]:
        """Shared by v1 and v2 session updates: state machine, accumulation, evaluation, redemption.

        Returns the (stored or transient) session, its profile, the effects of this call and the
        rule outcome (None when the call only moved state, e.g. a cancel).
        """
        existing = self.sessions.get(session_id)
        target = fields.get("state")
        if existing is None or (dry and existing.state == "open"):
            base = Session(id=0, integration_id=session_id, created=now, updated=now)
            if existing is not None:  # dry run on an existing session: same identity, payload only
                base.id, base.created = existing.id, existing.created
                base.state = existing.state
                base.first_session = existing.first_session
                base.profile_id = existing.profile_id
                base.redemption = copy.deepcopy(existing.redemption)
            session = base
        else:
            session = existing.clone()
        current = session.state if existing is not None else None
        if target is None:
            target = current or "open"
        if current is None:
            if target not in ("open", "closed"):
                raise bad_request(
                    f"a new customer session cannot be created in state {target!r}",
                    pointer="/customerSession/state",
                )
        elif current != "open":
            allowed = {
                "closed": ("closed", "cancelled"),
                "partially_returned": ("partially_returned", "cancelled"),
                "cancelled": ("cancelled",),
            }[current]
            if target not in allowed:
                raise bad_request(
                    f"customer session {session_id!r} is {current}: it cannot change to {target} "
                    "(closed sessions reopen only through PUT /v2/customer_sessions/{id}/reopen)",
                    pointer="/customerSession/state",
                )
        elif target == "partially_returned":
            raise bad_request(
                "only closed sessions can become partially_returned (use the returns endpoint)",
                pointer="/customerSession/state",
            )
        if current is not None and current != "open":
            # Terminal-ish states: a repeated state is an idempotent no-op, cancel rolls back.
            profile_obj = self.profiles.get(session.profile_id) if session.profile_id else None
            if target == current:
                return (
                    (existing if existing is not None and not dry else session),
                    profile_obj,
                    list((existing or session).effects),
                    None,
                )
            # closed/partially_returned -> cancelled
            if dry:
                rollbacks = self._rollback_effects(session.redemption) if session.redemption else []
                session.state = "cancelled"
                return session, profile_obj, rollbacks, None
            assert existing is not None
            rollbacks = self._unredeem(existing, profile_obj)
            existing.state = "cancelled"
            existing.effects = rollbacks
            existing.updated = now
            existing.update_count += 1
            return existing, profile_obj, rollbacks, None
        # open (or new) session: accumulate the payload
        if "profileId" in fields:
            session.profile_id = fields["profileId"]
        if "storeIntegrationId" in fields:
            session.store_id = fields["storeIntegrationId"]
        if "couponCodes" in fields:
            session.coupon_codes = list(fields["couponCodes"])
        if "referralCode" in fields:
            session.referral_code = fields["referralCode"]
        if "loyaltyCards" in fields:
            session.loyalty_cards = list(fields["loyaltyCards"])
        if "cartItems" in fields:
            session.cart_items = list(fields["cartItems"])
        if "additionalCosts" in fields:
            session.additional_costs = dict(fields["additionalCosts"])
        if "identifiers" in fields:
            session.identifiers = list(fields["identifiers"])
        if "attributes" in fields:
            session.attributes = (
                {**session.attributes, **fields["attributes"]}
                if not dry
                else dict(fields["attributes"])
            )
        profile: Profile | None = None
        if session.profile_id:
            if dry:
                profile = self._transient_profile(session.profile_id, now)
            else:
                profile = self._profile(session.profile_id, create=True, now=now)
        if existing is None:
            session.first_session = not session.profile_id or (
                self.profile_session_count.get(session.profile_id, 0) == 0
                and (profile is None or profile.closed_sessions == 0)
            )
        outcome = self._evaluate(session, profile, now, only if dry else None)
        effects = outcome.effects
        if target == "cancelled":
            effects = []
        session.state = target
        session.effects = effects
        session.updated = now
        if dry:
            return session, profile, effects, outcome
        # commit
        if existing is None:
            session.id = self._next("session")
            session.created = now
            if session.profile_id:
                self.profile_session_count[session.profile_id] = (
                    self.profile_session_count.get(session.profile_id, 0) + 1
                )
        session.update_count += 1
        if target == "closed":
            self._redeem(session, outcome, profile)
        if profile is not None:
            profile.last_activity = now
        self.sessions[session_id] = session
        return session, profile, effects, outcome

    def update_session_v2(
        self, session_id: str, body: Any, query: dict[str, str]
    ) -> dict[str, Any]:
        """PUT /v2/customer_sessions/{id}."""
        dry = query_bool(query, "dry")
        now = utcnow()
        if query.get("now"):
            if not dry:
                raise bad_request(
                    "the now parameter is only allowed with dry=true", parameter="now"
                )
            now = parse_datetime(query["now"], "now")
        body = want_object(body, "")
        if "customerSession" not in body:
            raise bad_request("customerSession is required", pointer="/customerSession")
        fields = self._parse_session_v2(body["customerSession"])
        content = self._parse_response_content(body, RESPONSE_CONTENT)
        with self.lock:
            session, profile, effects, outcome = self._apply_session_update(
                session_id, fields, dry=dry, now=now, only=fields.get("evaluableCampaignIds")
            )
            return self._state_v2(session, profile, effects, outcome, content, now, dry=dry)

    def _state_v2(
        self,
        session: Session,
        profile: Profile | None,
        effects: list[dict[str, Any]],
        outcome: Outcome | None,
        content: list[str] | None,
        now: datetime,
        *,
        dry: bool,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        wanted = set(content) if content is not None else {"customerSession", "customerProfile"}
        result: dict[str, Any] = {
            "effects": list(effects),
            "createdCoupons": [],
            "createdReferrals": [],
        }
        if "customerSession" in wanted:
            result["customerSession"] = session.to_api(self.application_id)
        if "customerProfile" in wanted and profile is not None:
            result["customerProfile"] = self._render_profile(profile)
        if "coupons" in wanted:
            coupons = []
            for code in session.coupon_codes:
                coupon = self.coupons.get(code.casefold())
                if coupon is not None:
                    coupons.append(
                        {
                            **coupon.to_api(),
                            "profileRedemptionCount": coupon.profile_redemptions.get(
                                session.profile_id, 0
                            ),
                        }
                    )
            result["coupons"] = coupons
        if "referral" in wanted and session.referral_code:
            referral = self.referrals.get(session.referral_code.casefold())
            if referral is not None:
                result["referral"] = referral.to_api(inventory=True)
        if "loyalty" in wanted and profile is not None:
            result["loyalty"] = self._loyalty(profile, effects if session.state == "open" else None)
        if "event" in wanted:
            result["event"] = self._event(
                SESSION_EVENT,
                profile_id=session.profile_id,
                session_id=session.integration_id,
                attributes=session.attributes,
                effects=copy.deepcopy(effects),
                now=now,
                store=False,
            )
        if "triggeredCampaigns" in wanted:
            ids = outcome.triggered if outcome else []
            result["triggeredCampaigns"] = [
                self._campaign_api(self.campaign_by_id[cid], now)
                for cid in ids
                if cid in self.campaign_by_id
            ]
        if "ruleFailureReasons" in wanted:
            result["ruleFailureReasons"] = copy.deepcopy(outcome.failures) if outcome else []
        if "previousReturns" in wanted:
            result["previousReturns"] = copy.deepcopy(session.returns)
        for empty in ("awardedGiveaways", "achievements"):
            if empty in wanted:
                result[empty] = []
        if "campaignEligibility" in wanted and dry:
            result["campaignEligibility"] = []
        if extra:
            result.update(extra)
        return result

    def get_session(self, session_id: str) -> dict[str, Any]:
        """GET /v2/customer_sessions/{id}."""
        with self.lock:
            session = self.sessions.get(session_id)
            if session is None:
                raise not_found(f"customer session {session_id!r} not found", "customerSession")
            return {
                "customerSession": session.to_api(self.application_id),
                "effects": copy.deepcopy(session.effects),
            }

    def reopen_session(self, session_id: str) -> dict[str, Any]:
        """PUT /v2/customer_sessions/{id}/reopen: closed -> open with rollback effects."""
        with self.lock:
            session = self.sessions.get(session_id)
            if session is None:
                raise not_found(f"customer session {session_id!r} not found", "customerSession")
            if session.state != "closed":
                raise bad_request(
                    f"only closed sessions can be reopened; session {session_id!r} is {session.state}",
                    pointer="/state",
                )
            profile = self.profiles.get(session.profile_id) if session.profile_id else None
            rollbacks = self._unredeem(session, profile)
            now = utcnow()
            session.state = "open"
            session.updated = now
            session.update_count += 1
            session.effects = []
            self._event(
                "talon_session_reopened",
                profile_id=session.profile_id,
                session_id=session_id,
                attributes={},
                effects=[],
                now=now,
                store=True,
            )
            return {"effects": rollbacks}

    def return_items(
        self, session_id: str, body: Any, query: dict[str, str], idempotency_key: str | None
    ) -> dict[str, Any]:
        """POST /v2/customer_sessions/{id}/returns."""
        dry = query_bool(query, "dry")
        query_bool(query, "runRuleEngine")
        body = want_object(body, "")
        ret = want_object(body.get("return"), "/return")
        items = want_list(
            ret.get("returnedCartItems"), "/return/returnedCartItems", max_items=MAX_CART_ITEMS
        )
        content = self._parse_response_content(body, RESPONSE_CONTENT)
        with self.lock:
            if (
                idempotency_key
                and not dry
                and (session_id, idempotency_key) in self.idempotent_returns
            ):
                return copy.deepcopy(self.idempotent_returns[(session_id, idempotency_key)])
            existing = self.sessions.get(session_id)
            if existing is None:
                raise not_found(f"customer session {session_id!r} not found", "customerSession")
            if existing.state not in ("closed", "partially_returned"):
                raise bad_request(
                    f"only closed sessions accept returns; session {session_id!r} is {existing.state}",
                    pointer="/return",
                )
            session = copy.deepcopy(existing)
            returned_now: dict[int, int] = {}
            parsed_items = []
            for index, raw in enumerate(items):
                pointer = f"/return/returnedCartItems/{index}"
                item = want_object(raw, pointer)
                position = want_int(item.get("position"), f"{pointer}/position", minimum=0)
                if position >= len(session.cart_items):
                    raise bad_request(
                        f"{pointer}/position {position} is not in the cart",
                        pointer=f"{pointer}/position",
                    )
                quantity = want_int(item.get("quantity", 1), f"{pointer}/quantity", minimum=1)
                cart_item = session.cart_items[position]
                if "sku" in item and item["sku"] != cart_item["sku"]:
                    raise bad_request(
                        f"{pointer}/sku does not match the cart item", pointer=f"{pointer}/sku"
                    )
                already = session.returned.get(position, 0) + returned_now.get(position, 0)
                if already + quantity > int(cart_item["quantity"]):
                    raise bad_request(
                        f"{pointer}/quantity exceeds the remaining quantity",
                        pointer=f"{pointer}/quantity",
                    )
                returned_now[position] = returned_now.get(position, 0) + quantity
                parsed_items.append(
                    {"position": position, "quantity": quantity, "sku": cart_item["sku"]}
                )
            now = utcnow()
            rollbacks = self._return_rollbacks(session, returned_now)
            profile = self.profiles.get(session.profile_id) if session.profile_id else None
            returned_value = money(
                sum(float(session.cart_items[p]["price"]) * q for p, q in returned_now.items())
            )
            ret_obj = {
                "id": self._next("return") if not dry else 0,
                "created": isoformat(now),
                "applicationId": self.application_id,
                "accountId": ACCOUNT_ID,
                "returnedCartItems": parsed_items,
                "eventId": 0,
                "sessionId": session.id,
                "sessionIntegrationId": session_id,
                "profileIntegrationId": session.profile_id,
            }
            if profile is not None:
                ret_obj["profileId"] = profile.id
            previous = copy.deepcopy(session.returns)
            if not dry:
                event = self._event(
                    "talon_session_returned",
                    profile_id=session.profile_id,
                    session_id=session_id,
                    attributes={},
                    effects=[],
                    now=now,
                    store=True,
                )
                ret_obj["eventId"] = event["id"]
            # On the copy, dry or not: a dry run answers with the session as the return
            # would leave it (partially_returned, returned quantities), and stores nothing.
            for p, q in returned_now.items():
                session.returned[p] = session.returned.get(p, 0) + q
            session.state = "partially_returned"
            session.updated = now
            session.update_count += 1
            session.returns.append(ret_obj)
            if not dry:
                if profile is not None:
                    profile.total_sales = money(max(0.0, profile.total_sales - returned_value))
                    for effect in rollbacks:
                        if effect["effectType"] == "rollbackAddedLoyaltyPoints":
                            pid = int(effect["props"]["programId"])
                            profile.loyalty[pid] = money(
                                profile.loyalty.get(pid, 0.0) - float(effect["props"]["value"])
                            )
                if session.redemption is not None:
                    session.redemption.total = money(session.redemption.total - returned_value)
                    self._shrink_redemption(session.redemption, rollbacks)
                existing_id = existing.id
                self.sessions[session_id] = session
                session.id = existing_id
            result = self._state_v2(
                session,
                profile,
                rollbacks,
                None,
                content,
                now,
                dry=dry,
                extra={"return": ret_obj, "previousReturns": previous},
            )
            if idempotency_key and not dry:
                self.idempotent_returns[(session_id, idempotency_key)] = copy.deepcopy(result)
            return result

    def _return_rollbacks(
        self, session: Session, returned_now: dict[int, int]
    ) -> list[dict[str, Any]]:
        """Rollback effects for returned units: per-item discounts, a share of cart discounts and points."""
        redemption = session.redemption
        if redemption is None or not returned_now:
            return []
        total = session.cart_item_total()
        returned_value = sum(
            float(session.cart_items[p]["price"]) * q for p, q in returned_now.items()
        )
        share = returned_value / total if total else 0.0
        rollbacks: list[dict[str, Any]] = []
        for effect in redemption.effects:
            head = {k: v for k, v in effect.items() if k not in ("effectType", "props")}
            props = effect["props"]
            etype = effect["effectType"]
            if etype == "setDiscountPerItem":
                position = int(props["position"])
                if position not in returned_now:
                    continue
                quantity = int(session.cart_items[position]["quantity"])
                already = session.returned.get(position, 0)
                # units are returned from the highest unit index down
                first_returned = quantity - already - returned_now[position]
                if first_returned <= int(props.get("subPosition", 0)) < quantity - already:
                    rollbacks.append(
                        {
                            **head,
                            "effectType": "rollbackDiscount",
                            "props": {
                                "name": props["name"],
                                "value": props["value"],
                                "cartItemPosition": position,
                                "cartItemSubPosition": props.get("subPosition", 0),
                            },
                        }
                    )
            elif etype == "setDiscount" and share:
                value = money(float(props["value"]) * share)
                if value > 0:
                    rollbacks.append(
                        {
                            **head,
                            "effectType": "rollbackDiscount",
                            "props": {"name": props["name"], "value": value},
                        }
                    )
            elif etype == "addLoyaltyPoints" and share:
                value = float(int(float(props["value"]) * share))
                if value > 0:
                    rollbacks.append(
                        {
                            **head,
                            "effectType": "rollbackAddedLoyaltyPoints",
                            "props": {
                                "programId": props["programId"],
                                "subLedgerId": props["subLedgerId"],
                                "value": value,
                                "recipientIntegrationId": props["recipientIntegrationId"],
                                "transactionUUID": props["transactionUUID"],
                            },
                        }
                    )
        return rollbacks

    @staticmethod
    def _shrink_redemption(redemption: Redemption, rollbacks: list[dict[str, Any]]) -> None:
        """After a return, what a later cancel would roll back is only what is left."""
        for rollback in rollbacks:
            props = rollback["props"]
            for effect in redemption.effects:
                eprops = effect["props"]
                if (
                    rollback["effectType"] == "rollbackDiscount"
                    and effect["effectType"] == "setDiscountPerItem"
                ):
                    if (
                        eprops.get("name") == props["name"]
                        and eprops.get("position") == props.get("cartItemPosition")
                        and eprops.get("subPosition", 0) == props.get("cartItemSubPosition")
                    ):
                        eprops["value"] = 0.0
                elif (
                    rollback["effectType"] == "rollbackDiscount"
                    and effect["effectType"] == "setDiscount"
                ):
                    if eprops.get("name") == props["name"] and "cartItemPosition" not in props:
                        eprops["value"] = money(float(eprops["value"]) - float(props["value"]))
                elif (
                    rollback["effectType"] == "rollbackAddedLoyaltyPoints"
                    and effect["effectType"] == "addLoyaltyPoints"
                    and eprops.get("transactionUUID") == props["transactionUUID"]
                ):
                    eprops["value"] = money(float(eprops["value"]) - float(props["value"]))
        redemption.effects = [
            e
            for e in redemption.effects
            if not (
                e["effectType"] in ("setDiscount", "setDiscountPerItem", "addLoyaltyPoints")
                and float(e["props"]["value"]) <= 0
            )
        ]

    # ---------------------------------------------------------------------------- profiles

    def update_profile_v2(
        self, integration_id: str, body: Any, query: dict[str, str]
    ) -> dict[str, Any]:
        """PUT /v2/customer_profiles/{integrationId}."""
        run = query_bool(query, "runRuleEngine")
        dry = query_bool(query, "dry")
        body = want_object(body, "")
        want_str(integration_id, "integrationId", min_length=1, max_length=1000)
        attributes = dict(want_object(body.get("attributes", {}), "/attributes"))
        content = self._parse_response_content(body, PROFILE_RESPONSE_CONTENT)
        if content is not None and not run:
            raise bad_request(
                "responseContent needs runRuleEngine=true", pointer="/responseContent"
            )
        adds: list[int] = []
        deletes: list[int] = []
        if "audiencesChanges" in body:
            changes = want_object(body["audiencesChanges"], "/audiencesChanges")
            adds = [
                want_int(v, f"/audiencesChanges/adds/{i}")
                for i, v in enumerate(want_list(changes.get("adds", []), "/audiencesChanges/adds"))
            ]
            deletes = [
                want_int(v, f"/audiencesChanges/deletes/{i}")
                for i, v in enumerate(
                    want_list(changes.get("deletes", []), "/audiencesChanges/deletes")
                )
            ]
            for audience_id in adds + deletes:
                if audience_id not in self.campaign_set.audiences:
                    raise bad_request(
                        f"audience {audience_id} does not exist", pointer="/audiencesChanges"
                    )
        with self.lock:
            now = utcnow()
            stored = None if dry else self._profile(integration_id, create=True, now=now)
            profile = stored if stored is not None else self._transient_profile(integration_id, now)
            profile.attributes.update(attributes)
            for audience_id in adds:
                if audience_id not in profile.audiences:
                    profile.audiences.append(audience_id)
            for audience_id in deletes:
                if audience_id in profile.audiences:
                    profile.audiences.remove(audience_id)
            if not dry:
                profile.last_activity = now
            effects: list[dict[str, Any]] = []
            outcome: Outcome | None = None
            if run:
                outcome = evaluate(
                    self.campaigns, _profile_context(profile, integration_id, now), self.lookups
                )
                effects = outcome.effects
            result: dict[str, Any] = {
                "customerProfile": self._render_profile(profile),
                "effects": effects,
                "createdCoupons": [],
                "createdReferrals": [],
            }
            wanted = set(content or [])
            if "loyalty" in wanted:
                result["loyalty"] = self._loyalty(profile)
            if "event" in wanted:
                result["event"] = self._event(
                    PROFILE_EVENT,
                    profile_id=integration_id,
                    session_id="",
                    attributes=attributes,
                    effects=effects,
                    now=now,
                    store=False,
                )
            if "triggeredCampaigns" in wanted:
                result["triggeredCampaigns"] = [
                    self._campaign_api(self.campaign_by_id[c], now)
                    for c in (outcome.triggered if outcome else [])
                ]
            if "ruleFailureReasons" in wanted:
                result["ruleFailureReasons"] = outcome.failures if outcome else []
            for empty in ("awardedGiveaways", "campaignEligibility"):
                if empty in wanted:
                    result[empty] = []
            return result

    def update_profiles_v2(self, body: Any, query: dict[str, str]) -> dict[str, Any] | None:
        """PUT /v2/customer_profiles (bulk, no rule engine). None means 204."""
        silent = query.get("silent", "yes")
        if silent not in ("yes", "no"):
            raise bad_request("silent must be yes or no", parameter="silent")
        body = want_object(body, "")
        raw = want_list(body.get("customerProfiles"), "/customerProfiles", max_items=MAX_BATCH)
        parsed: list[tuple[str, dict[str, Any]]] = []
        for index, item in enumerate(raw):
            pointer = f"/customerProfiles/{index}"
            obj = want_object(item, pointer)
            iid = want_str(
                obj.get("integrationId"), f"{pointer}/integrationId", min_length=1, max_length=1000
            )
            attrs = dict(want_object(obj.get("attributes", {}), f"{pointer}/attributes"))
            parsed.append((iid, attrs))
        with self.lock:
            now = utcnow()
            states = []
            for iid, attrs in parsed:
                profile = self._profile(iid, create=True, now=now)
                assert profile is not None
                profile.attributes.update(attrs)
                profile.last_activity = now
                states.append({"customerProfile": self._render_profile(profile)})
            return None if silent == "yes" else {"integrationStates": states}

    def update_audiences(self, body: Any) -> None:
        """POST /v2/customer_audiences."""
        body = want_object(body, "")
        raw = want_list(body.get("data"), "/data", max_items=MAX_BATCH)
        actions = []
        for index, item in enumerate(raw):
            pointer = f"/data/{index}"
            obj = want_object(item, pointer)
            action = want_str(obj.get("action"), f"{pointer}/action")
            if action not in ("add", "delete"):
                raise bad_request(
                    f"{pointer}/action must be add or delete", pointer=f"{pointer}/action"
                )
            iid = want_str(
                obj.get("profileIntegrationId"),
                f"{pointer}/profileIntegrationId",
                min_length=1,
                max_length=1000,
            )
            audience_id = want_int(obj.get("audienceId"), f"{pointer}/audienceId")
            actions.append((action, iid, audience_id))
        with self.lock:
            for _, _, audience_id in actions:
                if audience_id not in self.campaign_set.audiences:
                    raise not_found(f"audience {audience_id} not found", "audience")
            now = utcnow()
            for action, iid, audience_id in actions:
                profile = self._profile(iid, create=action == "add", now=now)
                if profile is None:
                    continue
                if action == "add" and audience_id not in profile.audiences:
                    profile.audiences.append(audience_id)
                elif action == "delete" and audience_id in profile.audiences:
                    profile.audiences.remove(audience_id)

    def search_profiles(self, body: Any) -> dict[str, Any]:
        """POST /v1/customer_profiles_search: exact match on every given attribute."""
        body = want_object(body, "")
        attributes = want_object(body.get("attributes"), "/attributes")
        if not attributes:
            raise bad_request("attributes must name at least one attribute", pointer="/attributes")
        with self.lock:
            found = [
                self._render_profile(p)
                for p in self.profiles.values()
                if all(k in p.attributes and p.attributes[k] == v for k, v in attributes.items())
            ]
            return {"totalResultSize": len(found), "data": found}

    def delete_customer_data(self, integration_id: str) -> None:
        """DELETE /v1/customer_data/{id}: remove the profile and everything referencing it."""
        with self.lock:
            if integration_id not in self.profiles:
                raise not_found(f"customer profile {integration_id!r} not found", "customerProfile")
            del self.profiles[integration_id]
            self.profile_session_count.pop(integration_id, None)
            for sid in [
                s for s, sess in self.sessions.items() if sess.profile_id == integration_id
            ]:
                del self.sessions[sid]
            for key in [k for k, v in self.coupons.items() if v.recipient == integration_id]:
                del self.coupons[key]
            for coupon in self.coupons.values():
                coupon.profile_redemptions.pop(integration_id, None)
                if integration_id in coupon.reserved_for:
                    coupon.reserved_for.remove(integration_id)
            for key in [k for k, v in self.referrals.items() if v.advocate == integration_id]:
                del self.referrals[key]
            for referral in self.referrals.values():
                if referral.friend == integration_id:
                    referral.friend = None
                referral.referred = [p for p in referral.referred if p != integration_id]
            self.events = [e for e in self.events if e["profileId"] != integration_id]
            self.idempotent_returns = {
                k: v for k, v in self.idempotent_returns.items() if k[0] in self.sessions
            }

    # ---------------------------------------------------------------------------- coupons

    def _coupon_or_404(self, code: str) -> Coupon:
        coupon = self.coupons.get(code.casefold())
        if coupon is None:
            raise not_found(f"coupon {code!r} not found", "coupon")
        return coupon

    @staticmethod
    def _parse_ids(body: Any) -> list[str]:
        body = want_object(body, "")
        ids = want_list(body.get("integrationIDs"), "/integrationIDs", max_items=MAX_BATCH)
        return [
            want_str(v, f"/integrationIDs/{i}", min_length=1, max_length=1000)
            for i, v in enumerate(ids)
        ]

    def create_reservation(self, code: str, body: Any) -> dict[str, Any]:
        """POST /v1/coupon_reservations/{couponValue} (hard if the coupon says reservation mandatory)."""
        ids = self._parse_ids(body)
        with self.lock:
            coupon = self._coupon_or_404(code)
            now = utcnow()
            for iid in ids:
                self._profile(iid, create=True, now=now)
                if iid not in coupon.reserved_for:
                    coupon.reserved_for.append(iid)
            return coupon.to_api()

    def delete_reservation(self, code: str, body: Any) -> None:
        """DELETE /v1/coupon_reservations/{couponValue} (JSON body)."""
        ids = self._parse_ids(body)
        with self.lock:
            coupon = self._coupon_or_404(code)
            coupon.reserved_for = [p for p in coupon.reserved_for if p not in ids]

    def reserved_customers(self, code: str) -> dict[str, Any]:
        """GET /v1/coupon_reservations/customerprofiles/{couponValue}."""
        with self.lock:
            coupon = self._coupon_or_404(code)
            data = [
                self._render_profile(self.profiles[p])
                for p in coupon.reserved_for
                if p in self.profiles
            ]
            return {"totalResultSize": len(data), "data": data}

    def _usable(self, coupon: Coupon, profile_id: str, now: datetime) -> bool:
        campaign = self.campaign_by_id.get(coupon.campaign_id)
        if campaign is None or not campaign.running(now):
            return False
        if coupon.start_date is not None and now < coupon.start_date:
            return False
        if coupon.expiry_date is not None and now >= coupon.expiry_date:
            return False
        if coupon.usage_limit and coupon.usage_counter >= coupon.usage_limit:
            return False
        return not (
            coupon.profile_limit
            and coupon.profile_redemptions.get(profile_id, 0) >= coupon.profile_limit
        )

    def reserved_coupons(self, integration_id: str) -> dict[str, Any]:
        """GET /v1/coupon_reservations/coupons/{integrationId} (V2.0): usable reserved coupons."""
        with self.lock:
            now = utcnow()
            data = [
                c.to_api(legacy=True)
                for c in self.coupons.values()
                if (integration_id in c.reserved_for or c.recipient == integration_id)
                and self._usable(c, integration_id, now)
            ]
            return {"totalResultSize": len(data), "data": data}

    def _coupon_state(self, coupon: Coupon, profile_id: str, now: datetime) -> str:
        campaign = self.campaign_by_id.get(coupon.campaign_id)
        if campaign is None or campaign.state != "enabled":
            return "disabled"
        if coupon.start_date is not None and now < coupon.start_date:
            return "pending"
        if coupon.expiry_date is not None and now >= coupon.expiry_date:
            return "expired"
        if (coupon.usage_limit and coupon.usage_counter >= coupon.usage_limit) or (
            coupon.profile_limit
            and coupon.profile_redemptions.get(profile_id, 0) >= coupon.profile_limit
        ):
            return "used"
        return "active"

    # ---------------------------------------------------------------------------- referrals

    def create_referral(self, body: Any) -> dict[str, Any]:
        """POST /v1/referrals."""
        body = want_object(body, "")
        campaign_id = want_int(body.get("campaignId"), "/campaignId")
        advocate = want_str(
            body.get("advocateProfileIntegrationId"),
            "/advocateProfileIntegrationId",
            min_length=1,
            max_length=1000,
        )
        friend = None
        if body.get("friendProfileIntegrationId") not in (None, ""):
            friend = want_str(
                body["friendProfileIntegrationId"], "/friendProfileIntegrationId", max_length=1000
            )
        start = parse_datetime(body["startDate"], "/startDate") if body.get("startDate") else None
        expiry = (
            parse_datetime(body["expiryDate"], "/expiryDate") if body.get("expiryDate") else None
        )
        usage_limit = want_int(body.get("usageLimit", 0), "/usageLimit", minimum=0, maximum=999999)
        attributes = dict(want_object(body.get("attributes", {}), "/attributes"))
        with self.lock:
            campaign = self.campaign_by_id.get(campaign_id)
            if campaign is None or campaign.trigger != "referral":
                raise bad_request(
                    f"campaign {campaign_id} is not a referral campaign", pointer="/campaignId"
                )
            now = utcnow()
            self._profile(advocate, create=True, now=now)
            alphabet = string.ascii_uppercase + string.digits
            while True:
                code = "REF-" + "".join(self.rng.choice(alphabet) for _ in range(6))
                if code.casefold() not in self.referrals:
                    break
            referral = Referral(
                id=self._next("referral"),
                code=code,
                campaign_id=campaign_id,
                advocate=advocate,
                created=now,
                friend=friend,
                start_date=start,
                expiry_date=expiry,
                usage_limit=usage_limit,
                attributes=attributes,
            )
            self.referrals[code.casefold()] = referral
            return referral.to_api()

    # ---------------------------------------------------------------------------- inventory

    def inventory(self, integration_id: str, query: dict[str, str]) -> dict[str, Any]:
        """GET /v1/customer_profiles/{id}/inventory."""
        flags = {
            name: query_bool(query, name)
            for name in ("profile", "referrals", "coupons", "loyalty", "giveaways", "achievements")
        }
        with self.lock:
            profile = self.profiles.get(integration_id)
            if profile is None:
                raise not_found(f"customer profile {integration_id!r} not found", "customerProfile")
            now = utcnow()
            result: dict[str, Any] = {}
            if flags["profile"]:
                result["profile"] = self._render_profile(profile)
            if flags["loyalty"]:
                result["loyalty"] = self._loyalty(profile)
            if flags["referrals"]:
                result["referrals"] = [
                    r.to_api(inventory=True)
                    for r in self.referrals.values()
                    if r.advocate == integration_id
                ]
            if flags["coupons"]:
                result["coupons"] = [
                    {
                        **c.to_api(),
                        "profileRedemptionCount": c.profile_redemptions.get(integration_id, 0),
                        "state": self._coupon_state(c, integration_id, now),
                    }
                    for c in self.coupons.values()
                    if integration_id in c.reserved_for or c.recipient == integration_id
                ]
            if flags["giveaways"]:
                result["giveaways"] = []
            if flags["achievements"]:
                result["achievements"] = []
            return result

    # ---------------------------------------------------------------------------- v1

    def _v1_session_payload(
        self, session: Session, effects: list[dict[str, Any]]
    ) -> dict[str, Any]:
        discounts: dict[str, float] = {}
        for effect in effects:
            if effect["effectType"] in ("setDiscount", "setDiscountPerItem"):
                name = str(effect["props"]["name"])
                discounts[name] = money(discounts.get(name, 0.0) + float(effect["props"]["value"]))
        items = []
        for position, item in enumerate(session.cart_items):
            rendered = {k: v for k, v in item.items() if k != "product"}
            rendered.setdefault("name", item["sku"])
            rendered["position"] = position
            items.append(rendered)
        return {
            "integrationId": session.integration_id,
            "created": isoformat(session.created),
            "applicationId": self.application_id,
            "profileId": session.profile_id,
            "coupon": session.coupon_codes[0] if session.coupon_codes else "",
            "referral": session.referral_code,
            "state": session.state if session.state != "partially_returned" else "closed",
            "cartItems": items,
            "identifiers": list(session.identifiers),
            "total": money(session.cart_item_total() + session.additional_cost_total()),
            "attributes": dict(session.attributes),
            "firstSession": session.first_session,
            "discounts": discounts,
        }

    def _v1_profile(
        self, profile: Profile | None, integration_id: str, now: datetime
    ) -> dict[str, Any]:
        if profile is not None:
            return self._render_profile(profile, legacy=True)
        return {
            "integrationId": integration_id,
            "created": isoformat(now),
            "attributes": {},
            "accountId": ACCOUNT_ID,
            "closedSessions": 0,
            "totalSales": 0.0,
            "lastActivity": isoformat(now),
        }

    def _v1_state(
        self,
        session: Session,
        profile: Profile | None,
        effects: list[dict[str, Any]],
        event_type: str,
        attributes: dict[str, Any],
        now: datetime,
        *,
        dry: bool,
    ) -> dict[str, Any]:
        result: dict[str, Any] = {
            "session": self._v1_session_payload(session, effects),
            "profile": self._v1_profile(profile, session.profile_id, now),
            "event": self._event(
                event_type,
                profile_id=session.profile_id,
                session_id=session.integration_id,
                attributes=attributes,
                effects=[to_v1_effect(e) for e in effects],
                now=now,
                store=not dry,
            ),
        }
        if profile is not None:
            result["loyalty"] = self._loyalty(profile)
        for effect in effects:
            if effect["effectType"] == "acceptCoupon":
                coupon = self.coupons.get(str(effect["props"]["value"]).casefold())
                if coupon is not None:
                    result["coupon"] = coupon.to_api(legacy=True)
                    break
        return result

    def update_session_v1(
        self, session_id: str, body: Any, query: dict[str, str]
    ) -> dict[str, Any]:
        """PUT /v1/customer_sessions/{id} (deprecated API; v2 semantics underneath)."""
        dry = query_bool(query, "dry")
        body = want_object(body, "")
        fields: dict[str, Any] = {}
        if "profileId" in body:
            fields["profileId"] = want_str(body["profileId"], "/profileId", max_length=1000)
        if "coupon" in body:
            code = want_str(body["coupon"], "/coupon", max_length=100)
            fields["couponCodes"] = [code] if code else []
        if "referral" in body:
            fields["referralCode"] = want_str(body["referral"], "/referral", max_length=100)
        if "state" in body:
            state = want_str(body["state"], "/state")
            if state not in ("open", "closed", "cancelled"):
                raise bad_request("/state must be open, closed or cancelled", pointer="/state")
            fields["state"] = state
        if "cartItems" in body:
            items = want_list(body["cartItems"], "/cartItems", max_items=MAX_CART_ITEMS)
            fields["cartItems"] = [
                self._parse_cart_item(it, f"/cartItems/{i}", legacy=True)
                for i, it in enumerate(items)
            ]
        if "identifiers" in body:
            idents = want_list(body["identifiers"], "/identifiers", max_items=5)
            fields["identifiers"] = [want_str(v, f"/identifiers/{i}") for i, v in enumerate(idents)]
        if "total" in body:
            want_number(body["total"], "/total")
        if "attributes" in body:
            fields["attributes"] = dict(want_object(body["attributes"], "/attributes"))
        with self.lock:
            now = utcnow()
            session, profile, effects, _ = self._apply_session_update(
                session_id, fields, dry=dry, now=now
            )
            return self._v1_state(
                session, profile, effects, SESSION_EVENT, session.attributes, now, dry=dry
            )

    def update_profile_v1(
        self, integration_id: str, body: Any, query: dict[str, str]
    ) -> dict[str, Any]:
        """PUT /v1/customer_profiles/{id} (deprecated)."""
        dry = query_bool(query, "dry")
        body = want_object(body, "")
        attributes = dict(want_object(body.get("attributes", {}), "/attributes"))
        with self.lock:
            now = utcnow()
            stored = None if dry else self._profile(integration_id, create=True, now=now)
            profile = stored if stored is not None else self._transient_profile(integration_id, now)
            if not dry:
                profile.last_activity = now
            profile.attributes.update(attributes)
            ctx = _profile_context(profile, integration_id, now)
            effects = evaluate(self.campaigns, ctx, self.lookups).effects
            placeholder = Session(
                id=0,
                integration_id="",
                created=now,
                updated=now,
                profile_id=integration_id,
                first_session=False,
            )
            return self._v1_state(
                placeholder, profile, effects, PROFILE_EVENT, attributes, now, dry=dry
            )

    def track_event_v1(self, body: Any, query: dict[str, str]) -> dict[str, Any]:
        """POST /v1/events: campaigns listening to this event type run with the session's cart."""
        dry = query_bool(query, "dry")
        body = want_object(body, "")
        event_type = want_str(body.get("type"), "/type", min_length=1)
        attributes = dict(want_object(body.get("attributes"), "/attributes"))
        session_id = want_str(body.get("sessionId"), "/sessionId", min_length=1)
        profile_id = want_str(body.get("profileId", ""), "/profileId", max_length=1000)
        with self.lock:
            now = utcnow()
            existing = self.sessions.get(session_id)
            if existing is not None and existing.profile_id != profile_id:
                raise bad_request(
                    f"session {session_id!r} belongs to another customer profile",
                    pointer="/profileId",
                )
            if existing is not None:
                session = existing if not dry else copy.deepcopy(existing)
            else:
                session = Session(
                    id=0, integration_id=session_id, created=now, updated=now, profile_id=profile_id
                )
            profile: Profile | None = None
            if profile_id:
                profile = (
                    self._transient_profile(profile_id, now)
                    if dry
                    else self._profile(profile_id, create=True, now=now)
                )
            if existing is None and not dry:
                session.id = self._next("session")
                session.first_session = (
                    profile is None or self.profile_session_count.get(profile_id, 0) == 0
                )
                if profile_id:
                    self.profile_session_count[profile_id] = (
                        self.profile_session_count.get(profile_id, 0) + 1
                    )
                session.update_count = 1
                self.sessions[session_id] = session
            if profile is not None and not dry:
                profile.last_activity = now
            ctx = self._context(session, profile, now, event_type)
            effects = evaluate(self.campaigns, ctx, self.lookups).effects
            return self._v1_state(session, profile, effects, event_type, attributes, now, dry=dry)

    # ---------------------------------------------------------------------------- dump

    def dump(self) -> dict[str, Any]:
        """A JSON-able snapshot of all state (``GET /_emulator/state``)."""
        with self.lock:
            return {
                "application": {
                    "id": self.application_id,
                    "name": self.campaign_set.application_name,
                    "currency": self.campaign_set.currency,
                },
                "campaigns": [
                    {
                        "id": c.id,
                        "name": c.name,
                        "state": c.state,
                        "trigger": c.trigger,
                        "redemptions": self.campaign_redemptions.get(c.id, 0),
                    }
                    for c in self.campaigns
                ],
                "coupons": {
                    c.value: {
                        **c.to_api(),
                        "reservedFor": list(c.reserved_for),
                        "profileRedemptions": dict(c.profile_redemptions),
                    }
                    for c in self.coupons.values()
                },
                "referrals": {r.code: r.to_api(inventory=True) for r in self.referrals.values()},
                "profiles": {
                    p.integration_id: {
                        **self._render_profile(p),
                        "loyalty": {str(k): v for k, v in p.loyalty.items()},
                    }
                    for p in self.profiles.values()
                },
                "sessions": {
                    s.integration_id: {
                        **s.to_api(self.application_id),
                        "effects": copy.deepcopy(s.effects),
                        "returns": copy.deepcopy(s.returns),
                    }
                    for s in self.sessions.values()
                },
                "audiences": {str(k): v for k, v in self.campaign_set.audiences.items()},
                "events": copy.deepcopy(self.events),
            }
