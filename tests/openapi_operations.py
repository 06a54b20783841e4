"""Which official document and which method/path each Integration API operation has.

Shared test support (owner: CLIENT), re-exported by :mod:`tests.openapi_contract`: the spec
file follows issue 2: v2 and current v1 operations -> ``openapi.yaml``; v1 session/profile/
events -> ``openapi-talon_go-v2.4.0.yaml``; getReservedCoupons ->
``openapi-talon_go-v2.0.0.yaml``; getCustomerProfilesByAttributes -> the hand-written schema
of spec/README.md.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["HANDWRITTEN", "NEW", "OPERATIONS", "V2_0", "V2_4", "Operation"]

NEW = "openapi.yaml"
V2_4 = "openapi-talon_go-v2.4.0.yaml"
V2_0 = "openapi-talon_go-v2.0.0.yaml"
#: Not in any OpenAPI document: the schema written down in spec/README.md.
HANDWRITTEN = "README.md"


class Operation(NamedTuple):
    spec: str
    method: str
    path: str


OPERATIONS: dict[str, Operation] = {
    # v2 and the current v1 operations: the 2026 document.
    "updateCustomerSessionV2": Operation(NEW, "PUT", "/v2/customer_sessions/{customerSessionId}"),
    "getCustomerSession": Operation(NEW, "GET", "/v2/customer_sessions/{customerSessionId}"),
    "returnCartItems": Operation(NEW, "POST", "/v2/customer_sessions/{customerSessionId}/returns"),
    "reopenCustomerSession": Operation(
        NEW, "PUT", "/v2/customer_sessions/{customerSessionId}/reopen"
    ),
    "updateCustomerProfileV2": Operation(NEW, "PUT", "/v2/customer_profiles/{integrationId}"),
    "updateCustomerProfilesV2": Operation(NEW, "PUT", "/v2/customer_profiles"),
    "updateCustomerProfileAudiences": Operation(NEW, "POST", "/v2/customer_audiences"),
    "createCouponReservation": Operation(NEW, "POST", "/v1/coupon_reservations/{couponValue}"),
    "deleteCouponReservation": Operation(NEW, "DELETE", "/v1/coupon_reservations/{couponValue}"),
    "getReservedCustomers": Operation(
        NEW, "GET", "/v1/coupon_reservations/customerprofiles/{couponValue}"
    ),
    "createReferral": Operation(NEW, "POST", "/v1/referrals"),
    "deleteCustomerData": Operation(NEW, "DELETE", "/v1/customer_data/{integrationId}"),
    "getCustomerInventory": Operation(
        NEW, "GET", "/v1/customer_profiles/{integrationId}/inventory"
    ),
    # Audiences, catalogs, events, the campaign list, multi-advocate referrals (issue 15).
    "createAudienceV2": Operation(NEW, "POST", "/v2/audiences"),
    "updateAudienceV2": Operation(NEW, "PUT", "/v2/audiences/{audienceId}"),
    "deleteAudienceV2": Operation(NEW, "DELETE", "/v2/audiences/{audienceId}"),
    "deleteAudienceMembershipsV2": Operation(
        NEW, "DELETE", "/v2/audiences/{audienceId}/memberships"
    ),
    "updateAudienceCustomersAttributes": Operation(
        NEW, "PUT", "/v2/audience_customers/{audienceId}/attributes"
    ),
    "integrationGetAllCampaigns": Operation(NEW, "GET", "/v1/integration/campaigns"),
    "trackEventV2": Operation(NEW, "POST", "/v2/events"),
    "trackEventV3": Operation(NEW, "POST", "/v3/events"),
    "getEventV3": Operation(NEW, "GET", "/v3/events/{integrationId}"),
    "createReferralsForMultipleAdvocates": Operation(
        NEW, "POST", "/v1/referrals_for_multiple_advocates"
    ),
    "bestPriorPrice": Operation(NEW, "POST", "/v1/best_prior_price"),
    "syncCatalog": Operation(NEW, "PUT", "/v1/catalogs/{catalogId}/sync"),
    # Loyalty programs and cards, achievements (issues 14 and 15).
    "getLoyaltyBalances": Operation(
        NEW, "GET", "/v1/loyalty_programs/{loyaltyProgramId}/profile/{integrationId}/balances"
    ),
    "getLoyaltyProgramProfilePoints": Operation(
        NEW, "GET", "/v1/loyalty_programs/{loyaltyProgramId}/profile/{integrationId}/points"
    ),
    "getLoyaltyProgramProfileTransactions": Operation(
        NEW, "GET", "/v1/loyalty_programs/{loyaltyProgramId}/profile/{integrationId}/transactions"
    ),
    "joinLoyaltyProgram": Operation(
        NEW, "POST", "/v1/loyalty_programs/{loyaltyProgramId}/profile/{integrationId}/join"
    ),
    "deleteLoyaltyTransactionsFromLedgers": Operation(
        NEW,
        "POST",
        "/v1/loyalty_programs/{loyaltyProgramId}/profile/{integrationId}/delete_transactions",
    ),
    "generateLoyaltyCard": Operation(NEW, "POST", "/v1/loyalty_programs/{loyaltyProgramId}/cards"),
    "getLoyaltyCardBalances": Operation(
        NEW, "GET", "/v1/loyalty_programs/{loyaltyProgramId}/cards/{loyaltyCardId}/balances"
    ),
    "getLoyaltyCardPoints": Operation(
        NEW, "GET", "/v1/loyalty_programs/{loyaltyProgramId}/cards/{loyaltyCardId}/points"
    ),
    "getLoyaltyCardTransactions": Operation(
        NEW, "GET", "/v1/loyalty_programs/{loyaltyProgramId}/cards/{loyaltyCardId}/transactions"
    ),
    "linkLoyaltyCardToProfile": Operation(
        NEW, "POST", "/v2/loyalty_programs/{loyaltyProgramId}/cards/{loyaltyCardId}/link_profile"
    ),
    "unlinkLoyaltyCardFromProfile": Operation(
        NEW, "POST", "/v2/loyalty_programs/{loyaltyProgramId}/cards/{loyaltyCardId}/unlink_profile"
    ),
    "activateLoyaltyPoints": Operation(
        NEW, "POST", "/v1/loyalty_programs/{loyaltyProgramId}/activate_points"
    ),
    "getCustomerAchievements": Operation(
        NEW, "GET", "/v1/customer_profiles/{integrationId}/achievements"
    ),
    "getCustomerAchievementHistory": Operation(
        NEW, "GET", "/v1/customer_profiles/{integrationId}/achievements/{achievementId}"
    ),
    # Gone from current documents: the last ones that had them.
    "getReservedCoupons": Operation(V2_0, "GET", "/v1/coupon_reservations/coupons/{integrationId}"),
    "trackEvent": Operation(V2_4, "POST", "/v1/events"),
    "updateCustomerProfile": Operation(V2_4, "PUT", "/v1/customer_profiles/{integrationId}"),
    "updateCustomerSession": Operation(V2_4, "PUT", "/v1/customer_sessions/{customerSessionId}"),
    # Legacy, never in an OpenAPI document.
    "getCustomerProfilesByAttributes": Operation(
        HANDWRITTEN, "POST", "/v1/customer_profiles_search"
    ),
}
