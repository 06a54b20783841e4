"""Customer data operations: erasure, inventory, search by attributes (v1 endpoints).

All three are safe to repeat: erasing twice erases once (a retry may see 404), the other two
are reads (the search is a POST only to carry its query).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..models import (
    CustomerInventory,
    CustomerProfile,
    Page,
)
from ..validation import (
    check_integration_id,
)
from .base import OperationGroup, require_mapping, segment

__all__ = ["CustomerDataOperations"]


class CustomerDataOperations(OperationGroup):
    """Operations on ``/v1/customer_data`` and ``/v1/customer_profiles``."""

    def delete_customer_data(self, integration_id: str) -> None:
        """Erase a profile's data in all Applications (DELETE /v1/customer_data/{id})."""
        check_integration_id(integration_id, "integration_id")
        self._send(
            "deleteCustomerData",
            "DELETE",
            f"/v1/customer_data/{segment(integration_id)}",
            safe_to_retry=True,
        )

    def get_customer_inventory(
        self,
        integration_id: str,
        *,
        profile: bool = False,
        referrals: bool = False,
        coupons: bool = False,
        loyalty: bool = False,
        giveaways: bool = False,
        achievements: bool = False,
    ) -> CustomerInventory:
        """A profile's coupons, referrals, loyalty... (GET /v1/customer_profiles/{id}/inventory).

        Only the parts whose flag is true are requested (and returned).
        """
        check_integration_id(integration_id, "integration_id")
        flags = {
            "profile": profile,
            "referrals": referrals,
            "coupons": coupons,
            "loyalty": loyalty,
            "giveaways": giveaways,
            "achievements": achievements,
        }
        data = self._send_for_object(
            "getCustomerInventory",
            "GET",
            f"/v1/customer_profiles/{segment(integration_id)}/inventory",
            query={name: "true" for name, on in flags.items() if on},
            safe_to_retry=True,
        )
        return CustomerInventory.from_json(data)

    def get_customer_profiles_by_attributes(
        self, attributes: Mapping[str, Any]
    ) -> Page[CustomerProfile]:
        """Profiles whose attributes equal all given ones (POST /v1/customer_profiles_search)."""
        body = {"attributes": require_mapping(attributes, "attributes")}
        data = self._send_for_object(
            "getCustomerProfilesByAttributes",
            "POST",
            "/v1/customer_profiles_search",
            body=body,
            has_body=True,
            safe_to_retry=True,
        )
        return Page.of_profiles(data)
