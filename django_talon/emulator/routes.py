"""The Integration API's routes: which method and path call which store operation.

One :class:`Route` per operation of the official OpenAPI documents that the emulator serves;
``lock`` marks the operations Talon.One refuses with 409 while another call for the same
session or profile is still in flight.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django_talon.emulator.errors import bad_request
from django_talon.emulator.store import Store
from django_talon.emulator.util import load_json

Handler = Callable[["Request"], tuple[int, Any]]


@dataclass(slots=True)
class Request:
    """One Integration API call as the handlers see it (the body is decoded on first use)."""

    method: str
    path: str
    params: list[str]
    query: dict[str, str]
    headers: dict[str, str]
    raw_body: bytes
    _json: Any = None
    _parsed: bool = False
    #: every value of each query parameter (``query`` keeps one): the spec's array filters
    #: repeat the key (``subledgerId=a&subledgerId=b``)
    lists: dict[str, list[str]] = field(default_factory=dict)

    def json(self, *, required: bool = True) -> Any:
        """The decoded JSON body (400 if it is not JSON or missing when required)."""
        if not self._parsed:
            self._parsed = True
            if not self.raw_body.strip():
                if required:
                    raise bad_request("the request body must be a JSON object", pointer="/")
                self._json = None
            else:
                try:
                    self._json = load_json(self.raw_body)
                except (ValueError, UnicodeDecodeError) as exc:
                    raise bad_request(
                        f"the request body is not valid JSON: {exc}", pointer="/"
                    ) from None
        return self._json


@dataclass
class Route:
    """A method and path pattern bound to the store operation that answers it."""

    method: str
    pattern: re.Pattern[str]
    operation: str
    handler: Handler
    lock: str | None = None  # "session" / "profile": 409 on parallel calls for the same id
    v1: bool = False
    ok_status: int = 200


def query_lists(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Query pairs grouped by name, every value kept (for :attr:`Request.lists`)."""
    lists: dict[str, list[str]] = {}
    for key, value in pairs:
        lists.setdefault(key, []).append(value)
    return lists


def _no_content(func: Callable[..., None], *args: Any) -> tuple[int, Any]:
    """Run an operation that answers 204 No Content."""
    func(*args)
    return 204, None


def _empty_ok(func: Callable[..., None], *args: Any) -> tuple[int, Any]:
    """Run an operation that answers 200 with no body (joinLoyaltyProgram)."""
    func(*args)
    return 200, None


def _compile(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "([^/]+)", template) + "$")


def _bulk_profiles(store: Store, request: Request) -> tuple[int, Any]:
    result = store.update_profiles_v2(request.json(), request.query)
    return (204, None) if result is None else (200, result)


def integration_routes(s: Store) -> list[Route]:
    """Every Integration API route of the emulator, bound to the store ``s``."""
    return [
        *audience_catalog_event_routes(s),
        *loyalty_routes(s),
        Route(
            "PUT",
            _compile("/v2/customer_sessions/{id}"),
            "updateCustomerSessionV2",
            lambda r: (200, s.update_session_v2(r.params[0], r.json(), r.query)),
            lock="session",
        ),
        Route(
            "GET",
            _compile("/v2/customer_sessions/{id}"),
            "getCustomerSession",
            lambda r: (200, s.get_session(r.params[0])),
        ),
        Route(
            "POST",
            _compile("/v2/customer_sessions/{id}/returns"),
            "returnCartItems",
            lambda r: (
                200,
                s.return_items(r.params[0], r.json(), r.query, r.headers.get("idempotency-key")),
            ),
            lock="session",
        ),
        Route(
            "PUT",
            _compile("/v2/customer_sessions/{id}/reopen"),
            "reopenCustomerSession",
            lambda r: (200, s.reopen_session(r.params[0])),
            lock="session",
        ),
        Route(
            "PUT",
            _compile("/v2/customer_profiles/{id}"),
            "updateCustomerProfileV2",
            lambda r: (200, s.update_profile_v2(r.params[0], r.json(), r.query)),
            lock="profile",
        ),
        Route(
            "PUT",
            _compile("/v2/customer_profiles"),
            "updateCustomerProfilesV2",
            lambda r: _bulk_profiles(s, r),
        ),
        Route(
            "POST",
            _compile("/v2/customer_audiences"),
            "updateCustomerProfileAudiences",
            lambda r: _no_content(s.update_audiences, r.json()),
        ),
        Route(
            "POST",
            _compile("/v1/coupon_reservations/{code}"),
            "createCouponReservation",
            lambda r: (201, s.create_reservation(r.params[0], r.json())),
        ),
        Route(
            "DELETE",
            _compile("/v1/coupon_reservations/{code}"),
            "deleteCouponReservation",
            lambda r: _no_content(s.delete_reservation, r.params[0], r.json()),
        ),
        Route(
            "GET",
            _compile("/v1/coupon_reservations/customerprofiles/{code}"),
            "getReservedCustomers",
            lambda r: (200, s.reserved_customers(r.params[0])),
        ),
        Route(
            "GET",
            _compile("/v1/coupon_reservations/coupons/{id}"),
            "getReservedCoupons",
            lambda r: (200, s.reserved_coupons(r.params[0])),
        ),
        Route(
            "POST",
            _compile("/v1/referrals"),
            "createReferral",
            lambda r: (201, s.create_referral(r.json())),
        ),
        Route(
            "DELETE",
            _compile("/v1/customer_data/{id}"),
            "deleteCustomerData",
            lambda r: _no_content(s.delete_customer_data, r.params[0]),
        ),
        Route(
            "GET",
            _compile("/v1/customer_profiles/{id}/inventory"),
            "getCustomerInventory",
            lambda r: (200, s.inventory(r.params[0], r.query)),
        ),
        Route(
            "POST",
            _compile("/v1/customer_profiles_search"),
            "getCustomerProfilesByAttributes",
            lambda r: (200, s.search_profiles(r.json())),
        ),
        Route(
            "POST",
            _compile("/v1/events"),
            "trackEvent",
            lambda r: (201, s.track_event_v1(r.json(), r.query)),
            v1=True,
        ),
        Route(
            "PUT",
            _compile("/v1/customer_profiles/{id}"),
            "updateCustomerProfile",
            lambda r: (200, s.update_profile_v1(r.params[0], r.json(), r.query)),
            lock="profile",
            v1=True,
        ),
        Route(
            "PUT",
            _compile("/v1/customer_sessions/{id}"),
            "updateCustomerSession",
            lambda r: (200, s.update_session_v1(r.params[0], r.json(), r.query)),
            lock="session",
            v1=True,
        ),
    ]


_PROGRAM = "/v1/loyalty_programs/{program}"


def loyalty_routes(s: Store) -> list[Route]:
    """The loyalty program, loyalty card and achievement routes."""
    return [
        Route(
            "GET",
            _compile(_PROGRAM + "/profile/{id}/balances"),
            "getLoyaltyBalances",
            lambda r: (200, s.profile_balances(r.params[0], r.params[1], r.query)),
        ),
        Route(
            "GET",
            _compile(_PROGRAM + "/profile/{id}/points"),
            "getLoyaltyProgramProfilePoints",
            lambda r: (200, s.profile_points(r.params[0], r.params[1], r.query, r.lists)),
        ),
        Route(
            "GET",
            _compile(_PROGRAM + "/profile/{id}/transactions"),
            "getLoyaltyProgramProfileTransactions",
            lambda r: (200, s.profile_transactions(r.params[0], r.params[1], r.query, r.lists)),
        ),
        Route(
            "POST",
            _compile(_PROGRAM + "/profile/{id}/join"),
            "joinLoyaltyProgram",
            lambda r: _empty_ok(s.join_program, r.params[0], r.params[1]),
        ),
        Route(
            "POST",
            _compile(_PROGRAM + "/profile/{id}/delete_transactions"),
            "deleteLoyaltyTransactionsFromLedgers",
            lambda r: _no_content(s.delete_transactions, r.params[0], r.params[1], r.json()),
        ),
        Route(
            "POST",
            _compile(_PROGRAM + "/cards"),
            "generateLoyaltyCard",
            lambda r: (200, s.generate_card(r.params[0], r.json())),
        ),
        Route(
            "GET",
            _compile(_PROGRAM + "/cards/{card}/balances"),
            "getLoyaltyCardBalances",
            lambda r: (200, s.card_balances(r.params[0], r.params[1], r.query, r.lists)),
        ),
        Route(
            "GET",
            _compile(_PROGRAM + "/cards/{card}/points"),
            "getLoyaltyCardPoints",
            lambda r: (200, s.card_points(r.params[0], r.params[1], r.query, r.lists)),
        ),
        Route(
            "GET",
            _compile(_PROGRAM + "/cards/{card}/transactions"),
            "getLoyaltyCardTransactions",
            lambda r: (200, s.card_transactions(r.params[0], r.params[1], r.query, r.lists)),
        ),
        Route(
            "POST",
            _compile("/v2/loyalty_programs/{program}/cards/{card}/link_profile"),
            "linkLoyaltyCardToProfile",
            lambda r: (200, s.link_card(r.params[0], r.params[1], r.json())),
        ),
        Route(
            "POST",
            _compile("/v2/loyalty_programs/{program}/cards/{card}/unlink_profile"),
            "unlinkLoyaltyCardFromProfile",
            lambda r: (200, s.unlink_card(r.params[0], r.params[1], r.json())),
        ),
        Route(
            "POST",
            _compile(_PROGRAM + "/activate_points"),
            "activateLoyaltyPoints",
            lambda r: (200, s.activate_points(r.params[0], r.json())),
        ),
        Route(
            "GET",
            _compile("/v1/customer_profiles/{id}/achievements"),
            "getCustomerAchievements",
            lambda r: (200, s.customer_achievements(r.params[0], r.query, r.lists)),
        ),
        Route(
            "GET",
            _compile("/v1/customer_profiles/{id}/achievements/{achievement}"),
            "getCustomerAchievementHistory",
            lambda r: (
                200,
                s.achievement_history(r.params[0], r.params[1], r.query, r.lists),
            ),
        ),
    ]


def audience_catalog_event_routes(s: Store) -> list[Route]:
    """Audiences, catalogs and best prior price, events v2/v3, the campaign list and
    referrals for many advocates (issue 15)."""
    return [
        Route(
            "POST",
            _compile("/v2/audiences"),
            "createAudienceV2",
            lambda r: (201, s.create_audience(r.json())),
        ),
        Route(
            "PUT",
            _compile("/v2/audiences/{id}"),
            "updateAudienceV2",
            lambda r: (200, s.update_audience(r.params[0], r.json())),
        ),
        Route(
            "DELETE",
            _compile("/v2/audiences/{id}"),
            "deleteAudienceV2",
            lambda r: _no_content(s.delete_audience, r.params[0]),
        ),
        Route(
            "DELETE",
            _compile("/v2/audiences/{id}/memberships"),
            "deleteAudienceMembershipsV2",
            lambda r: _no_content(s.delete_audience_memberships, r.params[0]),
        ),
        Route(
            "PUT",
            _compile("/v2/audience_customers/{id}/attributes"),
            "updateAudienceCustomersAttributes",
            lambda r: _no_content(s.update_audience_customers_attributes, r.params[0], r.json()),
        ),
        Route(
            "PUT",
            _compile("/v1/catalogs/{id}/sync"),
            "syncCatalog",
            lambda r: (200, s.sync_catalog(r.params[0], r.json())),
        ),
        Route(
            "POST",
            _compile("/v1/best_prior_price"),
            "bestPriorPrice",
            lambda r: (200, s.best_prior_price(r.json())),
        ),
        Route(
            "POST",
            _compile("/v2/events"),
            "trackEventV2",
            lambda r: s.track_event_v2(r.json(), r.query),
        ),
        Route(
            "POST",
            _compile("/v3/events"),
            "trackEventV3",
            lambda r: (200, s.track_event_v3(r.json(), r.query)),
        ),
        Route(
            "GET",
            _compile("/v3/events/{id}"),
            "getEventV3",
            lambda r: (200, s.get_event_v3(r.params[0])),
        ),
        Route(
            "GET",
            _compile("/v1/integration/campaigns"),
            "integrationGetAllCampaigns",
            lambda r: (200, s.integration_campaigns(r.query)),
        ),
        Route(
            "POST",
            _compile("/v1/referrals_for_multiple_advocates"),
            "createReferralsForMultipleAdvocates",
            lambda r: _created_or_silent(s.create_referrals_for_advocates(r.json(), r.query)),
        ),
    ]


def _created_or_silent(result: Any) -> tuple[int, Any]:
    """201 with the body, or 204 when the call was silent (``None``)."""
    return (204, None) if result is None else (201, result)
