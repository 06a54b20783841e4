"""What staff and operators do by hand: resync a profile now, retry or purge dead letters,
run the relay or the sweeper once, retry unconfirmed erasures.

Why a service module for these: the admin actions and the management commands are thin
surfaces (a form, a parser, a message); the multi-step work behind them (which rows, which
transaction, when delivery happens) lives here, next to the other services, and reaches the
outbox and Talon.One only through them. ``talon_check`` alone calls the client itself, on
purpose (see its docstring).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max, Q

from django_talon import outbox, resilience
from django_talon.models import CustomerProfile, DataDeletionRequest, Discrepancy, OutboxMessage
from django_talon.services.gdpr import process_erasure
from django_talon.services.handlers import profile_key
from django_talon.services.outcomes import Delivery, deliver_now, worst
from django_talon.services.profiles import sync_profile

logger = logging.getLogger("django_talon.services")

__all__ = [
    "DeadLetterRetry",
    "OutboxHealth",
    "deliver_pending_now",
    "outbox_health",
    "purge_dead_letters",
    "redeliver_dead_letters",
    "relay_outbox",
    "resync_profile",
    "retry_dead_letters",
    "retry_unconfirmed_erasures",
    "sweep_outbox",
]


def resync_profile(profile: CustomerProfile) -> Delivery:
    """Send a profile to Talon.One again, now (the admin's "resync" action), and say how it
    went.

    For when Talon.One's copy is suspect: the profile is queued with ``force=True`` (which
    forgets what was delivered, so delivery does not skip it as unchanged) and delivered at
    once instead of waiting for the relay (each of its Applications' rows, with
    ``TALON["APPLICATIONS"]``). A failed delivery does not raise: it stays queued in the
    outbox (an outage) or becomes a dead letter (Talon.One refused it), and shows as the
    profile's last error; the returned :class:`~django_talon.services.outcomes.Delivery`
    says which (sent / queued with the reason / refused with Talon.One's answer), because
    "no exception" never meant "Talon.One has it". Raises ``ValueError`` for a profile
    without a user or an erased one (nothing is sent for it).
    """
    if profile.user is None:
        raise ValueError(f"profile {profile.integration_id} has no user to read attributes from")
    key = profile_key(profile.integration_id)
    ours = OutboxMessage.objects.filter(Q(key=key) | Q(key__startswith=f"{key}@"))
    before = ours.aggregate(last=Max("pk"))["last"] or 0
    if sync_profile(profile.user, force=True).erased_at is not None:
        raise ValueError(f"profile {profile.integration_id} was erased: nothing is sent for it")
    queued = list(ours.filter(pk__gt=before).values_list("key", "pk"))
    by_key: dict[str, list[int]] = {}
    for each, pk in queued:
        by_key.setdefault(each, []).append(pk)
    return worst([deliver_now(each, ids) for each, ids in sorted(by_key.items())])


def retry_dead_letters(ids: list[int] | None = None, *, key: str | None = None) -> int:
    """Make dead letters pending again (attempts reset); they go out after the caller's
    transaction commits, like any other write. Returns how many were retried."""
    return outbox.retry_dead(ids, key=key)


@dataclass(frozen=True)
class DeadLetterRetry:
    """What :func:`redeliver_dead_letters` did: ``retried`` rows, ``dead_again`` of them."""

    retried: int
    dead_again: int


def redeliver_dead_letters(
    ids: list[int] | None = None, *, key: str | None = None
) -> DeadLetterRetry:
    """Retry dead letters and deliver them now (``talon_outbox retry``).

    The rows are made pending in a transaction of their own, which commits before delivery
    (inline, or through Celery when it is configured), so the answer can say which of them
    failed again.
    """
    selected = _dead(ids, key)
    with transaction.atomic():
        keys = sorted(set(selected.values_list("key", flat=True)))
        count = outbox.retry_dead(ids, key=key, deliver=False)
    for each in keys:
        outbox.dispatch(each)
    return DeadLetterRetry(retried=count, dead_again=_dead(ids, key).count())


def _dead(ids: list[int] | None, key: str | None) -> Any:
    qs = outbox.dead_letters()
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    if key:
        qs = qs.filter(key=key)
    return qs


def purge_dead_letters(ids: list[int] | None = None, *, older_than: timedelta | None = None) -> int:
    """Delete dead letters (all, the given ids, or those older than ``older_than``)."""
    return outbox.purge_dead(ids, older_than=older_than)


def relay_outbox(limit: int | None = None) -> int:
    """Deliver keys with due rows now (what the periodic relay does). Returns the keys."""
    return outbox.relay(limit)


def deliver_pending_now(limit: int | None = None, *, close_circuit: bool = False) -> int:
    """Deliver every key with pending rows now, ignoring their retry backoff (an operator
    who knows Talon.One is back, e.g. the demo's "end the outage" switch). Returns the keys
    handled. The circuit breaker still applies unless ``close_circuit``: the operator's word
    that Talon.One is back closes the circuit the outage opened, instead of waiting out
    ``BREAKER_COOLDOWN`` (every Application's circuit, with ``TALON["APPLICATIONS"]``)."""
    if close_circuit:
        resilience.reset_breakers()
    keys = outbox.due_keys(outbox.pending(), int(limit or 1000))
    for key in keys:
        try:
            outbox.deliver_key(key, force=True)
        except Exception:
            logger.exception("delivering outbox key %s now failed; the relay will retry", key)
    return len(keys)


@dataclass(frozen=True)
class OutboxHealth:
    """What an operator page shows: writes waiting, dead letters, open discrepancies, and
    the next pending rows (oldest due first)."""

    pending: int
    dead: int
    open_discrepancies: int
    next_pending: list[OutboxMessage]


def outbox_health(*, show: int = 10) -> OutboxHealth:
    """Counts for a status page (the demo's outage switch), in four queries; never calls the
    API, so it answers while Talon.One is down."""
    pending = OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING)
    return OutboxHealth(
        pending=pending.count(),
        dead=OutboxMessage.objects.filter(state=OutboxMessage.State.DEAD).count(),
        open_discrepancies=Discrepancy.objects.filter(status=Discrepancy.Status.OPEN).count(),
        next_pending=list(pending.order_by("next_attempt_at", "id")[:show]),
    )


def sweep_outbox() -> dict[str, int]:
    """Re-drive stranded rows and purge old done ones (what the periodic sweeper does)."""
    return outbox.sweep()


def retry_unconfirmed_erasures() -> tuple[int, int]:
    """Deliver every erasure Talon.One has not confirmed yet, oldest first.

    Returns ``(confirmed, total)``: how many of the ``total`` unconfirmed requests are now
    confirmed.
    """
    ids = list(
        DataDeletionRequest.objects.exclude(state=DataDeletionRequest.State.COMPLETED)
        .order_by("requested_at")
        .values_list("pk", flat=True)
    )
    confirmed = sum(1 for pk in ids if process_erasure(pk))
    return confirmed, len(ids)
