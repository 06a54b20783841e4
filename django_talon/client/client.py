"""``TalonClient``: one method per Integration API operation.

Each method checks its input (:mod:`.validation`), builds a :class:`.transport.Call` with the
operation's own "safe to repeat" verdict, and decodes the answer into a typed object from
:mod:`.models` that keeps ``.raw``. HTTP, timeouts, retries, logging and signing live in
:mod:`.transport`.

Which operations are retried (on connection errors, 409 and 5xx) and why:

================================ ======== ================================================
operation                        retried  why
================================ ======== ================================================
update_customer_session_v2       yes      PUT of the session's state: repeating it yields the
                                          same state; 409 means "someone else is updating"
get_customer_session             yes      read
return_cart_items                only     each call records a new return, unless an
                                 dry/key  ``Idempotency-Key`` makes the server deduplicate
reopen_customer_session          no       a repeat after a lost success answers an error
update_customer_profile_v2       yes*     attribute PUT; *not when the rule engine runs for
                                          real (effects such as points could be given twice)
update_customer_profiles_v2      yes      attribute PUT, no rule engine
update_customer_profile_audiences yes     add/delete membership is a set operation
create_coupon_reservation        no       counts towards the coupon's reservation counter
delete_coupon_reservation        yes      removing a removed reservation changes nothing
get_reserved_customers/coupons   yes      read
create_referral                  no       every call creates a new code
delete_customer_data             yes      deleting twice deletes once (a retry may see 404)
get_customer_inventory           yes      read
get_customer_profiles_by_attributes yes   read (POST only to carry the query)
track_event                      dry only every call is a new event
update_customer_profile_v1       dry only v1 profile updates run the rule engine
update_customer_session_v1       yes      PUT of the session's state, as v2
================================ ======== ================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

import requests

from .errors import TalonDecodeError, TalonValidationError
from .models import (
    Coupon,
    CustomerInventory,
    CustomerProfile,
    CustomerSessionState,
    IntegrationStateV1,
    IntegrationStateV2,
    MultipleProfilesResult,
    Page,
    Referral,
    ReopenSessionResult,
)
from .payloads import (
    CustomerProfileAudienceRequestItem,
    MultipleCustomerProfileIntegrationRequestItem,
    NewCustomerSessionV2,
    ProfileAudiencesChanges,
    ReturnedCartItem,
)
from .retry import RetryPolicy
from .transport import Call, Reply, Timeout, Transport
from .validation import (
    MAX_BATCH,
    batched,
    check_batch,
    check_code,
    check_customer_session,
    check_integration_id,
    check_sequence_of_mappings,
    check_session_id,
    encode_json,
    to_jsonable,
)

__all__ = ["DEFAULT_TIMEOUT", "TalonClient"]

#: (connect, read) seconds. Connect slightly above a TCP retransmit window (3 s); read long
#: enough for a session evaluation with many campaigns, short enough for a checkout page.
DEFAULT_TIMEOUT: tuple[float, float] = (3.05, 10.0)

_MAX_IDEMPOTENCY_KEY = 255


def _seg(value: str) -> str:
    """URL-encode one path segment completely (``/``, ``%``, ``?``, ``#`` and spaces too)."""
    return quote(value, safe="")


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _response_content(value: Sequence[str] | None, field: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise TalonValidationError("must be a list of strings", field=field)
    return list(value)


def _require_mapping(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TalonValidationError(f"must be a dict, got {type(value).__name__}", field=field)
    return value


class TalonClient:
    """Client for Talon.One's Integration API (v1 and v2).

    Thread safety: one client may be shared by many threads. It holds no per-call state;
    the ``requests.Session`` it owns is only used to send requests (headers are passed per
    call, cookies are not used by the API) and its connection pool is thread-safe.
    ``with_options`` copies share the session, so they share the pool too.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        application_id: int | None = None,
        application_key: str | None = None,
        sign_v1: bool = False,
        session: requests.Session | None = None,
    ) -> None:
        self._transport = Transport(
            base_url,
            api_key,
            timeout=timeout,
            retry=retry if retry is not None else RetryPolicy(),
            session=session,
            application_id=application_id,
            application_key=application_key,
            sign_v1=sign_v1,
        )

    # --- plumbing --------------------------------------------------------------------------

    @classmethod
    def _from_transport(cls, transport: Transport) -> TalonClient:
        client = cls.__new__(cls)
        client._transport = transport
        return client

    def with_options(
        self, *, timeout: Timeout | None = None, retry: RetryPolicy | None = None
    ) -> TalonClient:
        """A copy with another timeout and/or retry policy, sharing the HTTP session."""
        return self._from_transport(self._transport.copy(timeout=timeout, retry=retry))

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    @property
    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` seconds."""
        return self._transport.timeout

    @property
    def retry(self) -> RetryPolicy:
        return self._transport.retry

    @property
    def session(self) -> requests.Session:
        """The pooled HTTP session (shared with ``with_options`` copies)."""
        return self._transport.session

    def close(self) -> None:
        """Close the pooled connections (also closes them for ``with_options`` copies)."""
        self._transport.session.close()

    def __enter__(self) -> TalonClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TalonClient(base_url={self.base_url!r}, api_key='***')"

    def _send(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        has_body: bool = False,
        query: Mapping[str, str] | None = None,
        safe_to_retry: bool,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        return self._transport.send(
            Call(
                operation=operation,
                method=method,
                path=path,
                query=dict(query or {}),
                body=encode_json(body) if has_body else None,
                safe_to_retry=safe_to_retry,
                signable=path.startswith("/v1/"),
                headers=dict(headers or {}),
            )
        )

    def _send_for_object(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        has_body: bool = False,
        query: Mapping[str, str] | None = None,
        safe_to_retry: bool,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """:meth:`_send`, then the reply body as a JSON object (named after ``operation``)."""
        reply = self._send(
            operation,
            method,
            path,
            body=body,
            has_body=has_body,
            query=query,
            safe_to_retry=safe_to_retry,
            headers=headers,
        )
        return self._json_object(reply, operation)

    @staticmethod
    def _json_object(reply: Reply, call: str) -> dict[str, Any]:
        if not isinstance(reply.body, dict):
            raise TalonDecodeError(
                f"{call} ({reply.method} {reply.path} -> {reply.status}): expected a JSON "
                f"object, got {type(reply.body).__name__}",
                method=reply.method,
                path=reply.path,
                status=reply.status,
            )
        return reply.body

    # --- v2 customer sessions ------------------------------------------------------------

    def update_customer_session_v2(
        self,
        session_id: str,
        customer_session: NewCustomerSessionV2 | Mapping[str, Any],
        *,
        dry: bool = False,
        now: datetime | str | None = None,
        response_content: Sequence[str] | None = None,
    ) -> IntegrationStateV2:
        """Create or update a session and evaluate the rules (PUT /v2/customer_sessions/{id}).

        Non-dry updates accumulate: omit ``couponCodes`` / ``referralCode`` to keep the stored
        ones; ``[]`` / ``""`` clears them. ``now`` (dry only) evaluates at a future time.
        """
        check_session_id(session_id, "session_id")
        check_customer_session(customer_session, "customer_session")
        query = {"dry": "true"} if dry else {}
        if now is not None:
            if not dry:
                raise TalonValidationError("is only allowed with dry=True", field="now")
            query["now"] = now if isinstance(now, str) else str(to_jsonable(now, "now"))
        body: dict[str, Any] = {"customerSession": customer_session}
        content = _response_content(response_content, "response_content")
        if content is not None:
            body["responseContent"] = content
        data = self._send_for_object(
            "updateCustomerSessionV2",
            "PUT",
            f"/v2/customer_sessions/{_seg(session_id)}",
            body=body,
            has_body=True,
            query=query,
            safe_to_retry=True,
        )
        return IntegrationStateV2.from_json(data)

    def get_customer_session(self, session_id: str) -> CustomerSessionState:
        """Read a session and its currently valid effects (GET /v2/customer_sessions/{id})."""
        check_session_id(session_id, "session_id")
        data = self._send_for_object(
            "getCustomerSession",
            "GET",
            f"/v2/customer_sessions/{_seg(session_id)}",
            safe_to_retry=True,
        )
        return CustomerSessionState.from_json(data)

    def return_cart_items(
        self,
        session_id: str,
        returned_items: Sequence[ReturnedCartItem | Mapping[str, Any]],
        *,
        dry: bool = False,
        idempotency_key: str | None = None,
    ) -> IntegrationStateV2:
        """Return items of a closed session (POST /v2/customer_sessions/{id}/returns).

        ``returned_items``: ``[{"position": 0, "quantity": 1}, ...]`` (``sku`` optional).
        With an ``idempotency_key`` (≤255 chars, e.g. a UUID) the call is retried safely.
        """
        check_session_id(session_id, "session_id")
        items = check_batch(returned_items, "returned_items")
        if not items:
            raise TalonValidationError("must not be empty", field="returned_items")
        check_sequence_of_mappings(items, "returned_items")
        for index, item in enumerate(items):
            quantity = item.get("quantity")
            if quantity is not None and (
                isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1
            ):
                raise TalonValidationError(
                    "must be an integer >= 1", field=f"returned_items[{index}].quantity"
                )
        headers: dict[str, str] = {}
        if idempotency_key is not None:
            if not idempotency_key or len(idempotency_key) > _MAX_IDEMPOTENCY_KEY:
                raise TalonValidationError("must be 1..255 characters", field="idempotency_key")
            headers["Idempotency-Key"] = idempotency_key
        data = self._send_for_object(
            "returnCartItems",
            "POST",
            f"/v2/customer_sessions/{_seg(session_id)}/returns",
            body={"return": {"returnedCartItems": items}},
            has_body=True,
            query={"dry": "true"} if dry else {},
            safe_to_retry=dry or idempotency_key is not None,
            headers=headers,
        )
        return IntegrationStateV2.from_json(data)

    def reopen_customer_session(self, session_id: str) -> ReopenSessionResult:
        """Reopen a closed session (PUT /v2/customer_sessions/{id}/reopen)."""
        check_session_id(session_id, "session_id")
        data = self._send_for_object(
            "reopenCustomerSession",
            "PUT",
            f"/v2/customer_sessions/{_seg(session_id)}/reopen",
            safe_to_retry=False,
        )
        return ReopenSessionResult.from_json(data)

    # --- v2 customer profiles and audiences --------------------------------------------------

    def update_customer_profile_v2(
        self,
        integration_id: str,
        attributes: Mapping[str, Any] | None = None,
        *,
        audiences_changes: ProfileAudiencesChanges | Mapping[str, Sequence[int]] | None = None,
        run_rule_engine: bool = False,
        dry: bool = False,
        response_content: Sequence[str] | None = None,
    ) -> IntegrationStateV2:
        """Create or update a profile (PUT /v2/customer_profiles/{integrationId}).

        ``audiences_changes``: ``{"adds": [audienceId, ...], "deletes": [...]}``.
        ``response_content`` needs ``run_rule_engine=True`` (an API rule).
        """
        check_integration_id(integration_id, "integration_id")
        body: dict[str, Any] = {}
        if attributes is not None:
            body["attributes"] = _require_mapping(attributes, "attributes")
        if audiences_changes is not None:
            changes = _require_mapping(audiences_changes, "audiences_changes")
            body["audiencesChanges"] = {
                "adds": list(changes.get("adds") or []),
                "deletes": list(changes.get("deletes") or []),
            }
        content = _response_content(response_content, "response_content")
        if content is not None:
            if not run_rule_engine:
                raise TalonValidationError("needs run_rule_engine=True", field="response_content")
            body["responseContent"] = content
        query: dict[str, str] = {}
        if run_rule_engine:
            query["runRuleEngine"] = "true"
        if dry:
            query["dry"] = "true"
        data = self._send_for_object(
            "updateCustomerProfileV2",
            "PUT",
            f"/v2/customer_profiles/{_seg(integration_id)}",
            body=body,
            has_body=True,
            query=query,
            safe_to_retry=dry or not run_rule_engine,
        )
        return IntegrationStateV2.from_json(data)

    def update_customer_profiles_v2(
        self,
        profiles: Sequence[MultipleCustomerProfileIntegrationRequestItem | Mapping[str, Any]],
        *,
        silent: bool = True,
    ) -> MultipleProfilesResult:
        """Update up to 1000 profiles' attributes (PUT /v2/customer_profiles).

        Each profile: ``{"integrationId": "...", "attributes": {...}}``. With ``silent``
        (the default) the API answers 204 and the result is empty. For more than 1000
        profiles use :meth:`update_customer_profiles_v2_batched`.
        """
        items = check_batch(profiles, "profiles")
        check_sequence_of_mappings(items, "profiles")
        for index, profile in enumerate(items):
            check_integration_id(profile.get("integrationId"), f"profiles[{index}].integrationId")
        reply = self._send(
            "updateCustomerProfilesV2",
            "PUT",
            "/v2/customer_profiles",
            body={"customerProfiles": items},
            has_body=True,
            query={"silent": "yes" if silent else "no"},
            safe_to_retry=True,
        )
        if reply.body is None:
            return MultipleProfilesResult(integration_states=[], raw={})
        return MultipleProfilesResult.from_json(
            self._json_object(reply, "updateCustomerProfilesV2")
        )

    def update_customer_profiles_v2_batched(
        self,
        profiles: Iterable[Mapping[str, Any]],
        *,
        silent: bool = True,
        batch_size: int = MAX_BATCH,
    ) -> list[MultipleProfilesResult]:
        """Update any number of profiles, ``batch_size`` (≤1000) per request, in order."""
        if not 1 <= batch_size <= MAX_BATCH:
            raise TalonValidationError(f"must be 1..{MAX_BATCH}", field="batch_size")
        return [
            self.update_customer_profiles_v2(chunk, silent=silent)
            for chunk in batched(profiles, batch_size)
        ]

    def update_customer_profile_audiences(
        self, actions: Sequence[CustomerProfileAudienceRequestItem | Mapping[str, Any]]
    ) -> None:
        """Add profiles to / remove them from audiences (POST /v2/customer_audiences).

        Each action: ``{"action": "add"|"delete", "profileIntegrationId": "...",
        "audienceId": 7}``; at most 1000 (split longer lists with ``batched``).
        """
        items = check_batch(actions, "actions")
        check_sequence_of_mappings(items, "actions")
        for index, action in enumerate(items):
            if action.get("action") not in ("add", "delete"):
                raise TalonValidationError(
                    "must be 'add' or 'delete'", field=f"actions[{index}].action"
                )
            check_integration_id(
                action.get("profileIntegrationId"), f"actions[{index}].profileIntegrationId"
            )
            audience_id = action.get("audienceId")
            if isinstance(audience_id, bool) or not isinstance(audience_id, int):
                raise TalonValidationError(
                    "must be an integer", field=f"actions[{index}].audienceId"
                )
        self._send(
            "updateCustomerProfileAudiences",
            "POST",
            "/v2/customer_audiences",
            body={"data": items},
            has_body=True,
            safe_to_retry=True,
        )

    # --- coupon reservations -----------------------------------------------------------------

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
            f"/v1/coupon_reservations/{_seg(coupon_value)}",
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
            f"/v1/coupon_reservations/{_seg(coupon_value)}",
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
            f"/v1/coupon_reservations/customerprofiles/{_seg(coupon_value)}",
            safe_to_retry=True,
        )
        return Page.of_profiles(data)

    def get_reserved_coupons(self, integration_id: str) -> Page[Coupon]:
        """Coupons reserved for a profile (GET /v1/coupon_reservations/coupons/{id}, legacy)."""
        check_integration_id(integration_id, "integration_id")
        data = self._send_for_object(
            "getReservedCoupons",
            "GET",
            f"/v1/coupon_reservations/coupons/{_seg(integration_id)}",
            safe_to_retry=True,
        )
        return Page.of_coupons(data)

    # --- referrals, customer data, inventory, search ---------------------------------------

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
            body["attributes"] = _require_mapping(attributes, "attributes")
        data = self._send_for_object(
            "createReferral", "POST", "/v1/referrals", body=body, has_body=True, safe_to_retry=False
        )
        return Referral.from_json(data)

    def delete_customer_data(self, integration_id: str) -> None:
        """Erase a profile's data in all Applications (DELETE /v1/customer_data/{id})."""
        check_integration_id(integration_id, "integration_id")
        self._send(
            "deleteCustomerData",
            "DELETE",
            f"/v1/customer_data/{_seg(integration_id)}",
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
            f"/v1/customer_profiles/{_seg(integration_id)}/inventory",
            query={name: "true" for name, on in flags.items() if on},
            safe_to_retry=True,
        )
        return CustomerInventory.from_json(data)

    def get_customer_profiles_by_attributes(
        self, attributes: Mapping[str, Any]
    ) -> Page[CustomerProfile]:
        """Profiles whose attributes equal all given ones (POST /v1/customer_profiles_search)."""
        body = {"attributes": _require_mapping(attributes, "attributes")}
        data = self._send_for_object(
            "getCustomerProfilesByAttributes",
            "POST",
            "/v1/customer_profiles_search",
            body=body,
            has_body=True,
            safe_to_retry=True,
        )
        return Page.of_profiles(data)

    # --- v1 (legacy) ----------------------------------------------------------------------

    def track_event(
        self,
        event_type: str,
        attributes: Mapping[str, Any],
        session_id: str,
        profile_id: str = "",
        *,
        dry: bool = False,
    ) -> IntegrationStateV1:
        """Track a custom event (POST /v1/events, legacy). ``profile_id=""`` = anonymous."""
        if not isinstance(event_type, str) or not event_type:
            raise TalonValidationError("must be a non-empty string", field="event_type")
        check_session_id(session_id, "session_id")
        if not isinstance(profile_id, str):
            raise TalonValidationError("must be a string", field="profile_id")
        body = {
            "type": event_type,
            "attributes": _require_mapping(attributes, "attributes"),
            "sessionId": session_id,
            "profileId": profile_id,
        }
        data = self._send_for_object(
            "trackEvent",
            "POST",
            "/v1/events",
            body=body,
            has_body=True,
            query={"dry": "true"} if dry else {},
            safe_to_retry=dry,
        )
        return IntegrationStateV1.from_json(data)

    def update_customer_profile_v1(
        self, integration_id: str, attributes: Mapping[str, Any], *, dry: bool = False
    ) -> IntegrationStateV1:
        """Update a profile (PUT /v1/customer_profiles/{id}, legacy, runs profile rules)."""
        check_integration_id(integration_id, "integration_id")
        data = self._send_for_object(
            "updateCustomerProfile",
            "PUT",
            f"/v1/customer_profiles/{_seg(integration_id)}",
            body={"attributes": _require_mapping(attributes, "attributes")},
            has_body=True,
            query={"dry": "true"} if dry else {},
            safe_to_retry=dry,
        )
        return IntegrationStateV1.from_json(data)

    def update_customer_session_v1(
        self, session_id: str, customer_session: Mapping[str, Any], *, dry: bool = False
    ) -> IntegrationStateV1:
        """Update a session (PUT /v1/customer_sessions/{id}, legacy: one ``coupon`` string)."""
        check_session_id(session_id, "session_id")
        check_customer_session(customer_session, "customer_session", v1=True)
        data = self._send_for_object(
            "updateCustomerSession",
            "PUT",
            f"/v1/customer_sessions/{_seg(session_id)}",
            body=customer_session,
            has_body=True,
            query={"dry": "true"} if dry else {},
            safe_to_retry=True,
        )
        return IntegrationStateV1.from_json(data)
