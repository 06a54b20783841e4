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
from django_talon.emulator.store.handouts import HandoutsMixin
from django_talon.emulator.store.parsing import (
    RESPONSE_CONTENT,
    parse_response_content,
    parse_session_v2,
)
from django_talon.emulator.store.redemption import RedemptionMixin, remaining_effects
from django_talon.emulator.store.render import RenderMixin
from django_talon.emulator.util import parse_datetime, query_bool, utcnow, want_object

#: what a session update gives back: the session, its profile, this call's effects and the rule
#: outcome (None when the call only moved state, e.g. a cancel)
SessionUpdate = tuple[Session, Profile | None, list[dict[str, Any]], Outcome | None]

#: where a closed, returned or cancelled session may still go (reopen has its own endpoint)
_SETTLED_TRANSITIONS = {
    "closed": ("closed", "cancelled"),
    "partially_returned": ("partially_returned", "cancelled"),
    "cancelled": ("cancelled",),
}


def _check_transition(session_id: str, current: str | None, target: str) -> None:
    """400 unless the session may move from ``current`` (None: new) to ``target``."""
    if current is None:
        if target not in ("open", "closed"):
            raise bad_request(
                f"a new customer session cannot be created in state {target!r}",
                pointer="/customerSession/state",
            )
    elif current != "open":
        if target not in _SETTLED_TRANSITIONS[current]:
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


#: request field -> the Session attribute that stores it
_STORED_AS = {
    "profileId": "profile_id",
    "storeIntegrationId": "store_id",
    "couponCodes": "coupon_codes",
    "referralCode": "referral_code",
    "loyaltyCards": "loyalty_cards",
    "cartItems": "cart_items",
    "additionalCosts": "additional_costs",
    "identifiers": "identifiers",
}


def _refuse_changes(session: Session, fields: dict[str, Any]) -> None:
    """400 if an update that keeps a settled session's state would still change the session.

    Why: the spec allows a closed session only the state moves it lists (to ``cancelled``
    here, to ``partially_returned`` via returns, to ``open`` via reopen), and Talon.One's
    session docs say a closed session "cannot be modified anymore". An update repeating what
    is stored (a retried close) changes nothing and stays a no-op.
    """
    for name, attribute in _STORED_AS.items():
        if name in fields and fields[name] != getattr(session, attribute):
            _refuse(session, name)
    for key, value in fields.get("attributes", {}).items():
        if key not in session.attributes or session.attributes[key] != value:
            _refuse(session, "attributes")


def _refuse(session: Session, name: str) -> None:
    raise bad_request(
        f"customer session {session.integration_id!r} is {session.state} and cannot be "
        f"modified (it may only change state; reopen a closed session to edit it)",
        pointer=f"/customerSession/{name}",
    )


def _accumulate(session: Session, fields: dict[str, Any], *, dry: bool) -> None:
    """An open session keeps every field the update leaves out (a dry run: attributes too)."""
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


#: what an answer holds when the request names no ``responseContent``
_DEFAULT_CONTENT = frozenset(("customerSession", "customerProfile"))


class SessionsMixin(HandoutsMixin, RedemptionMixin, RenderMixin):
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
            loyalty_cards=session.loyalty_cards,
            additional_costs=session.additional_costs,
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
    ) -> SessionUpdate:
        """Shared by v1 and v2 session updates: state machine, accumulation, evaluation, redemption.

        Returns the (stored or transient) session, its profile, the effects of this call and the
        rule outcome (None when the call only moved state, e.g. a cancel).
        """
        existing = self.sessions.get(session_id)
        session = self._working_copy(session_id, existing, dry=dry, now=now)
        current = session.state if existing is not None else None
        target = fields.get("state")
        if target is None:
            target = current or "open"
        _check_transition(session_id, current, target)
        if current is not None and current != "open":
            if target == current:
                _refuse_changes(session, fields)
            return self._update_settled(session, existing, current, target, dry=dry, now=now)
        # open (or new) session: accumulate the payload
        _accumulate(session, fields, dry=dry)
        profile = self._session_profile(session, dry=dry, now=now)
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
        if not dry:
            self._commit(session_id, session, existing is None, outcome, profile, now)
        return session, profile, effects, outcome

    def _working_copy(
        self, session_id: str, existing: Session | None, *, dry: bool, now: datetime
    ) -> Session:
        """The session this update works on; stored state changes only when it is committed."""
        if existing is not None and not (dry and existing.state == "open"):
            return existing.clone()
        session = Session(id=0, integration_id=session_id, created=now, updated=now)
        if existing is not None:  # dry run on an existing session: same identity, payload only
            session.id, session.created = existing.id, existing.created
            session.state = existing.state
            session.first_session = existing.first_session
            session.profile_id = existing.profile_id
            session.redemption = copy.deepcopy(existing.redemption)
        return session

    def _update_settled(
        self,
        session: Session,
        existing: Session | None,
        current: str,
        target: str,
        *,
        dry: bool,
        now: datetime,
    ) -> SessionUpdate:
        """A closed, returned or cancelled session: a repeated state is an idempotent no-op,
        cancel rolls back what closing redeemed.

        The cancel answers the rollback effects; afterwards the session keeps (and GET
        reports) only the effects the rollbacks left valid.
        """
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
            session.effects = remaining_effects(session.effects, rollbacks)
            return session, profile_obj, rollbacks, None
        assert existing is not None
        rollbacks = self._unredeem(existing, profile_obj)
        existing.state = "cancelled"
        existing.effects = remaining_effects(existing.effects, rollbacks)
        existing.updated = now
        existing.update_count += 1
        return existing, profile_obj, rollbacks, None

    def _session_profile(self, session: Session, *, dry: bool, now: datetime) -> Profile | None:
        """The session's customer profile: created on a real update, a copy on a dry run."""
        if not session.profile_id:
            return None
        if dry:
            return self._transient_profile(session.profile_id, now)
        return self._profile(session.profile_id, create=True, now=now)

    def _commit(
        self,
        session_id: str,
        session: Session,
        new: bool,
        outcome: Outcome,
        profile: Profile | None,
        now: datetime,
    ) -> None:
        """Store an evaluated (not dry) update; closing redeems."""
        if new:
            session.id = self._next("session")
            session.created = now
            if session.profile_id:
                self.profile_session_count[session.profile_id] = (
                    self.profile_session_count.get(session.profile_id, 0) + 1
                )
        session.update_count += 1
        if session.state == "closed":
            self._hand_out(session, outcome, profile, now)
            self._redeem(session, outcome, profile)
        if profile is not None:
            profile.last_activity = now
        self.sessions[session_id] = session

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
            if now < utcnow():
                # the spec: "It can **only** be a date in the future."
                raise bad_request("the now parameter must be a date in the future", parameter="now")
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
        """The IntegrationStateV2 answer, with the parts ``responseContent`` asks for."""
        wanted = set(content) if content is not None else _DEFAULT_CONTENT
        result: dict[str, Any] = {
            "effects": list(effects),
            # (copied only when there is something to copy: most updates create nothing)
            "createdCoupons": (
                copy.deepcopy(outcome.created_coupons)
                if outcome and outcome.created_coupons
                else []
            ),
            "createdReferrals": (
                copy.deepcopy(outcome.created_referrals)
                if outcome and outcome.created_referrals
                else []
            ),
        }
        if "customerSession" in wanted:
            # the evaluation summed this very cart: its subtotal is the answer's cartItemTotal
            summed = (
                outcome.subtotal
                if outcome is not None and outcome.cart_items is session.cart_items
                else None
            )
            result["customerSession"] = session.to_api(self.application_id, summed)
        if "customerProfile" in wanted and profile is not None:
            result["customerProfile"] = self._render_profile(profile)
        if "coupons" in wanted:
            result["coupons"] = self._session_coupons(session)
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
        if "awardedGiveaways" in wanted:
            result["awardedGiveaways"] = copy.deepcopy(outcome.awarded_giveaways) if outcome else []
        if "achievements" in wanted:
            result["achievements"] = []
        if "campaignEligibility" in wanted and dry:
            result["campaignEligibility"] = []
        if extra:
            result.update(extra)
        return result

    def _session_coupons(self, session: Session) -> list[dict[str, Any]]:
        """The session's known coupons, with how often its customer has redeemed each."""
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
        return coupons

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
            # what reopening did not roll back (free items, notifications) stays valid
            session.effects = remaining_effects(session.effects, rollbacks)
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
