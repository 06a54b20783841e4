"""Custom event operations: track an event (v2 and v3), read a v3 event back.

Every v2 event is a new event, so ``track_event_v2`` is only retried when ``dry``. A v3
event carries its own ``integration_id`` and the API registers it once: a repeat after a
lost success is refused as a duplicate, so it is not retried either (ask
:meth:`~EventOperations.get_event_v3` whether it arrived). The legacy ``POST /v1/events``
is ``track_event`` in :mod:`.v1`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..answers import EventV3, IntegrationEventResult
from ..errors import TalonValidationError
from ..transport import Reply
from ..validation import check_integration_id, check_session_id
from .base import (
    OperationGroup,
    campaign_id_list,
    require_mapping,
    response_content_list,
    segment,
)

__all__ = ["EventOperations"]

#: ``responseContent`` values of the v2 and v3 event requests.
V2_CONTENT = frozenset(
    {
        "customerProfile",
        "triggeredCampaigns",
        "loyalty",
        "event",
        "awardedGiveaways",
        "ruleFailureReasons",
        "campaignEligibility",
        "achievements",
    }
)
V3_CONTENT = frozenset(
    {
        "customerProfile",
        "triggeredCampaigns",
        "loyalty",
        "advancedEvent",
        "awardedGiveaways",
        "ruleFailureReasons",
    }
)


def _event_body(
    event_type: str,
    attributes: Mapping[str, Any] | None,
    *,
    profile_id: str,
    store_integration_id: str | None,
    evaluable_campaign_ids: Sequence[int] | None,
    loyalty_card: str | None,
) -> dict[str, Any]:
    """The fields the v2 and v3 event requests share, checked."""
    if not isinstance(event_type, str) or not event_type:
        raise TalonValidationError("must be a non-empty string", field="event_type")
    body: dict[str, Any] = {"type": event_type}
    if attributes is not None:
        body["attributes"] = require_mapping(attributes, "attributes")
    body["profileId"] = check_integration_id(profile_id, "profile_id")
    if store_integration_id is not None:
        body["storeIntegrationId"] = check_integration_id(
            store_integration_id, "store_integration_id"
        )
    if evaluable_campaign_ids is not None:
        body["evaluableCampaignIds"] = campaign_id_list(
            evaluable_campaign_ids, "evaluable_campaign_ids"
        )
    if loyalty_card is not None:
        body["loyaltyCards"] = [check_integration_id(loyalty_card, "loyalty_card")]
    return body


def _content(value: Sequence[str] | None, allowed: frozenset[str]) -> list[str] | None:
    content = response_content_list(value, "response_content")
    for index, item in enumerate(content or []):
        if item not in allowed:
            raise TalonValidationError(
                f"must be one of {sorted(allowed)}", field=f"response_content[{index}]"
            )
    return content


def _query(*, silent: bool, dry: bool, force_complete_evaluation: bool) -> dict[str, str]:
    query = {"silent": "yes" if silent else "no"}
    if dry:
        query["dry"] = "true"
    if force_complete_evaluation:
        query["forceCompleteEvaluation"] = "true"
    return query


class EventOperations(OperationGroup):
    """Operations on ``/v2/events`` and ``/v3/events``."""

    def track_event_v2(
        self,
        event_type: str,
        profile_id: str,
        attributes: Mapping[str, Any] | None = None,
        *,
        store_integration_id: str | None = None,
        evaluable_campaign_ids: Sequence[int] | None = None,
        loyalty_card: str | None = None,
        response_content: Sequence[str] | None = None,
        silent: bool = False,
        dry: bool = False,
        force_complete_evaluation: bool = False,
    ) -> IntegrationEventResult:
        """Track a custom event and run the campaigns listening to it (POST /v2/events).

        ``profile_id`` is required (the API says so, although its schema does not; a new id
        creates the profile). ``silent=True`` skips the answer (the API sends 204; the result is empty) and is
        faster; the default asks for the effects. ``evaluable_campaign_ids`` (dry runs)
        limits the evaluation to these campaigns.
        """
        body = _event_body(
            event_type,
            attributes,
            profile_id=profile_id,
            store_integration_id=store_integration_id,
            evaluable_campaign_ids=evaluable_campaign_ids,
            loyalty_card=loyalty_card,
        )
        content = _content(response_content, V2_CONTENT)
        if content is not None:
            body["responseContent"] = content
        reply = self._send(
            "trackEventV2",
            "POST",
            "/v2/events",
            body=body,
            has_body=True,
            query=_query(
                silent=silent, dry=dry, force_complete_evaluation=force_complete_evaluation
            ),
            safe_to_retry=dry,
        )
        return self._event_result(reply, "trackEventV2", silent=silent)

    def track_event_v3(
        self,
        integration_id: str,
        event_type: str,
        profile_id: str,
        attributes: Mapping[str, Any] | None = None,
        *,
        connected_session_id: str | None = None,
        store_integration_id: str | None = None,
        evaluable_campaign_ids: Sequence[int] | None = None,
        loyalty_card: str | None = None,
        response_content: Sequence[str] | None = None,
        silent: bool = False,
        dry: bool = False,
        force_complete_evaluation: bool = False,
    ) -> IntegrationEventResult:
        """Track an advanced event with its own unique id (POST /v3/events).

        ``integration_id`` is yours (e.g. an order line or a review id): the API registers
        an event with a given id once. ``connected_session_id`` links a closed session.
        """
        body = _event_body(
            event_type,
            attributes,
            profile_id=profile_id,
            store_integration_id=store_integration_id,
            evaluable_campaign_ids=evaluable_campaign_ids,
            loyalty_card=loyalty_card,
        )
        body["integrationId"] = check_integration_id(integration_id, "integration_id")
        if connected_session_id is not None:
            body["connectedSessionId"] = check_session_id(
                connected_session_id, "connected_session_id"
            )
        content = _content(response_content, V3_CONTENT)
        if content is not None:
            body["responseContent"] = content
        reply = self._send(
            "trackEventV3",
            "POST",
            "/v3/events",
            body=body,
            has_body=True,
            query=_query(
                silent=silent, dry=dry, force_complete_evaluation=force_complete_evaluation
            ),
            safe_to_retry=dry,
        )
        return self._event_result(reply, "trackEventV3", silent=silent)

    def _event_result(
        self, reply: Reply, operation: str, *, silent: bool
    ) -> IntegrationEventResult:
        """The decoded answer; empty for a 204, or for a silent call answered without a body.

        A 200 without a body to a call that asked for the answer is a ``TalonDecodeError``:
        taking it as "no effects" would lose what the event did (coupons and referrals it
        created, points it gave) without a word.
        """
        if reply.status == 204 or (silent and reply.body is None):
            return IntegrationEventResult.from_json({})
        return IntegrationEventResult.from_json(self._json_object(reply, operation))

    def get_event_v3(self, integration_id: str) -> EventV3:
        """An advanced event by its integration id (GET /v3/events/{integrationId})."""
        check_integration_id(integration_id, "integration_id")
        data = self._send_for_object(
            "getEventV3",
            "GET",
            f"/v3/events/{segment(integration_id)}",
            safe_to_retry=True,
        )
        return EventV3.from_json(data)
