"""Customer profiles: v2 updates, bulk updates, audiences, search, deletion, inventory.

``PUT /v2/customer_profiles[/{id}]``, ``POST /v2/customer_audiences``,
``POST /v1/customer_profiles_search``, ``DELETE /v1/customer_data/{id}``,
``GET /v1/customer_profiles/{id}/inventory``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django_talon.emulator.campaign_file import PROFILE_EVENT
from django_talon.emulator.engine import EvalContext, Outcome, evaluate
from django_talon.emulator.errors import bad_request, not_found
from django_talon.emulator.models import Profile
from django_talon.emulator.store.coupons import CouponsMixin
from django_talon.emulator.store.parsing import (
    MAX_BATCH,
    PROFILE_RESPONSE_CONTENT,
    parse_response_content,
)
from django_talon.emulator.store.render import RenderMixin
from django_talon.emulator.util import (
    query_bool,
    utcnow,
    want_int,
    want_list,
    want_object,
    want_str,
)


def profile_context(profile: Profile, integration_id: str, now: datetime) -> EvalContext:
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


def _change_audiences(profile: Profile, adds: list[int], deletes: list[int]) -> None:
    for audience_id in adds:
        if audience_id not in profile.audiences:
            profile.audiences.append(audience_id)
    for audience_id in deletes:
        if audience_id in profile.audiences:
            profile.audiences.remove(audience_id)


def _evaluable_campaigns(body: dict[str, Any]) -> set[int] | None:
    """``evaluableCampaignIds`` of a dry run (``None``: every campaign)."""
    if "evaluableCampaignIds" not in body:
        return None
    raw = want_list(body["evaluableCampaignIds"], "/evaluableCampaignIds")
    return {want_int(v, f"/evaluableCampaignIds/{i}") for i, v in enumerate(raw)}


class ProfilesMixin(CouponsMixin, RenderMixin):
    """The customer profile operations."""

    def update_profile_v2(
        self, integration_id: str, body: Any, query: dict[str, str]
    ) -> dict[str, Any]:
        """PUT /v2/customer_profiles/{integrationId}."""
        run = query_bool(query, "runRuleEngine")
        # the spec: dry "only works when runRuleEngine=true"; without it the update persists
        dry = query_bool(query, "dry") and run
        body = want_object(body, "")
        want_str(integration_id, "integrationId", min_length=1, max_length=1000)
        attributes = dict(want_object(body.get("attributes", {}), "/attributes"))
        content = parse_response_content(body, PROFILE_RESPONSE_CONTENT)
        if content is not None and not run:
            raise bad_request(
                "responseContent needs runRuleEngine=true", pointer="/responseContent"
            )
        adds, deletes = self._audience_changes(body)
        only = _evaluable_campaigns(body) if dry else None
        with self.lock:
            now = utcnow()
            stored = None if dry else self._profile(integration_id, create=True, now=now)
            profile = stored if stored is not None else self._transient_profile(integration_id, now)
            profile.attributes.update(attributes)
            _change_audiences(profile, adds, deletes)
            if not dry:
                profile.last_activity = now
            effects: list[dict[str, Any]] = []
            outcome: Outcome | None = None
            if run:
                campaigns = self.campaigns
                if only is not None:  # evaluableCampaignIds: a dry run of these campaigns
                    campaigns = [c for c in campaigns if c.id in only]
                outcome = evaluate(
                    campaigns, profile_context(profile, integration_id, now), self.lookups
                )
                effects = outcome.effects
            return self._profile_state_v2(
                profile, attributes, effects, outcome, set(content or []), now
            )

    def _audience_changes(self, body: dict[str, Any]) -> tuple[list[int], list[int]]:
        """The audiences to add and to leave; 400 for an audience that does not exist."""
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
        return adds, deletes

    def _profile_state_v2(
        self,
        profile: Profile,
        attributes: dict[str, Any],
        effects: list[dict[str, Any]],
        outcome: Outcome | None,
        wanted: set[str],
        now: datetime,
    ) -> dict[str, Any]:
        """The CustomerProfileIntegrationResponseV2 answer, with what ``responseContent`` asks."""
        result: dict[str, Any] = {
            "customerProfile": self._render_profile(profile),
            "effects": effects,
            "createdCoupons": [],
            "createdReferrals": [],
        }
        if "loyalty" in wanted:
            result["loyalty"] = self._loyalty(profile)
        if "event" in wanted:
            result["event"] = self._event(
                PROFILE_EVENT,
                profile_id=profile.integration_id,
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
            render = silent == "no"  # a silent update answers 204: render nothing
            for iid, attrs in parsed:
                profile = self._profile(iid, create=True, now=now)
                assert profile is not None
                profile.attributes.update(attrs)
                profile.last_activity = now
                if render:
                    states.append({"customerProfile": self._render_profile(profile)})
            return {"integrationStates": states} if render else None

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
            self._erase_loyalty(integration_id)
            self.idempotent_returns = {
                k: v for k, v in self.idempotent_returns.items() if k[0] in self.sessions
            }

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
                result["giveaways"] = [  # the codes awarded to this customer (handouts.py)
                    dict(g)
                    for pool in self.giveaways.values()
                    for g in pool
                    if g.get("profileIntegrationId") == integration_id
                ]
            if flags["achievements"]:
                result["achievements"] = self._inventory_achievements(integration_id, now)
            return result
