"""Delivering the pending rows of one key, strictly in order (docs/outbox.md, "Delivery").

:func:`deliver_key` locks the oldest pending row of the key with ``SELECT ... FOR UPDATE
NOWAIT``; a second process finds it locked and leaves (the holder drains the key), so one
session is never updated in parallel (Talon.One would answer 409). SQLite serialises writers
anyway. Each row takes two transactions (see :func:`_deliver_head`): the *claim* counts the
attempt and commits a lease before any HTTP, so a worker killed mid-call still used it up;
the *call* goes through :func:`django_talon.resilience.guarded`, the one guarded call path,
and stores the answer together with the row's ``done``. A cart change's row is written
already claimed (by :func:`~django_talon.outbox.scheduling.enqueue`, in the shop's
transaction), so its delivery after commit is the call alone, in one transaction. A
fail-closed placement (``raise_errors``) is bounded by one deadline, ``PLACEMENT_TIMEOUT``.

This module never builds a client nor knows the client's error classes: ``guarded`` hands
out the client, keeps the breaker's books and translates client errors into
``TalonUnavailableError`` (an outage: back off) or ``TalonRequestFailedError`` (its
``permanent`` flag says "dead letter at once"). Handlers still see the client's own errors
inside the guarded block and may catch them (``TalonNotFound`` as a result).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

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
from django_talon.moments import from_timestamp
from django_talon.outbox.registry import (
    DEAD,
    DONE,
    PENDING,
    RETRIED,
    Operation,
    PermanentError,
    get_operation,
)
from django_talon.transaction_memo import transaction_memo

logger = logging.getLogger("django_talon.outbox")


@dataclass
class DeliveryReport:
    """What :func:`deliver_key` did."""

    key: str
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    dead: int = 0
    stopped: str = ""  # empty | busy | not_due | failed | disabled | circuit_open | timeout
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
    timeout: float | None = None,
    claimed: Iterable[int] = (),
) -> DeliveryReport:
    """Deliver the pending rows of ``key`` in order; stop at the first failure.

    ``immediate`` uses the short-timeout client; ``force`` ignores ``next_attempt_at``;
    ``raise_errors`` re-raises the failure (used by fail-closed order placement, after the
    attempt was recorded; a failed call raises the Django-side error of
    :mod:`django_talon.exceptions`). Safe to call concurrently and twice: a key being
    delivered by another process is reported ``busy``.

    ``timeout`` is a deadline in seconds for the whole delivery: each call gets what is left
    of it (connect and read together, without client retries) and no call starts once it
    has passed. ``raise_errors`` without a ``timeout`` means a customer waits for the
    answer (fail-closed placement): the deadline is ``PLACEMENT_TIMEOUT``.

    ``claimed``: ids of rows whose attempt this process already counted in the
    transaction that wrote them (:func:`~django_talon.outbox.scheduling.enqueue` with
    ``claimed=True``); such a row is called without a claim transaction of its own, and one
    this delivery does not reach gets its claim back (see :func:`_give_back`).
    """
    report = DeliveryReport(key=key)
    if timeout is None and raise_errors:
        timeout = talon_settings.PLACEMENT_TIMEOUT
    deadline = None if timeout is None else time.monotonic() + timeout
    held = _Held(dict.fromkeys([*claimed, *claimed_in_transaction(key)], 1))
    for _ in range(max_rows):
        call_timeout = _time_left(deadline, report)
        if call_timeout == 0.0:
            break
        try:
            outcome = _deliver_head(
                key, report, immediate=immediate, force=force, held=held, timeout=call_timeout
            )
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
    if held.rows:
        _give_back(held.rows)
    report.remaining = report.stopped not in ("", "empty", "busy")
    if raise_errors and report.last_exception is not None:
        raise report.last_exception
    return report


def _time_left(deadline: float | None, report: DeliveryReport) -> float | None:
    """Seconds left for the next call (None: no deadline); 0.0: the deadline has passed,
    and the report says so (stopped ``timeout``, a ``TalonUnavailableError``)."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left > 0:
        return left
    report.stopped = "timeout"
    report.last_exception = TalonUnavailableError(
        "Talon.One did not confirm within PLACEMENT_TIMEOUT "
        f"({talon_settings.PLACEMENT_TIMEOUT:g}s)"
    )
    return 0.0


def note_claimed(key: str, message_id: int) -> None:
    """Remember, until the current transaction ends, that it wrote row ``message_id`` of
    ``key`` already claimed. A delivery inside the same transaction (fail-closed placement
    delivers the session's key before the order commits) then calls it as a held row
    instead of counting a second attempt. Forgotten when Django replaces the connection's
    ``run_on_commit`` list (commit, rollback, savepoint rollback)."""
    memo: dict[str, list[int]] | None = transaction_memo("claimed", dict)
    if memo is not None:
        memo.setdefault(key, []).append(message_id)


def claimed_in_transaction(key: str) -> list[int]:
    """Rows of ``key`` written claimed by the current transaction (see :func:`note_claimed`)."""
    memo: dict[str, list[int]] | None = transaction_memo("claimed", dict, create=False)
    return [] if memo is None else memo.get(key, [])


@dataclass
class _Held:
    """Rows this process claimed in the transaction that wrote them (id -> the attempts
    count the claim left); an id is removed once its row is settled or handed on."""

    rows: dict[int, int]

    def take(self, message: OutboxMessage) -> bool:
        """Is ``message`` one of ours, unclaimed since? (Then it is ours to call now.)"""
        if self.rows.get(message.pk) != message.attempts:
            return False
        del self.rows[message.pk]
        return True


def _give_back(rows: dict[int, int]) -> None:
    """Undo the claim of rows this process claimed when it wrote them but did not reach
    (an older row of the key was not due or failed, the key was busy): attempts back to 0
    (it is still due), as if never claimed. A row another process locked (it is delivering the
    key) or claimed again since (``attempts`` differs) is left to it; the claim it keeps is
    bounded like a worker that died mid-call."""
    qs = OutboxMessage.objects.filter(pk__in=list(rows), state=PENDING, attempts=1)
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        ids = list(qs.values_list("pk", flat=True))
        if ids:
            OutboxMessage.objects.filter(pk__in=ids).update(attempts=0, updated_at=timezone.now())


# -- one row: claim, then call ----------------------------------------------------------------
@dataclass
class _Claim:
    """A head row whose attempt was counted and committed; the API call comes next."""

    message: OutboxMessage
    operation: Operation
    more: str  # "next" | "drained": what follows once this row is done
    due_at: datetime  # ``next_attempt_at`` before the claim (restored if the call is refused)
    held: bool = False  # claimed when written; still locked by the claim's transaction


def _deliver_head(
    key: str,
    report: DeliveryReport,
    *,
    immediate: bool,
    force: bool,
    held: _Held,
    timeout: float | None,
) -> str:
    """Deliver the oldest pending row of ``key`` in two transactions (one for a held row).

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

    A *held* head (claimed by this process in the transaction that wrote it, which counted
    the attempt and set the lease durably already) skips step 1's write and commit: the
    call runs in the transaction that locked it, still locked, in one commit.
    """
    try:
        with transaction.atomic():
            claimed = _claim_head(key, report, force=force, held=held)
            if isinstance(claimed, str):
                return claimed
            if claimed.held:
                return _call_claimed(claimed, report, immediate=immediate, timeout=timeout)
        with transaction.atomic():
            return _call_claimed(claimed, report, immediate=immediate, timeout=timeout, relock=True)
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


def _claim_head(key: str, report: DeliveryReport, *, force: bool, held: _Held) -> str | _Claim:
    rows = _lock_head(key)
    if not rows:
        return "empty"
    head = rows[0]
    following = rows[1] if len(rows) > 1 else None
    more = "next" if following is not None else "drained"
    now = timezone.now()
    ours = held.take(head)
    if not force and not ours and head.next_attempt_at > now:
        report.retry_in = (head.next_attempt_at - now).total_seconds()
        return "not_due"
    operation = get_operation(head.operation)
    if _superseded(head, following, operation):
        _finish(head, "superseded", now)
        report.skipped += 1
        return more
    if not resilience.knows_application(head.application):
        # Its Application left TALON["APPLICATIONS"]: no client to send it with, ever.
        _record_failure(
            head, operation, PermanentError(resilience.unknown(head.application)), report, now
        )
        return "failed"
    if ours:
        # No kill switch / circuit check of its own: the guarded call makes it, and a refusal
        # before sending gives the claim back (_refused), as for a claim that lost the race.
        return _Claim(head, operation, more, head.next_attempt_at, held=True)
    if not resilience.is_enabled(head.application):
        return _switched_off(report)
    if head.attempts >= talon_settings.MAX_ATTEMPTS and not operation.never_dead:
        # Every allowed attempt was claimed and the last one never finished (a failure would
        # have dead-lettered the row already): its worker died mid-call. Give up without
        # another call, so a message that kills workers cannot kill them forever.
        _record_failure(head, operation, _unfinished(head), report, now)
        return "failed"
    # "Open", not ``breaker.allow()``: a half-open circuit's one trial call is taken by the
    # guarded call itself; a claim that loses that race is given back (see _refused).
    if resilience.breaker_for(head.application).state() == "open":
        outcome = _circuit_open(head, report, now)
        head.save(update_fields=["next_attempt_at", "updated_at"])
        return outcome
    due_at = head.next_attempt_at
    head.attempts += 1
    head.next_attempt_at = now + timedelta(seconds=backoff(head.attempts))
    head.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
    return _Claim(head, operation, more, due_at)


def _call_claimed(
    claim: _Claim,
    report: DeliveryReport,
    *,
    immediate: bool,
    timeout: float | None,
    relock: bool = False,
) -> str:
    """Call the API for a claimed row and store the outcome (``relock``: the claim was
    committed in a transaction of its own, so lock the row again and check it is ours)."""
    head, operation = claim.message, claim.operation
    if relock and not _still_claimed(head):
        return "busy"  # claimed again by another process meanwhile: it delivers the key
    called = False
    try:
        with resilience.guarded(
            f"deliver {head.operation}",
            immediate=immediate,
            timeout=None if timeout is None else resilience.within(timeout),
            application=head.application,
        ) as client:
            called = True
            result = operation.handler(head, client)
    except DatabaseError:
        raise
    except Exception as exc:
        if not called and isinstance(exc, TalonUnavailableError):
            return _refused(claim, report, timezone.now())
        _record_failure(head, operation, exc, report, timezone.now())
        return "failed"
    now = timezone.now()
    if claim.more == "drained" and _can_look_ahead():
        more = "next" if _finish_looking_ahead(head, result or "sent", now) else "empty"
    else:
        _finish(head, result or "sent", now)
        more = claim.more
    if result in ("unchanged", "superseded"):
        report.skipped += 1
    else:
        report.sent += 1
    return more


def _still_claimed(head: OutboxMessage) -> bool:
    """Lock the claimed row again; is it still pending with the attempts our claim set?"""
    qs = OutboxMessage.objects.filter(pk=head.pk, state=PENDING, attempts=head.attempts)
    if connection.features.has_select_for_update:
        # Blocking, not NOWAIT: the only holders are a deliverer that locked the row between
        # our two transactions (it finds our lease and leaves at once) or one that claimed it
        # after us (then ``attempts`` differs and we leave once it is done).
        qs = qs.select_for_update()
    return bool(list(qs.values_list("pk", flat=True)))


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
    until = resilience.breaker_for(head.application).open_until()
    if until is not None:
        # In ``now``'s convention: under USE_TZ = False ``now`` is naive local time, and an
        # aware reopening time made every delivery during an outage a TypeError.
        head.next_attempt_at = max(now, from_timestamp(until))
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
    if resilience.is_enabled(head.application):
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


def _can_look_ahead() -> bool:
    """Can the row's ``done`` UPDATE also say whether rows of its key are pending
    (``UPDATE ... RETURNING``: PostgreSQL, SQLite 3.35+)? Elsewhere a query follows."""
    if connection.vendor == "postgresql":
        return True
    if connection.vendor == "sqlite":
        import sqlite3  # the driver of Django's SQLite backend

        return sqlite3.sqlite_version_info >= (3, 35)
    return False


def _finish_looking_ahead(message: OutboxMessage, result: str, now: datetime) -> bool:
    """:func:`_finish` in one statement that also answers "is another row of this key
    pending?" (the check :func:`deliver_key` would otherwise make after the commit).

    Why this is enough: a row of the key committed before this statement is seen by it. One
    committed after it, by a writer that found the key busy, is committed before our commit
    only if that writer did not wait for a lock we hold: writers of a session lock its mirror
    row (``SELECT ... FOR UPDATE``), which the answer's UPDATE has locked too, so they wait
    for our commit and then find the key free; on SQLite every writer waits for our commit.
    What is left (a row of another kind of key committed in the instant between this
    statement and our commit) is due at once and the relay delivers it, as it does a row
    whose post-commit delivery was lost.
    """
    message.state = DONE
    message.result = result
    message.delivered_at = now
    message.last_error = ""
    message.updated_at = now
    q = connection.ops.quote_name
    table, pk, key, state = (q(n) for n in (OutboxMessage._meta.db_table, "id", "key", "state"))
    stamp = connection.ops.adapt_datetimefield_value(now)
    sql = (
        f"UPDATE {table} SET {state} = %s, {q('result')} = %s, {q('delivered_at')} = %s, "
        f"{q('last_error')} = '', {q('updated_at')} = %s WHERE {pk} = %s "
        f"RETURNING EXISTS (SELECT 1 FROM {table} later "
        f"WHERE later.{key} = %s AND later.{state} = %s AND later.{pk} <> %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [DONE, result, stamp, stamp, message.pk, message.key, PENDING, message.pk]
        )
        row = cursor.fetchone()
    return bool(row and row[0])


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


def _asked_to_wait(exc: BaseException) -> float:
    """The ``Retry-After`` Talon.One (or a proxy) sent with the failure, in seconds (0: none).

    Why: retrying a 429 after our own short backoff only earns another 429; the client's
    error carries the header's delay (``TalonAPIError.retry_after``), also when the guarded
    call path chained it under a Django-side error."""
    for error in (exc, exc.__cause__):
        seconds = getattr(error, "retry_after", None)
        if isinstance(seconds, (int, float)) and seconds > 0:
            return float(seconds)
    return 0.0


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
        delay = max(backoff(message.attempts), _asked_to_wait(exc))
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
