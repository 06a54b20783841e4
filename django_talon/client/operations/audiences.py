"""Audience operations (v2): create, rename, delete an audience, empty it, set its attributes.

Memberships of single profiles are changed with ``update_customer_profile_audiences`` and
``update_customer_profile_v2(audiences_changes=...)`` (:mod:`.profiles`). Creating is the
only operation here that is not retried: a repeat after a lost success makes a second
audience (or, with an ``integration_id``, answers 409 for the first one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..answers import Audience
from ..errors import TalonValidationError
from ..validation import check_integration_id
from .base import OperationGroup, require_id, require_mapping

__all__ = ["AudienceOperations"]


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TalonValidationError("must be a non-empty string", field="name")
    return value


class AudienceOperations(OperationGroup):
    """Operations on ``/v2/audiences`` and ``/v2/audience_customers``."""

    def create_audience_v2(
        self,
        name: str,
        *,
        description: str | None = None,
        integration: str | None = None,
        integration_id: str | None = None,
    ) -> Audience:
        """Create an audience (POST /v2/audiences).

        ``integration`` / ``integration_id`` name the audience in a third-party platform
        (e.g. ``"segment"``, its id there); the API refuses a second audience with the same
        ``integration_id`` (409).
        """
        body: dict[str, Any] = {"name": _name(name)}
        if description is not None:
            if not isinstance(description, str):
                raise TalonValidationError("must be a string", field="description")
            body["description"] = description
        if integration is not None:
            if not isinstance(integration, str) or not integration:
                raise TalonValidationError("must be a non-empty string", field="integration")
            body["integration"] = integration
        if integration_id is not None:
            body["integrationId"] = check_integration_id(integration_id, "integration_id")
        data = self._send_for_object(
            "createAudienceV2",
            "POST",
            "/v2/audiences",
            body=body,
            has_body=True,
            safe_to_retry=False,
        )
        return Audience.from_json(data)

    def update_audience_v2(self, audience_id: int, name: str) -> Audience:
        """Rename an audience (PUT /v2/audiences/{audienceId})."""
        require_id(audience_id, "audience_id")
        data = self._send_for_object(
            "updateAudienceV2",
            "PUT",
            f"/v2/audiences/{audience_id}",
            body={"name": _name(name)},
            has_body=True,
            safe_to_retry=True,
        )
        return Audience.from_json(data)

    def delete_audience_v2(self, audience_id: int) -> None:
        """Delete an audience and all its memberships (DELETE /v2/audiences/{audienceId})."""
        require_id(audience_id, "audience_id")
        self._send("deleteAudienceV2", "DELETE", f"/v2/audiences/{audience_id}", safe_to_retry=True)

    def delete_audience_memberships_v2(self, audience_id: int) -> None:
        """Remove every profile from an audience, keeping the audience
        (DELETE /v2/audiences/{audienceId}/memberships)."""
        require_id(audience_id, "audience_id")
        self._send(
            "deleteAudienceMembershipsV2",
            "DELETE",
            f"/v2/audiences/{audience_id}/memberships",
            safe_to_retry=True,
        )

    def update_audience_customers_attributes(
        self, audience_id: int, attributes: Mapping[str, Any]
    ) -> None:
        """Set attributes on every member of an audience
        (PUT /v2/audience_customers/{audienceId}/attributes).

        The attributes must exist as customer profile attributes; members keep their other
        attributes.
        """
        require_id(audience_id, "audience_id")
        body = require_mapping(attributes, "attributes")
        if not body:
            raise TalonValidationError("must name at least one attribute", field="attributes")
        self._send(
            "updateAudienceCustomersAttributes",
            "PUT",
            f"/v2/audience_customers/{audience_id}/attributes",
            body=body,
            has_body=True,
            safe_to_retry=True,
        )
