"""Customer sessions (v2): the session state machine, evaluation, get and reopen.

``PUT /v2/customer_sessions/{id}``, ``GET /v2/customer_sessions/{id}``,
``PUT /v2/customer_sessions/{id}/reopen``. The v1 session API shares
:meth:`SessionsMixin._apply_session_update`.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from django_talon.emulator.campaign_file import SESSION_EVENT
from django_talon.emulator.engine import EvalContext, Outcome, evaluate
from django_talon.emulator.errors import bad_request, not_found
from django_talon.emulator.models import Profile, Session
from django_talon.emulator.store.parsing import (
    RESPONSE_CONTENT,
    parse_response_content,
    parse_session_v2,
)
from django_talon.emulator.store.redemption import RedemptionMixin
from django_talon.emulator.store.render import RenderMixin
from django_talon.emulator.util import parse_datetime, query_bool, utcnow, want_object


class SessionsMixin(RedemptionMixin, RenderMixin):
    """The v2 customer session operations."""

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
        fields = parse_session_v2(body["customerSession"])
        content = parse_response_content(body, RESPONSE_CONTENT)
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
