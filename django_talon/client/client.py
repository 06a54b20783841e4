"""``TalonClient``: one method per Integration API operation, one way to send them.

This module is the client's core: construction, ``with_options``, closing, and ``_send``,
the single place that turns an operation into a :class:`.transport.Call`. The operations
themselves are grouped by API area in :mod:`.operations` (sessions, profiles, codes,
customers, v1), mixed into :class:`TalonClient` here. Each checks its input
(:mod:`.validation`), chooses the operation's own "safe to repeat" verdict, and decodes the
answer into a typed object from :mod:`.models` that keeps ``.raw``. HTTP, timeouts, retries,
logging, redaction and signing live in :mod:`.transport`.

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
create_audience_v2               no       a repeat makes a second audience (or a 409)
update_audience_v2               yes      PUT of the name
delete_audience_v2               yes      deleting twice deletes once (a retry may see 404)
delete_audience_memberships_v2   yes      emptying an empty audience changes nothing
update_audience_customers_attr.  yes      attribute PUT on every member
sync_catalog                     only     yes when every action is ADD+replaceIfExists,
                                 repeat-  PATCH, PATCH_MANY or REMOVE_MANY; a plain ADD or
                                 able     a REMOVE answers an error the second time
best_prior_price                 yes      read (POST only to carry the query)
track_event_v2                   dry only every call is a new event
track_event_v3                   dry only the event id is registered once: a repeat after a
                                          lost success is refused as a duplicate
get_event_v3                     yes      read
integration_get_all_campaigns    yes      read
create_referrals_for_multiple... no       every call makes new codes for every advocate
get_loyalty_balances             yes      read
get_loyalty_card_balances        yes      read
get_loyalty_card_points          yes      read
get_loyalty_card_transactions    yes      read
get_loyalty_program_profile_...  yes      reads (``_points``, ``_transactions``)
join_loyalty_program             yes      a member joining again stays a member
generate_loyalty_card            no       a repeat makes a second card (or, with a given
                                          identifier, is refused as a duplicate)
link/unlink_loyalty_card_...     yes      a set operation on the card's customers
activate_loyalty_points          yes      activating active points changes nothing
delete_loyalty_transactions_...  yes      deleting twice deletes once
get_customer_achievements        yes      read
get_customer_achievement_history yes      read
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

from collections.abc import Mapping
from typing import Any

import requests

from .bodies import DEFAULT_MAX_BODY_BYTES
from .operations import (
    AchievementOperations,
    AudienceOperations,
    CampaignOperations,
    CatalogOperations,
    CodeOperations,
    CustomerDataOperations,
    EventOperations,
    LegacyOperations,
    LoyaltyOperations,
    ProfileOperations,
    ReferralOperations,
    SessionOperations,
)
from .retry import RetryPolicy
from .transport import Call, Reply, Timeout, Transport
from .validation import encode_json

__all__ = ["DEFAULT_TIMEOUT", "TalonClient"]

#: (connect, read) seconds. Connect slightly above a TCP retransmit window (3 s); read long
#: enough for a session evaluation with many campaigns, short enough for a checkout page.
DEFAULT_TIMEOUT: tuple[float, float] = (3.05, 10.0)


class TalonClient(
    SessionOperations,
    ProfileOperations,
    CodeOperations,
    CustomerDataOperations,
    AudienceOperations,
    CatalogOperations,
    EventOperations,
    CampaignOperations,
    ReferralOperations,
    LoyaltyOperations,
    AchievementOperations,
    LegacyOperations,
):
    """Client for Talon.One's Integration API (v1 and v2).

    Thread safety: one client may be shared by many threads. It holds no per-call state;
    the ``requests.Session`` it owns is only used to send requests (headers are passed per
    call, cookies are not used by the API) and its connection pool is thread-safe.
    ``with_options`` copies share the session, so they share the pool too.

    The proxy/CA environment (``HTTPS_PROXY``, ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``, ...) is
    read once, here, for a session the client creates itself, not on every call as
    ``requests`` does; a new client or ``with_options(refresh_environment=True)`` reads it
    again. A ``session`` you pass is used as it is.
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
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        """``max_body_bytes`` bounds an answer's body once decompressed (32 MiB by
        default, far above any real answer): a larger one is not read and is an error
        (``TalonDecodeError`` for a 2xx), so a broken proxy or a gzip bomb cannot fill the
        memory. See docs/client.md for the other arguments."""
        self._transport = Transport(
            base_url,
            api_key,
            timeout=timeout,
            retry=retry if retry is not None else RetryPolicy(),
            session=session,
            application_id=application_id,
            application_key=application_key,
            sign_v1=sign_v1,
            max_body_bytes=max_body_bytes,
        )

    # --- plumbing --------------------------------------------------------------------------

    @classmethod
    def _from_transport(cls, transport: Transport) -> TalonClient:
        client = cls.__new__(cls)
        client._transport = transport
        return client

    def with_options(
        self,
        *,
        timeout: Timeout | None = None,
        retry: RetryPolicy | None = None,
        refresh_environment: bool = False,
    ) -> TalonClient:
        """A copy with another timeout and/or retry policy, sharing the HTTP session.

        The client reads the proxy and CA bundle environment once, when it is created
        (see :mod:`.transport`); ``refresh_environment=True`` reads it again for the copy.
        """
        return self._from_transport(
            self._transport.copy(
                timeout=timeout, retry=retry, refresh_environment=refresh_environment
            )
        )

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
        """The one path from an operation to the transport (``body`` JSON-encoded if given)."""
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
