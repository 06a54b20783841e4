"""Customer session operations (v2): update and evaluate, read, return items, reopen.

The session update is the call a shop makes on every cart change, so it is retried (a PUT of
the whole state); returns are only retried when an ``Idempotency-Key`` lets the server
deduplicate, and a reopen never is (see the table in :mod:`django_talon.client.client`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..errors import TalonValidationError
from ..models import (
    CustomerSessionState,
    IntegrationStateV2,
    ReopenSessionResult,
)
from ..payloads import (
    NewCustomerSessionV2,
    ReturnedCartItem,
)
from ..validation import (
    check_batch,
    check_customer_session,
    check_sequence_of_mappings,
    check_session_id,
    to_jsonable,
)
from .base import OperationGroup, campaign_id_list, response_content_list, segment

__all__ = ["SessionOperations"]

#: Talon.One accepts an ``Idempotency-Key`` of at most this many characters.
MAX_IDEMPOTENCY_KEY = 255


class SessionOperations(OperationGroup):
    """Operations on ``/v2/customer_sessions``."""

    def update_customer_session_v2(
        self,
        session_id: str,
        customer_session: NewCustomerSessionV2 | Mapping[str, Any],
        *,
        dry: bool = False,
        now: datetime | str | None = None,
        response_content: Sequence[str] | None = None,
        evaluable_campaign_ids: Sequence[int] | None = None,
    ) -> IntegrationStateV2:
        """Create or update a session and evaluate the rules (PUT /v2/customer_sessions/{id}).

        Non-dry updates accumulate: omit ``couponCodes`` / ``referralCode`` to keep the stored
        ones; ``[]`` / ``""`` clears them. ``now`` (dry only) evaluates at a future time.
        ``evaluable_campaign_ids`` (dry only) evaluates just these campaigns (it becomes the
        session's ``evaluableCampaignIds``).
        """
        check_session_id(session_id, "session_id")
        check_customer_session(customer_session, "customer_session")
        if evaluable_campaign_ids is not None:
            if not dry:
                raise TalonValidationError(
                    "is only allowed with dry=True", field="evaluable_campaign_ids"
                )
            customer_session = {
                **customer_session,
                "evaluableCampaignIds": campaign_id_list(
                    evaluable_campaign_ids, "evaluable_campaign_ids"
                ),
            }
        query = {"dry": "true"} if dry else {}
        if now is not None:
            if not dry:
                raise TalonValidationError("is only allowed with dry=True", field="now")
            query["now"] = now if isinstance(now, str) else str(to_jsonable(now, "now"))
        body: dict[str, Any] = {"customerSession": customer_session}
        content = response_content_list(response_content, "response_content")
        if content is not None:
            body["responseContent"] = content
        data = self._send_for_object(
            "updateCustomerSessionV2",
            "PUT",
            f"/v2/customer_sessions/{segment(session_id)}",
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
            f"/v2/customer_sessions/{segment(session_id)}",
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
        run_rule_engine: bool = False,
        response_content: Sequence[str] | None = None,
    ) -> IntegrationStateV2:
        """Return items of a closed session (POST /v2/customer_sessions/{id}/returns).

        ``returned_items``: ``[{"position": 0, "quantity": 1}, ...]`` (``sku`` optional).
        With an ``idempotency_key`` (≤255 chars, e.g. a UUID) the call is retried safely.
        ``run_rule_engine`` re-evaluates the campaigns marked "reevaluate on return" that
        fired at close; ``response_content``: e.g. ``["customerSession", "previousReturns"]``.
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
            if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
                raise TalonValidationError("must be 1..255 characters", field="idempotency_key")
            headers["Idempotency-Key"] = idempotency_key
        body: dict[str, Any] = {"return": {"returnedCartItems": items}}
        content = response_content_list(response_content, "response_content")
        if content is not None:
            body["responseContent"] = content
        query = {"dry": "true"} if dry else {}
        if run_rule_engine:
            query["runRuleEngine"] = "true"
        data = self._send_for_object(
            "returnCartItems",
            "POST",
            f"/v2/customer_sessions/{segment(session_id)}/returns",
            body=body,
            has_body=True,
            query=query,
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
            f"/v2/customer_sessions/{segment(session_id)}/reopen",
            safe_to_retry=False,
        )
        return ReopenSessionResult.from_json(data)
