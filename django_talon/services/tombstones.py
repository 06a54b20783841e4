"""Erased customers at delivery time: the outbox handlers' last check before any call.

Why at delivery, not only at ``enqueue``: a row for an erased customer can exist without
the erasure's transaction seeing it (queued by a request that committed after the erasure,
a retried dead letter, a relay or Celery task picking up a row), and Talon.One creates
unknown profiles on the fly, so sending it would bring the customer back. Every erasure
writes a :class:`~django_talon.models.DataDeletionRequest` keyed by the integration id and
leaves the profile row as a tombstone (``erased_at``): the handlers read the mirror row
they need anyway, so the common case costs no query; only a row naming a customer the
mirror does not show costs one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection

from django_talon.models import CustomerSession, DataDeletionRequest, OutboxMessage
from django_talon.outbox.registry import PENDING
from django_talon.outbox.scheduling import ERASED

__all__ = ["ERASED", "erased_ids", "refuse", "session_erased", "wait_for_writes_in_flight"]


def erased_ids(ids: Iterable[Any]) -> set[str]:
    """Which of these integration ids were erased (an erasure was requested). One query."""
    wanted = {str(i) for i in ids if i}
    if not wanted:
        return set()
    return set(
        DataDeletionRequest.objects.filter(integration_id__in=wanted).values_list(
            "integration_id", flat=True
        )
    )


def session_erased(session: CustomerSession | None, payload: dict[str, Any]) -> bool:
    """Does a session row belong to, or name, an erased customer?

    ``session`` is the mirror read with its profile (``select_related("profile")``); the
    payload's ``customerSession.profileId`` is checked too when it names someone the mirror
    no longer shows (the only case that costs a query).
    """
    profile = session.profile if session is not None else None
    if profile is not None and profile.erased_at is not None:
        return True
    body = payload.get("customerSession")
    named = str(body.get("profileId") or "") if isinstance(body, dict) else ""
    if not named or (profile is not None and profile.integration_id == named):
        return False
    return bool(erased_ids([named]))


def refuse(message: OutboxMessage) -> str:
    """Settle a row of an erased customer without any call: it ends ``done`` with result
    ``erased`` (the handler's return value) and its payload is removed."""
    OutboxMessage.objects.filter(pk=message.pk).update(payload={}, fingerprint="")
    message.payload = {}
    message.fingerprint = ""
    return ERASED


def wait_for_writes_in_flight(message: OutboxMessage, keys: list[str]) -> None:
    """Before the erasure's DELETE: wait until no write of the customer is being sent.

    A session write committed just before the erasure may be in its HTTP call while the
    erasure commits; its row is locked by its deliverer for the whole call. Locking the
    customer's pending rows here (PostgreSQL; SQLite serialises writers anyway) therefore
    waits for that call to end, so the DELETE reaches Talon.One after it. Any of these rows
    delivered later is refused by its handler (the customer is erased by then).
    """
    if not connection.features.has_select_for_update:
        return
    list(
        OutboxMessage.objects.select_for_update()
        .filter(key__in=keys, state=PENDING)
        .exclude(pk=message.pk)
        .values_list("pk", flat=True)
    )
