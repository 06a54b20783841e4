"""The store's core: all state, its lock, reset/dump, id counters and the event log.

Every public operation (in the API-area mixins next to this module) takes ``self.lock`` for its
whole duration, so each API call is atomic and the store is thread-safe. Methods validate the
complete request before changing anything, so a 400 never leaves a half-applied update behind,
and dry runs work on copies and never touch stored state at all.
"""

from __future__ import annotations

import copy
import random
import threading
from dataclasses import replace
from datetime import datetime
from typing import Any

from django_talon.emulator.campaign_file import CampaignSet
from django_talon.emulator.engine import Lookups
from django_talon.emulator.models import Campaign, Coupon, Profile, Referral, Session
from django_talon.emulator.util import isoformat, utcnow

MAX_EVENTS = 10_000


class StoreState:
    """All emulator state; the shared helpers every API area builds on."""

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
            #: giveaway pool id -> its ``Giveaway`` objects, handed out in order (handouts.py)
            self.giveaways: dict[int, list[dict[str, Any]]] = {
                pool.id: [
                    {
                        "id": self._next("giveaway"),
                        "created": isoformat(now),
                        "code": code,
                        "poolId": pool.id,
                        "used": False,
                    }
                    for code in pool.codes
                ]
                for pool in self.campaign_set.giveaway_pools.values()
            }
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
