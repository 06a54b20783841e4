"""Coupons, their reservations, and referral codes.

``/v1/coupon_reservations/...`` and ``POST /v1/referrals``.
"""

from __future__ import annotations

import string
from datetime import datetime
from typing import Any

from django_talon.emulator.errors import bad_request, not_found
from django_talon.emulator.models import Coupon, Referral
from django_talon.emulator.store.parsing import MAX_BATCH
from django_talon.emulator.store.state import StoreState
from django_talon.emulator.util import (
    parse_datetime,
    utcnow,
    want_int,
    want_list,
    want_object,
    want_str,
)


class CouponsMixin(StoreState):
    """Coupon reservations and referral creation."""

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
