"""Custom events: ``POST /v2/events``, ``POST /v3/events``, ``GET /v3/events/{integrationId}``.

An event runs the campaigns whose ``events`` list its type, with the profile (created if
new, as the API does) and the event's attributes (the ``eventAttributeEquals`` condition);
a v3 event may name a closed session (``connectedSessionId``) whose cart and attributes the
rules then see too. v3 events carry their own ``integrationId`` and are registered once: a
second event with the same id answers 409. Built-in event types (``talon_...``) are refused,
as the API refuses them. ``dry`` evaluates without storing anything (with
``evaluableCampaignIds``: only those campaigns); ``silent`` (the API's default) makes v2
answer 204.

Effects are answered, not applied: an ``addLoyaltyPoints`` of an event is reported in the
answer but credits no ledger.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import Any

from django_talon.emulator.engine import EvalContext, Outcome, evaluate
from django_talon.emulator.errors import ApiError, bad_request, not_found
from django_talon.emulator.models import Profile, Session
from django_talon.emulator.store.parsing import parse_response_content
from django_talon.emulator.store.profiles import ProfilesMixin
from django_talon.emulator.store.state import MAX_EVENTS
from django_talon.emulator.util import (
    isoformat,
    query_bool,
    utcnow,
    want_int,
    want_list,
    want_object,
    want_str,
)

V2_CONTENT = {
    "customerProfile",
    "triggeredCampaigns",
    "loyalty",
    "event",
    "awardedGiveaways",
    "ruleFailureReasons",
    "campaignEligibility",
    "achievements",
}
V3_CONTENT = {
    "customerProfile",
    "triggeredCampaigns",
    "loyalty",
    "advancedEvent",
    "awardedGiveaways",
    "ruleFailureReasons",
}


def _silent(query: dict[str, str]) -> bool:
    value = query.get("silent", "yes")
    if value not in ("yes", "no"):
        raise bad_request("silent must be yes or no", parameter="silent")
    return value == "yes"


def _parse_event(body: Any, *, v3: bool) -> dict[str, Any]:
    """The fields of a v2/v3 event request, checked (400 for what the API refuses)."""
    body = want_object(body, "")
    event_type = want_str(body.get("type"), "/type", min_length=1)
    if event_type.startswith("talon_"):
        raise bad_request(
            f"{event_type!r} is a built-in event; track custom events only", pointer="/type"
        )
    parsed: dict[str, Any] = {
        "type": event_type,
        # the API: "profileId is required even though the schema does not specify it"
        "profileId": want_str(body.get("profileId"), "/profileId", min_length=1, max_length=1000),
        "attributes": dict(want_object(body.get("attributes", {}), "/attributes")),
        "content": parse_response_content(body, V3_CONTENT if v3 else V2_CONTENT),
    }
    if "storeIntegrationId" in body:
        parsed["storeIntegrationId"] = want_str(
            body["storeIntegrationId"], "/storeIntegrationId", min_length=1, max_length=1000
        )
    if "evaluableCampaignIds" in body:
        parsed["only"] = [
            want_int(v, f"/evaluableCampaignIds/{i}")
            for i, v in enumerate(want_list(body["evaluableCampaignIds"], "/evaluableCampaignIds"))
        ]
    if "loyaltyCards" in body:
        want_list(body["loyaltyCards"], "/loyaltyCards", max_items=1)
    if v3:
        parsed["integrationId"] = want_str(
            body.get("integrationId"), "/integrationId", min_length=1
        )
        if body.get("connectedSessionId") is not None:
            parsed["connectedSessionId"] = want_str(
                body["connectedSessionId"], "/connectedSessionId", min_length=1
            )
    return parsed


class EventsMixin(ProfilesMixin):
    """The v2/v3 custom event operations and the v3 events they register."""

    def reset(self, campaigns: Any = None) -> None:
        """No advanced events."""
        with self.lock:
            super().reset(campaigns)
            self.events_v3: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def track_event_v2(self, body: Any, query: dict[str, str]) -> tuple[int, Any]:
        """POST /v2/events: (200, IntegrationEventV2Response) or (204, None) when silent."""
        dry = query_bool(query, "dry")
        query_bool(query, "forceCompleteEvaluation")
        silent = _silent(query)
        event = _parse_event(body, v3=False)
        with self.lock:
            now = utcnow()
            profile, outcome = self._run_event(event, None, dry=dry, now=now)
            stored = self._event(
                event["type"],
                profile_id=event["profileId"],
                session_id="",
                attributes=event["attributes"],
                effects=outcome.effects,
                now=now,
                store=not dry,
            )
            if silent:
                return 204, None
            result = self._event_answer(profile, outcome, event["content"], now)
            if "event" in (event["content"] or []):
                result["event"] = stored
            return 200, result

    def track_event_v3(self, body: Any, query: dict[str, str]) -> dict[str, Any]:
        """POST /v3/events: an advanced event, registered once per integrationId."""
        dry = query_bool(query, "dry")
        query_bool(query, "forceCompleteEvaluation")
        silent = _silent(query)
        event = _parse_event(body, v3=True)
        with self.lock:
            if event["integrationId"] in self.events_v3:
                raise ApiError(
                    409,
                    f"an advanced event with integrationId {event['integrationId']!r} exists",
                    title="Conflict",
                    details="An advanced event already exists.",
                    pointer="/integrationId",
                )
            session = self._connected_session(event)
            now = utcnow()
            profile, outcome = self._run_event(event, session, dry=dry, now=now)
            advanced = self._advanced_event(event, outcome, now, stored=not dry)
            if not dry:
                self.events_v3[event["integrationId"]] = advanced
                while len(self.events_v3) > MAX_EVENTS:  # constant memory in long runs
                    self.events_v3.popitem(last=False)
            content = [] if silent else event["content"]
            result = self._event_answer(profile, outcome, content, now)
            if "advancedEvent" in (content or []):
                result["advancedEvent"] = dict(advanced)
            return result

    def get_event_v3(self, integration_id: str) -> dict[str, Any]:
        """GET /v3/events/{integrationId}."""
        with self.lock:
            event = self.events_v3.get(integration_id)
            if event is None:
                raise not_found(f"advanced event {integration_id!r} not found", "event")
            return dict(event)

    def delete_customer_data(self, integration_id: str) -> None:
        """Erasing a profile erases its advanced events too."""
        with self.lock:
            super().delete_customer_data(integration_id)
            for key in [k for k, e in self.events_v3.items() if e["profileId"] == integration_id]:
                del self.events_v3[key]

    # ---------------------------------------------------------------------------- helpers

    def _connected_session(self, event: dict[str, Any]) -> Session | None:
        session_id = event.get("connectedSessionId")
        if session_id is None:
            return None
        session = self.sessions.get(session_id)
        if session is None or session.state != "closed":
            raise bad_request(
                f"connectedSessionId {session_id!r} must name a closed session",
                pointer="/connectedSessionId",
            )
        return session

    def _run_event(
        self, event: dict[str, Any], session: Session | None, *, dry: bool, now: datetime
    ) -> tuple[Profile, Outcome]:
        """Evaluate the campaigns listening to the event type (the profile is created if new)."""
        profile_id = event["profileId"]
        if dry:
            profile = self._transient_profile(profile_id, now)
        else:
            stored = self._profile(profile_id, create=True, now=now)
            assert stored is not None
            profile = stored
            profile.last_activity = now
        ctx = EvalContext(
            now=now,
            event_type=event["type"],
            profile=profile,
            profile_id=profile_id,
            cart_items=session.cart_items if session is not None else [],
            session_attributes=dict(session.attributes) if session is not None else {},
            first_session=False,
            coupon_codes=[],
            referral_code="",
        )
        ctx.event_attributes = event["attributes"]
        campaigns = self.campaigns
        if dry and event.get("only") is not None:
            wanted = set(event["only"])
            campaigns = [c for c in campaigns if c.id in wanted]
        return profile, evaluate(campaigns, ctx, self.lookups)

    def _advanced_event(
        self, event: dict[str, Any], outcome: Outcome, now: datetime, *, stored: bool
    ) -> dict[str, Any]:
        """The ``EventV3`` record."""
        record: dict[str, Any] = {
            "id": self._next("event") if stored else 0,
            "created": isoformat(now),
            "applicationId": self.application_id,
            "profileId": event["profileId"],
            "type": event["type"],
            "attributes": dict(event["attributes"]),
            "integrationId": event["integrationId"],
            "effects": list(outcome.effects),
        }
        for key in ("storeIntegrationId", "connectedSessionId"):
            if key in event:
                record[key] = event[key]
        return record

    def _event_answer(
        self, profile: Profile, outcome: Outcome, content: list[str] | None, now: datetime
    ) -> dict[str, Any]:
        """``IntegrationEventV2Response`` / ``V3``: effects plus what ``responseContent`` asks."""
        wanted = set(content or [])
        result: dict[str, Any] = {
            "effects": list(outcome.effects),
            "createdCoupons": [],
            "createdReferrals": [],
        }
        if "customerProfile" in wanted:
            result["customerProfile"] = self._render_profile(profile)
        if "loyalty" in wanted:
            result["loyalty"] = self._loyalty(profile)
        if "triggeredCampaigns" in wanted:
            result["triggeredCampaigns"] = [
                self._campaign_api(self.campaign_by_id[c], now) for c in outcome.triggered
            ]
        if "ruleFailureReasons" in wanted:
            result["ruleFailureReasons"] = list(outcome.failures)
        for empty in ("awardedGiveaways", "campaignEligibility", "achievements"):
            if empty in wanted:
                result[empty] = []
        return result
