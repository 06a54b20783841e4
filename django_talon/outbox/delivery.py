"""Delivering the pending rows of one key, strictly in order (docs/outbox.md, "Delivery").

:func:`deliver_key` locks the oldest pending row of the key with ``SELECT ... FOR UPDATE
NOWAIT``; a second process finds it locked and leaves (the holder drains the key), so one
session is never updated in parallel (Talon.One would answer 409). SQLite serialises writers
anyway. Each row takes two transactions (see :func:`_deliver_head`): the *claim* counts the
attempt and commits a lease before any HTTP, so a worker killed mid-call still used it up;
the *call* goes through :func:`django_talon.resilience.guarded`, the one guarded call path,
and stores the answer together with the row's ``done``.

This module never builds a client nor knows the client's error classes: ``guarded`` hands
out the client, keeps the breaker's books and translates client errors into
``TalonUnavailableError`` (an outage: back off) or ``TalonRequestFailedError`` (its
``permanent`` flag says "dead letter at once"). Handlers still see the client's own errors
inside the guarded block and may catch them (``TalonNotFound`` as a result).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.db import DatabaseError, OperationalError, connection, transaction
from django.utils import timezone

from django_talon import resilience, signals
from django_talon.conf import talon_settings
from django_talon.exceptions import (
    TalonRequestFailedError,
    TalonServiceError,
    TalonUnavailableError,
)
from django_talon.models import OutboxMessage
from django_talon.outbox.registry import (
    DEAD,
    DONE,
    PENDING,
    RETRIED,
    Operation,
    PermanentError,
    get_operation,
)

logger = logging.getLogger("django_talon.outbox")


@dataclass
class DeliveryReport:
    """What :func:`deliver_key` did."""

    key: str
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    dead: int = 0
    stopped: str = ""  # empty | busy | not_due | failed | disabled | circuit_open
    remaining: bool = False
    retry_in: float | None = None
    errors: list[str] = field(default_factory=list)
    last_exception: BaseException | None = None

    @property
    def delivered(self) -> bool:
        """Everything of this key is delivered (nothing pending)."""
        return not self.remaining


class _BusyError(Exception):
    """Another process holds the key's lock (it delivers the key; we leave)."""


def backoff(attempts: int) -> float:
    """Seconds to wait before attempt ``attempts + 1``: base * 2**(attempts-1), capped."""
    base = talon_settings.RETRY_BACKOFF
    return float(min(talon_settings.RETRY_BACKOFF_MAX, base * (2 ** max(0, attempts - 1))))


def deliver_key(
    key: str,
    *,
    immediate: bool = False,
    force: bool = False,
    raise_errors: bool = False,
    max_rows: int = 1000,
) -> DeliveryReport:
    """Deliver the pending rows of ``key`` in order; stop at the first failure.

    ``immediate`` uses the short-timeout client; ``force`` ignores ``next_attempt_at``;
    ``raise_errors`` re-raises the failure (used by fail-closed order placement, after the
    attempt was recorded; a failed call raises the Django-side error of
    :mod:`django_talon.exceptions`). Safe to call concurrently and twice: a key being
    delivered by another process is reported ``busy``.
    """
    report = DeliveryReport(key=key)
    for _ in range(max_rows):
        try:
            outcome = _deliver_head(key, report, immediate=immediate, force=force)
        except _BusyError:
            report.stopped = "busy"
            break
        if outcome == "drained":
            # Nothing followed the head when it was locked; a row committed meanwhile by a
            # process that found the key busy relies on us to deliver it (one cheap query).
            if OutboxMessage.objects.filter(key=key, state=PENDING).exists():
                continue
            outcome = "empty"
        if outcome != "next":
            report.stopped = outcome
            break
    report.remaining = report.stopped not in ("", "empty", "busy")
    if raise_errors and report.last_exception is not None:
        raise report.last_exception
    return report


# -- one row: claim, then call ----------------------------------------------------------------
@dataclass
class _Claim:
    """A head row whose attempt was counted and committed; the API call comes next."""

    message: OutboxMessage
    operation: Operation
    more: str  # "next" | "drained": what follows once this row is done
    due_at: datetime  # ``next_attempt_at`` before the claim (restored if the call is refused)


def _deliver_head(key: str, report: DeliveryReport, *, immediate: bool, force: bool) -> str:
    """Deliver the oldest pending row of ``key`` in two transactions.

    1. *Claim* (short, committed before any HTTP): lock the head (``NOWAIT``), settle what
       needs no call (superseded, kill switch, open circuit, attempts used up), otherwise
       count the attempt (``attempts + 1``) and set a lease (``next_attempt_at = now +
       backoff(attempts)``). A worker killed during the call therefore still used up an
       attempt: a message that crashes every worker becomes a dead letter after
       ``MAX_ATTEMPTS`` instead of being retried forever, and nobody re-drives it before the
       lease ends (relay/sweep only pick due rows).
    2. *Call*: lock the row again and check it is still the one claimed (pending, same
       ``attempts``), then call the API and store the answer with the row's ``done`` in one
       transaction. The lock is held during the call, so a second process still finds the
       key busy (never two calls for one key at once), even if the call outlives the lease.
    """
    try:
        with transaction.atomic():
            claimed = _claim_head(key, report, force=force)
    except OperationalError as exc:
        if _is_lock_error(exc):
            raise _BusyError() from exc
        raise
    if isinstance(claimed, str):
        return claimed
    try:
        with transaction.atomic():
            return _call_claimed(claimed, report, immediate=immediate)
    except OperationalError as exc:
        if _is_lock_error(exc):
            raise _BusyError() from exc
        raise


def _lock_head(key: str) -> list[OutboxMessage]:
    """Lock and return the oldest pending row of ``key`` and the one after it (if any).

    Reading the next row in the same query tells the caller, without another query, whether
    the head is superseded and whether anything is left to do after it.
    """
    qs = OutboxMessage.objects.filter(key=key, state=PENDING).order_by("id")
    if connection.features.has_select_for_update_nowait:
        qs = qs.select_for_update(nowait=True)
    elif connection.features.has_select_for_update:
        qs = qs.select_for_update()
    rows: list[OutboxMessage] = list(qs[:2])
    return rows


def _is_lock_error(exc: DatabaseError) -> bool:
    cause = exc.__cause__
    code = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if code == "55P03":  # lock_not_available
        return True
    text = str(exc).lower()
    return "could not obtain lock" in text or "nowait" in text


def _claim_head(key: str, report: DeliveryReport, *, force: bool) -> str | _Claim:
    rows = _lock_head(key)
    if not rows:
        return "empty"
    head = rows[0]
    following = rows[1] if len(rows) > 1 else None
    more = "next" if following is not None else "drained"
    now = timezone.now()
    if not force and head.next_attempt_at > now:
        report.retry_in = (head.next_attempt_at - now).total_seconds()
        return "not_due"
    operation = get_operation(head.operation)
    if _superseded(head, following, operation):
        _finish(head, "superseded", now)
        report.skipped += 1
        return more
    if not resilience.is_enabled():
        return _switched_off(report)
    if head.attempts >= talon_settings.MAX_ATTEMPTS and not operation.never_dead:
        # Every allowed attempt was claimed and the last one never finished (a failure would
        # have dead-lettered the row already): its worker died mid-call. Give up without
        # another call, so a message that kills workers cannot kill them forever.
        _record_failure(head, operation, _unfinished(head), report, now)
        return "failed"
    # "Open", not ``breaker.allow()``: a half-open circuit's one trial call is taken by the
    # guarded call itself; a claim that loses that race is given back (see _refused).
    if resilience.breaker.state() == "open":
        outcome = _circuit_open(head, report, now)
        head.save(update_fields=["next_attempt_at", "updated_at"])
        return outcome
    due_at = head.next_attempt_at
    head.attempts += 1
    head.next_attempt_at = now + timedelta(seconds=backoff(head.attempts))
    head.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
    return _Claim(head, operation, more, due_at)


def _call_claimed(claim: _Claim, report: DeliveryReport, *, immediate: bool) -> str:
    head, operation = claim.message, claim.operation
    qs = OutboxMessage.objects.filter(pk=head.pk, state=PENDING, attempts=head.attempts)
    if connection.features.has_select_for_update:
        # Blocking, not NOWAIT: the only holders are a deliverer that locked the row between
        # our two transactions (it finds our lease and leaves at once) or one that claimed it
        # after us (then ``attempts`` differs and we leave once it is done).
        qs = qs.select_for_update()
    if not list(qs.values_list("pk", flat=True)):
        return "busy"  # claimed again by another process meanwhile: it delivers the key
    called = False
    try:
        with resilience.guarded(f"deliver {head.operation}", immediate=immediate) as client:
            called = True
            result = operation.handler(head, client)
    except DatabaseError:
        raise
    except Exception as exc:
        if not called and isinstance(exc, TalonUnavailableError):
            return _refused(claim, report, timezone.now())
        _record_failure(head, operation, exc, report, timezone.now())
        return "failed"
    _finish(head, result or "sent", timezone.now())
    if result in ("unchanged", "superseded"):
        report.skipped += 1
    else:
        report.sent += 1
    return claim.more


# -- outcomes ---------------------------------------------------------------------------------
def _superseded(head: OutboxMessage, following: OutboxMessage | None, operation: Operation) -> bool:
    """Coalescing: a newer row of a superseding operation makes ``head`` obsolete.

    The next pending row answers it for free. A row revived by ``retry_dead`` also checks
    rows already delivered after it (one query), so a retry never sends an older cart.
    """
    if not operation.superseded_by:
        return False
    if following is not None and following.operation in operation.superseded_by:
        return True
    if head.result != RETRIED:
        return False
    return bool(
        OutboxMessage.objects.filter(
            key=head.key, id__gt=head.id, operation__in=operation.superseded_by
        )
        .exclude(state=DEAD)
        .exists()
    )


def _switched_off(report: DeliveryReport) -> str:
    """Stop: the kill switch is on. The row waits, untouched and without a counted attempt."""
    report.last_exception = TalonUnavailableError("Talon.One calls are switched off (kill switch)")
    return "disabled"


def _circuit_open(head: OutboxMessage, report: DeliveryReport, now: datetime) -> str:
    """Stop: the circuit is open. The row waits until the circuit may close (the caller
    saves ``next_attempt_at``); no attempt is counted."""
    until = resilience.breaker.open_until()
    if until is not None:
        head.next_attempt_at = max(now, datetime.fromtimestamp(until, tz=dt_timezone.utc))
    report.retry_in = talon_settings.BREAKER_COOLDOWN
    report.last_exception = TalonUnavailableError("Talon.One is unavailable (circuit open)")
    return "circuit_open"


def _refused(claim: _Claim, report: DeliveryReport, now: datetime) -> str:
    """The guarded call refused before sending (kill switch turned on since the claim, or
    another process took the half-open circuit's trial call): nothing was sent, so the claim
    is given back (attempt and lease) and the key stops as the claim would have."""
    head = claim.message
    head.attempts -= 1
    head.next_attempt_at = claim.due_at
    if resilience.is_enabled():
        outcome = _circuit_open(head, report, now)
    else:
        outcome = _switched_off(report)
    head.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
    return outcome


def _unfinished(message: OutboxMessage) -> BaseException:
    return PermanentError(
        f"attempt {message.attempts} never finished (the worker died or lost its database "
        f"connection during the call); previous error: {message.last_error or 'none'}"
    )


def _finish(message: OutboxMessage, result: str, now: datetime) -> None:
    message.state = DONE
    message.result = result
    message.delivered_at = now
    message.last_error = ""
    message.save(update_fields=["state", "result", "delivered_at", "last_error", "updated_at"])


def _is_permanent(exc: BaseException) -> bool:
    """Retrying cannot help: a handler said so, or Talon.One refused the request itself (400,
    404, a request the client refused to send; ``resilience.translate`` decides)."""
    if isinstance(exc, PermanentError):
        return True
    return isinstance(exc, TalonRequestFailedError) and exc.permanent


def _error_text(exc: BaseException) -> str:
    """The redacted one-line description stored in ``last_error``.

    For a translated error this describes the client's error it came from
    (``TalonUnauthorizedError: PUT /v2/... -> 401: ...``): the row already names its
    operation, and the admin's list shows the first 80 characters, so the status must come
    early. Anything else (a handler's own error) is described with its class name.
    """
    cause = exc.__cause__
    if isinstance(exc, TalonServiceError) and cause is not None:
        return resilience.describe(cause)
    if isinstance(exc, TalonServiceError):
        return resilience.redact(str(exc))[:2000]
    return resilience.describe(exc)


def _record_failure(
    message: OutboxMessage,
    operation: Operation,
    exc: BaseException,
    report: DeliveryReport,
    now: datetime,
) -> None:
    """Record a failed attempt (already counted by its claim): back off, or dead-letter.

    The breaker is not touched here: ``resilience.guarded`` already counted an outage.
    """
    message.last_error = _error_text(exc)
    report.failed += 1
    report.errors.append(message.last_error)
    report.last_exception = exc
    give_up = _is_permanent(exc) or message.attempts >= talon_settings.MAX_ATTEMPTS
    if give_up and not operation.never_dead:
        message.state = DEAD
        report.dead += 1
        logger.error(
            "outbox %s %s (key %s) is a dead letter after %d attempt(s): %s",
            message.operation,
            message.pk,
            message.key,
            message.attempts,
            message.last_error,
        )
    else:
        delay = backoff(message.attempts)
        message.next_attempt_at = now + timedelta(seconds=delay)
        report.retry_in = delay
        logger.warning(
            "outbox %s %s (key %s) attempt %d failed, retry in %.0fs: %s",
            message.operation,
            message.pk,
            message.key,
            message.attempts,
            delay,
            message.last_error,
        )
    message.save(update_fields=["attempts", "last_error", "state", "next_attempt_at", "updated_at"])
    if operation.on_failure is not None:
        operation.on_failure(message, exc)
    if message.state == DEAD:
        if operation.on_dead is not None:
            operation.on_dead(message, exc)
        signals.emit(
            signals.outbox_message_dead,
            OutboxMessage,
            message=message,
            error=message.last_error,
        )
