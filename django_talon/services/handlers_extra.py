"""Outbox operations of custom events and audience memberships (docs/catalog.md).

Registered on import like :mod:`django_talon.services.handlers` (``DjangoTalonConfig.ready()``
imports both). Both rows are keyed by the customer's profile key, so they are delivered in
order with the customer's profile writes (an event sees the attributes queued before it)
and an erasure waits for them; an erasure queued after them makes them obsolete.

- ``event.track``: ``POST /v3/events`` with the row's own event integration id, chosen when
  the event was queued. The client never repeats a v3 event (a repeat after a lost
  success would be refused); the outbox does, and ``409`` then means "an earlier attempt
  arrived": the row is done (result ``duplicate``), nothing is registered twice.
- ``audience.update``: ``POST /v2/customer_audiences`` (a set operation: repeating it is
  harmless).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django_talon import signals
from django_talon.client.errors import TalonConflict
from django_talon.models import CustomerProfile, OutboxMessage
from django_talon.outbox import Operation, register
from django_talon.services import tombstones
from django_talon.services.handlers import CUSTOMER_ERASE

if TYPE_CHECKING:
    from django_talon.client import TalonClient

EVENT_TRACK = "event.track"
AUDIENCE_UPDATE = "audience.update"

#: ``result`` of an event row whose event Talon.One already had (an earlier attempt).
DUPLICATE = "duplicate"


def _erased(integration_id: str) -> bool:
    """Is this customer erased? (One query; the tombstone's ``erased_at`` or the audit row.)"""
    if CustomerProfile.objects.filter(
        integration_id=integration_id, erased_at__isnull=False
    ).exists():
        return True
    return bool(tombstones.erased_ids([integration_id]))


def deliver_event(message: OutboxMessage, client: TalonClient) -> str:
    """POST /v3/events for the queued event; ``event_tracked`` carries the answer's effects."""
    integration_id = str(message.payload["integration_id"])
    if _erased(integration_id):
        return tombstones.refuse(message)  # GDPR: nothing is sent for an erased customer
    event = message.payload["event"]
    try:
        result = client.track_event_v3(
            str(event["integrationId"]),
            str(event["type"]),
            integration_id,
            event.get("attributes") or None,
            connected_session_id=event.get("connectedSessionId") or None,
        )
    except TalonConflict:
        return DUPLICATE
    signals.emit(
        signals.event_tracked,
        CustomerProfile,
        event_type=str(event["type"]),
        integration_id=str(event["integrationId"]),
        profile_id=integration_id,
        effects=result.effects,
    )
    return "sent"


def deliver_audiences(message: OutboxMessage, client: TalonClient) -> str:
    """POST /v2/customer_audiences: the customer's queued audience adds and removals."""
    integration_id = str(message.payload["integration_id"])
    if _erased(integration_id):
        return tombstones.refuse(message)
    actions = [
        {
            "action": str(item["action"]),
            "profileIntegrationId": integration_id,
            "audienceId": int(item["audienceId"]),
        }
        for item in message.payload["actions"]
    ]
    client.update_customer_profile_audiences(actions)
    return "sent"


register(Operation(EVENT_TRACK, deliver_event, superseded_by=(CUSTOMER_ERASE,)))
register(Operation(AUDIENCE_UPDATE, deliver_audiences, superseded_by=(CUSTOMER_ERASE,)))
