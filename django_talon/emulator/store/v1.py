"""The deprecated v1 API: sessions, profiles and custom events (v2 semantics underneath).

``PUT /v1/customer_sessions/{id}``, ``PUT /v1/customer_profiles/{id}``, ``POST /v1/events``.
Effects travel in the v1 positional wire format (:func:`~django_talon.emulator.engine.to_v1_effect`).
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from django_talon.emulator.campaign_file import PROFILE_EVENT, SESSION_EVENT
from django_talon.emulator.engine import evaluate, to_v1_effect
from django_talon.emulator.errors import bad_request
from django_talon.emulator.models import ACCOUNT_ID, Profile, Session
from django_talon.emulator.store.parsing import MAX_CART_ITEMS, parse_cart_item
from django_talon.emulator.store.profiles import ProfilesMixin, profile_context
from django_talon.emulator.store.sessions import SessionsMixin
from django_talon.emulator.util import (
    isoformat,
    money,
    query_bool,
    utcnow,
    want_list,
    want_number,
    want_object,
    want_str,
)


class V1Mixin(SessionsMixin, ProfilesMixin):
    """The v1 operations."""

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
                parse_cart_item(it, f"/cartItems/{i}", legacy=True) for i, it in enumerate(items)
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
            ctx = profile_context(profile, integration_id, now)
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
