"""How stored records look inside answers: loyalty ledgers and triggered campaigns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django_talon.emulator.models import Campaign, Profile
from django_talon.emulator.store.state import StoreState
from django_talon.emulator.util import isoformat, money


class RenderMixin(StoreState):
    """Renderers shared by sessions, profiles and the v1 API."""

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
