"""Custom events: "the customer signed up for the newsletter" -> Talon.One's event rules.

:func:`track_event` queues the event in the caller's transaction (an outbox row, delivered
after commit like every write), so an event is never lost to an outage and never sent for
work that was rolled back. Each event gets its integration id when it is queued (yours, or
a random one): Talon.One's v3 events register an id once, so an event retried by the
outbox after a lost answer is not counted twice (:mod:`.handlers_extra`).

The answer's effects arrive with the :data:`django_talon.signals.event_tracked` signal.
Signals and model creations of the shop become events without code through
``TALON["EVENT_RECEIVERS"]`` (:mod:`django_talon.optional_receivers`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from django_talon import outbox
from django_talon.adapters import json_attributes
from django_talon.models import CustomerSession, OutboxMessage
from django_talon.services.handlers import profile_key
from django_talon.services.handlers_extra import EVENT_TRACK
from django_talon.services.profiles import profile_for_user

__all__ = ["EVENT_TRACK", "track_event"]

#: The longest integration id Talon.One takes.
MAX_INTEGRATION_ID = 1000


def track_event(
    event_type: str,
    *,
    user: Any = None,
    session: CustomerSession | None = None,
    attributes: Mapping[str, Any] | None = None,
    integration_id: str | None = None,
) -> OutboxMessage:
    """Queue a custom event of ``event_type`` for a customer (``POST /v3/events``).

    The customer is ``user`` or, without one, ``session``'s profile; an event needs a
    customer profile (the API requires ``profileId``), so an anonymous session raises
    ``ValueError``. ``attributes`` must
    exist as event attributes in the Campaign Manager. ``integration_id`` identifies the
    event (an order line, a review id): queue the same id twice and Talon.One registers it
    once; the default is a random one. Costs one INSERT (plus the profile's lookup).
    """
    if not isinstance(event_type, str) or not event_type.strip():
        raise ValueError("event_type must be a non-empty string (the event type in Talon.One)")
    if user is not None and not getattr(user, "is_authenticated", True):
        user = None  # AnonymousUser: not a customer profile
    profile = profile_for_user(user) if user is not None else getattr(session, "profile", None)
    if profile is None:
        raise ValueError(
            "an event needs a customer: pass user=, or a session that belongs to a profile"
        )
    event_id = integration_id or f"event-{uuid.uuid4().hex}"
    if not isinstance(event_id, str) or len(event_id) > MAX_INTEGRATION_ID:
        raise ValueError(f"integration_id must be a string of at most {MAX_INTEGRATION_ID} chars")
    event: dict[str, Any] = {
        "integrationId": event_id,
        "type": event_type.strip(),
        "attributes": json_attributes(dict(attributes or {}), "event attributes"),
    }
    with transaction.atomic(savepoint=False):
        return outbox.enqueue(
            EVENT_TRACK,
            profile_key(profile.integration_id),
            {"integration_id": profile.integration_id, "event": event},
            # the Application whose campaigns the event is for: the session's, else the
            # customer's (TALON["APPLICATIONS"]); "default" in a one-Application shop
            application=session.application if session is not None else profile.application,
        )
