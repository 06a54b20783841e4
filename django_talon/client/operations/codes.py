"""Coupon reservation and referral operations (v1 endpoints, still current in the API).

Creating a reservation or a referral changes a counter or makes a new code on every call, so
neither is retried; deleting a reservation and the reads are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..errors import TalonValidationError
from ..models import (
    Coupon,
    CustomerProfile,
    Page,
    Referral,
)
from ..validation import (
    check_batch,
    check_code,
    check_integration_id,
)
from .base import OperationGroup, require_mapping, segment

__all__ = ["CodeOperations"]


class CodeOperations(OperationGroup):
    """Operations on ``/v1/coupon_reservations`` and ``/v1/referrals``."""

    def _integration_ids(self, integration_ids: Sequence[str]) -> list[str]:
        ids = check_batch(integration_ids, "integration_ids")
        if not ids:
            raise TalonValidationError("must not be empty", field="integration_ids")
        for index, value in enumerate(ids):
            check_integration_id(value, f"integration_ids[{index}]")
        return ids

    def create_coupon_reservation(
        self, coupon_value: str, integration_ids: Sequence[str]
    ) -> Coupon:
        """Reserve a coupon for up to 1000 profiles (POST /v1/coupon_reservations/{code})."""
        check_code(coupon_value, "coupon_value")
        ids = self._integration_ids(integration_ids)
        data = self._send_for_object(
            "createCouponReservation",
            "POST",
            f"/v1/coupon_reservations/{segment(coupon_value)}",
            body={"integrationIDs": ids},
            has_body=True,
            safe_to_retry=False,
        )
        return Coupon.from_json(data)

    def delete_coupon_reservation(self, coupon_value: str, integration_ids: Sequence[str]) -> None:
        """Remove reservations of a coupon (DELETE /v1/coupon_reservations/{code}, JSON body)."""
        check_code(coupon_value, "coupon_value")
        ids = self._integration_ids(integration_ids)
        self._send(
            "deleteCouponReservation",
            "DELETE",
            f"/v1/coupon_reservations/{segment(coupon_value)}",
            body={"integrationIDs": ids},
            has_body=True,
            safe_to_retry=True,
        )

    def get_reserved_customers(self, coupon_value: str) -> Page[CustomerProfile]:
        """Profiles holding a reservation of the coupon (GET .../customerprofiles/{code})."""
        check_code(coupon_value, "coupon_value")
        data = self._send_for_object(
            "getReservedCustomers",
            "GET",
            f"/v1/coupon_reservations/customerprofiles/{segment(coupon_value)}",
            safe_to_retry=True,
        )
        return Page.of_profiles(data)

    def get_reserved_coupons(self, integration_id: str) -> Page[Coupon]:
        """Coupons reserved for a profile (GET /v1/coupon_reservations/coupons/{id}, legacy)."""
        check_integration_id(integration_id, "integration_id")
        data = self._send_for_object(
            "getReservedCoupons",
            "GET",
            f"/v1/coupon_reservations/coupons/{segment(integration_id)}",
            safe_to_retry=True,
        )
        return Page.of_coupons(data)

    # --- referrals -----------------------------------------------------------------------

    def create_referral(
        self,
        campaign_id: int,
        advocate_profile_integration_id: str,
        *,
        friend_profile_integration_id: str | None = None,
        start_date: datetime | str | None = None,
        expiry_date: datetime | str | None = None,
        usage_limit: int | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Referral:
        """Create a referral code for an advocate (POST /v1/referrals)."""
        if isinstance(campaign_id, bool) or not isinstance(campaign_id, int):
            raise TalonValidationError("must be an integer", field="campaign_id")
        check_integration_id(advocate_profile_integration_id, "advocate_profile_integration_id")
        body: dict[str, Any] = {
            "campaignId": campaign_id,
            "advocateProfileIntegrationId": advocate_profile_integration_id,
        }
        if friend_profile_integration_id is not None:
            check_integration_id(friend_profile_integration_id, "friend_profile_integration_id")
            body["friendProfileIntegrationId"] = friend_profile_integration_id
        if start_date is not None:
            body["startDate"] = start_date
        if expiry_date is not None:
            body["expiryDate"] = expiry_date
        if usage_limit is not None:
            if (
                isinstance(usage_limit, bool)
                or not isinstance(usage_limit, int)
                or not (0 <= usage_limit <= 999_999)
            ):
                raise TalonValidationError("must be an integer 0..999999", field="usage_limit")
            body["usageLimit"] = usage_limit
        if attributes is not None:
            body["attributes"] = require_mapping(attributes, "attributes")
        data = self._send_for_object(
            "createReferral", "POST", "/v1/referrals", body=body, has_body=True, safe_to_retry=False
        )
        return Referral.from_json(data)
