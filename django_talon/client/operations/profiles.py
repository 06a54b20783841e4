"""Customer profile and audience operations (v2): one profile, bulk attributes, audiences.

Only the single-profile update can run the rule engine; then it is not retried, because
effects such as loyalty points could be granted twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..errors import TalonValidationError
from ..models import (
    IntegrationStateV2,
    MultipleProfilesResult,
)
from ..payloads import (
    CustomerProfileAudienceRequestItem,
    MultipleCustomerProfileIntegrationRequestItem,
    ProfileAudiencesChanges,
)
from ..validation import (
    MAX_BATCH,
    batched,
    check_batch,
    check_integration_id,
    check_sequence_of_mappings,
)
from .base import (
    OperationGroup,
    campaign_id_list,
    require_mapping,
    response_content_list,
    segment,
)

__all__ = ["ProfileOperations"]


class ProfileOperations(OperationGroup):
    """Operations on ``/v2/customer_profiles`` and ``/v2/customer_audiences``."""

    def update_customer_profile_v2(
        self,
        integration_id: str,
        attributes: Mapping[str, Any] | None = None,
        *,
        audiences_changes: ProfileAudiencesChanges | Mapping[str, Sequence[int]] | None = None,
        run_rule_engine: bool = False,
        dry: bool = False,
        response_content: Sequence[str] | None = None,
        evaluable_campaign_ids: Sequence[int] | None = None,
    ) -> IntegrationStateV2:
        """Create or update a profile (PUT /v2/customer_profiles/{integrationId}).

        ``audiences_changes``: ``{"adds": [audienceId, ...], "deletes": [...]}``.
        ``response_content`` needs ``run_rule_engine=True`` (an API rule);
        ``evaluable_campaign_ids`` needs ``run_rule_engine=True`` and ``dry=True`` and
        evaluates just these campaigns.
        """
        check_integration_id(integration_id, "integration_id")
        body: dict[str, Any] = {}
        if attributes is not None:
            body["attributes"] = require_mapping(attributes, "attributes")
        if audiences_changes is not None:
            changes = require_mapping(audiences_changes, "audiences_changes")
            body["audiencesChanges"] = {
                "adds": list(changes.get("adds") or []),
                "deletes": list(changes.get("deletes") or []),
            }
        content = response_content_list(response_content, "response_content")
        if content is not None:
            if not run_rule_engine:
                raise TalonValidationError("needs run_rule_engine=True", field="response_content")
            body["responseContent"] = content
        if evaluable_campaign_ids is not None:
            if not (run_rule_engine and dry):
                raise TalonValidationError(
                    "needs run_rule_engine=True and dry=True", field="evaluable_campaign_ids"
                )
            body["evaluableCampaignIds"] = campaign_id_list(
                evaluable_campaign_ids, "evaluable_campaign_ids"
            )
        query: dict[str, str] = {}
        if run_rule_engine:
            query["runRuleEngine"] = "true"
        if dry:
            query["dry"] = "true"
        data = self._send_for_object(
            "updateCustomerProfileV2",
            "PUT",
            f"/v2/customer_profiles/{segment(integration_id)}",
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
        if reply.status == 204 or (silent and reply.body is None):
            # A 200 without a body when the states were asked for (silent=False) is a
            # TalonDecodeError (_json_object), as for every operation promising an answer.
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
