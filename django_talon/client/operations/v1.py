"""Legacy v1 operations: events, profile and session updates with v1 effect arrays.

These are the ones Talon.One marks legacy; the v1 paths are also the only ones that can be
signed with ``Content-Signature`` (see :mod:`..signing`). Events and v1 profile updates run
the rule engine, so they are retried only with ``dry=True``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import TalonValidationError
from ..models import (
    IntegrationStateV1,
)
from ..validation import (
    check_customer_session,
    check_integration_id,
    check_session_id,
)
from .base import OperationGroup, require_mapping, segment

__all__ = ["LegacyOperations"]


class LegacyOperations(OperationGroup):
    """Legacy ``/v1/events``, ``/v1/customer_profiles`` and ``/v1/customer_sessions``."""

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
            "attributes": require_mapping(attributes, "attributes"),
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
            f"/v1/customer_profiles/{segment(integration_id)}",
            body={"attributes": require_mapping(attributes, "attributes")},
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
            f"/v1/customer_sessions/{segment(session_id)}",
            body=customer_session,
            has_body=True,
            query={"dry": "true"} if dry else {},
            safe_to_retry=True,
        )
        return IntegrationStateV1.from_json(data)
