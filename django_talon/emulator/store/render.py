"""How stored records look inside answers: triggered campaigns (and, from the base
:class:`~.loyalty.LoyaltyMixin`, the loyalty ledgers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django_talon.emulator.models import Campaign
from django_talon.emulator.store.loyalty import LoyaltyMixin
from django_talon.emulator.util import isoformat


class RenderMixin(LoyaltyMixin):
    """Renderers shared by sessions, profiles and the v1 API."""

    def _campaign_api(self, campaign: Campaign, now: datetime) -> dict[str, Any]:
        features = {"coupon": ["coupons"], "referral": ["referrals"]}.get(
            campaign.trigger or "", []
        )
        if any(e["type"] in ("addLoyaltyPoints", "deductLoyaltyPoints") for e in campaign.effects):
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
