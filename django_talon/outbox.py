"""Durable outbox: every Integration API write is a row written in the caller's transaction.

Flow (docs/outbox.md):

1. :func:`enqueue` inserts an :class:`~django_talon.models.OutboxMessage` in the caller's
   transaction, so a rolled-back order never reaches Talon.One and a committed one is never
   lost.
2. After commit, cart updates (``immediate=True``) get one attempt with the short
   ``IMMEDIATE_TIMEOUT`` so the next page already shows the discount. Everything else (and a
   failed immediate attempt) goes to Celery (``django_talon.deliver_outbox_key``, imported
   lazily by name) or, without Celery, is delivered synchronously in the same process.
3. :func:`deliver_key` delivers the rows of one key strictly in order. It locks the oldest
   pending row of the key with ``SELECT ... FOR UPDATE NOWAIT``; a second process finds it
   locked and leaves (the holder drains the key), so one session is never updated in
   parallel (Talon.One would answer 409). SQLite serialises writers anyway. Each attempt is
   counted and committed, with a lease, before the API call (see :func:`_deliver_head`), so
   a worker killed mid-call still uses it up. Several rows of one key queued in one
   transaction schedule one post-commit delivery (:func:`_schedule`).
4. Coalescing: a cart update followed by a newer update of the same session is marked
   ``superseded`` without a call; an update whose payload equals the last delivered one is
   marked ``unchanged`` without a call.
5. Failures retry with exponential backoff; after ``MAX_ATTEMPTS`` the row is a dead letter
   (:func:`dead_letters`, :func:`retry_dead`, :func:`purge_dead`). Erasures never die: they
   are retried until Talon.One confirms.
6. :func:`relay` (periodic) delivers due rows; :func:`sweep` re-drives rows that nobody
   delivered (a worker killed mid-task, a lost Celery message) and purges old done rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, OperationalError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from django_talon import resilience
from django_talon.conf import talon_settings
from django_talon.models import OutboxMessage

if TYPE_CHECKING:
    from django_talon.client import TalonClient

logger = logging.getLogger("django_talon.outbox")

#: Celery task names (registered by ``django_talon.tasks``; sent by name so this module never
#: imports Celery at import time).
DELIVER_TASK = "django_talon.deliver_outbox_key"
#: Keys a relay piggy-backed on a web request (sync mode) handles at most.
SYNC_RELAY_KEYS = 10
RELAY_TASK = "django_talon.relay_outbox"

PENDING = "pending"
DONE = "done"
DEAD = "dead"
#: ``result`` of a dead letter made pending again by :func:`retry_dead`.
RETRIED = "retried"


class PermanentError(Exception):
    """Raised by a handler when retrying cannot help (the row becomes a dead letter at once)."""


Handler = Callable[[OutboxMessage, "TalonClient"], str]


@dataclass(frozen=True)
class Operation:
    """A kind of outbox row and how to deliver it."""

    name: str
    handler: Handler
    #: Newer rows of these operations on the same key make this row obsolete (coalescing).
    superseded_by: tuple[str, ...] = ()
    #: Retry forever instead of dead-lettering (erasure must eventually succeed).
    never_dead: bool = False
    on_failure: Callable[[OutboxMessage, BaseException], None] | None = None
    on_dead: Callable[[OutboxMessage, BaseException], None] | None = None


_registry: dict[str, Operation] = {}


def register(operation: Operation) -> Operation:
    """Register a handler (``django_talon.services.handlers`` registers the built-in ones)."""
    _registry[operation.name] = operation
    return operation


def get_operation(name: str) -> Operation:
    if not _registry:
        import django_talon.services.handlers  # noqa: F401  (registers on import)
    try:
        return _registry[name]
    except KeyError:
        raise KeyError(f"unknown outbox operation {name!r}") from None


def fingerprint(payload: Any) -> str:
    """Stable hash of a JSON payload (key order does not matter)."""
    data = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode()).hexdigest()


# -- enqueue ----------------------------------------------------------------------------------
def enqueue(
    operation: str,
    key: str,
    payload: dict[str, Any],
    *,
    fingerprint_value: str = "",
    immediate: bool = False,
    deliver: bool = True,
) -> OutboxMessage:
    """Insert a row in the current transaction and schedule delivery after commit.

    ``immediate=True`` (cart updates) makes one short-timeout attempt right after commit.
    ``deliver=False`` only writes the row (the caller delivers it, e.g. fail-closed orders).
    Costs one INSERT.
    """
    get_operation(operation)  # fail fast on a typo, before the row exists
    message: OutboxMessage = OutboxMessage.objects.create(
        operation=operation,
        key=key,
        payload=payload,
        fingerprint=fingerprint_value or fingerprint(payload),
    )
    if deliver:
        _schedule(key, immediate=immediate)
    return message


class _KeyDelivery:
    """The post-commit callback of one key (``immediate`` can be upgraded while queued)."""

    def __init__(self, key: str, immediate: bool) -> None:
        self.key = key
        self.immediate = immediate
        self.ran = False

    def __call__(self) -> None:
        self.ran = True
        _after_commit(self.key, immediate=self.immediate)


def _schedule(key: str, *, immediate: bool) -> None:
    """Deliver ``key`` after the current transaction commits, once per key per transaction.

    One delivery drains every row of the key, so a second callback for the same key would
    only cost a "nothing left" query. The callbacks already scheduled are remembered on the
    connection together with the identity of Django's ``run_on_commit`` list: Django replaces
    that list on commit, rollback and savepoint rollback, so a changed list means "forget
    what you remember" (a callback discarded with a rolled-back savepoint is then scheduled
    again rather than silently missing; at worst a key is scheduled twice). A callback that
    already ran without the list changing (``TestCase.captureOnCommitCallbacks(execute=True)``
    runs them inside the test's transaction) does not count as scheduled.
    """
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        _after_commit(key, immediate=immediate)  # autocommit: on_commit would run it now
        return
    hooks = conn.run_on_commit
    memo: tuple[list[Any], dict[str, _KeyDelivery]] | None = getattr(
        conn, "_django_talon_scheduled", None
    )
    if memo is None or memo[0] is not hooks:
        memo = (hooks, {})
        conn._django_talon_scheduled = memo
    scheduled = memo[1].get(key)
    if scheduled is not None and not scheduled.ran:
        scheduled.immediate = scheduled.immediate or immediate
        return
    callback = _KeyDelivery(key, immediate)
    memo[1][key] = callback
    transaction.on_commit(callback)


def celery_enabled() -> bool:
    """Deliver through Celery? ``DELIVERY`` = ``celery`` / ``sync``, or ``auto``: Celery when it
    is installed and the current Celery app has a broker configured (or runs eagerly)."""
    mode = talon_settings.DELIVERY
    if mode == "sync":
        return False
    if mode == "celery":
        return True
    try:
        from celery import current_app
    except ImportError:
        return False
    conf = current_app.conf
    return bool(conf.broker_url or conf.task_always_eager)


def dispatch(key: str, *, countdown: float | None = None) -> None:
    """Ask Celery to deliver a key; delivers inline when Celery is off or unreachable."""
    if not celery_enabled():
        deliver_key(key)
        return
    try:
        from celery import current_app

        if current_app.conf.task_always_eager:
            task = current_app.tasks.get(DELIVER_TASK)
            if task is not None:
                task.apply(args=(key,))
            else:
                deliver_key(key)
            return
        current_app.send_task(DELIVER_TASK, args=[key], countdown=countdown)
    except Exception as exc:  # broker down: the row is safe in the DB; relay/sweep re-drive it
        logger.warning("could not hand outbox key %s to Celery (%s); relay will retry", key, exc)


def _after_commit(key: str, *, immediate: bool) -> None:
    """Runs after the caller's transaction committed. Never raises into the caller."""
    try:
        if immediate and talon_settings.IMMEDIATE_ATTEMPT:
            report = deliver_key(key, immediate=True)
            if report.remaining and celery_enabled():
                dispatch(key, countdown=report.retry_in)
        elif celery_enabled():
            dispatch(key)
        else:
            # Without Celery this runs inside the web request: short timeout, no client
            # retries; a failure waits for the relay instead of holding the response.
            deliver_key(key, immediate=True)
        if not celery_enabled():
            _maybe_sync_relay()
    except Exception:
        logger.exception("delivering outbox key %s after commit failed; relay will retry", key)


def _maybe_sync_relay() -> None:
    """Without Celery, piggy-back a relay on a request at most every ``SYNC_RELAY_INTERVAL`` s."""
    interval = float(talon_settings.SYNC_RELAY_INTERVAL)
    if interval <= 0:
        return
    from django.core.cache import caches

    cache = caches[str(talon_settings.CACHE_ALIAS)]
    if cache.add("django_talon:sync_relay", True, max(1, int(interval))):
        # A customer is waiting: a few keys, short timeouts.
        relay(SYNC_RELAY_KEYS, immediate=True)


# -- delivery ---------------------------------------------------------------------------------
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


class _Busy(Exception):
    pass


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


def backoff(attempts: int) -> float:
    """Seconds to wait before attempt ``attempts + 1``: base * 2**(attempts-1), capped."""
    base = float(talon_settings.RETRY_BACKOFF)
    return float(min(float(talon_settings.RETRY_BACKOFF_MAX), base * (2 ** max(0, attempts - 1))))


def _classify_permanent(exc: BaseException) -> bool:
    from django_talon.client.errors import (
        TalonBadRequest,
        TalonNotFound,
        TalonValidationError,
    )

    return isinstance(exc, PermanentError | TalonBadRequest | TalonNotFound | TalonValidationError)


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
    attempt was recorded). Safe to call concurrently and twice: a key being delivered by
    another process is reported ``busy``.
    """
    report = DeliveryReport(key=key)
    for _ in range(max_rows):
        try:
            outcome = _deliver_head(key, report, immediate=immediate, force=force)
        except _Busy:
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


@dataclass
class _Claim:
    """A head row whose attempt was counted and committed; the API call comes next."""

    message: OutboxMessage
    operation: Operation
    more: str  # "next" | "drained": what follows once this row is done


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
            raise _Busy() from exc
        raise
    if isinstance(claimed, str):
        return claimed
    try:
        with transaction.atomic():
            return _call_claimed(claimed, report, immediate=immediate)
    except OperationalError as exc:
        if _is_lock_error(exc):
            raise _Busy() from exc
        raise


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
        report.last_exception = _unavailable("Talon.One calls are switched off (kill switch)")
        return "disabled"
    if head.attempts >= int(talon_settings.MAX_ATTEMPTS) and not operation.never_dead:
        # Every allowed attempt was claimed and the last one never finished (a failure would
        # have dead-lettered the row already): its worker died mid-call. Give up without
        # another call, so a message that kills workers cannot kill them forever.
        _record_failure(head, operation, _unfinished(head), report, now)
        return "failed"
    if not resilience.breaker.allow():
        until = resilience.breaker.open_until()
        if until is not None:
            head.next_attempt_at = max(now, datetime.fromtimestamp(until, tz=dt_timezone.utc))
            head.save(update_fields=["next_attempt_at", "updated_at"])
        report.retry_in = float(talon_settings.BREAKER_COOLDOWN)
        report.last_exception = _unavailable("Talon.One is unavailable (circuit open)")
        return "circuit_open"
    head.attempts += 1
    head.next_attempt_at = now + timedelta(seconds=backoff(head.attempts))
    head.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
    return _Claim(head, operation, more)


def _unfinished(message: OutboxMessage) -> BaseException:
    return PermanentError(
        f"attempt {message.attempts} never finished (the worker died or lost its database "
        f"connection during the call); previous error: {message.last_error or 'none'}"
    )


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
    client = resilience.get_client(immediate=immediate)
    try:
        result = operation.handler(head, client)
    except DatabaseError:
        raise
    except Exception as exc:
        _record_failure(head, operation, exc, report, timezone.now())
        return "failed"
    resilience.breaker.record_success()
    _finish(head, result or "sent", timezone.now())
    if result in ("unchanged", "superseded"):
        report.skipped += 1
    else:
        report.sent += 1
    return claim.more


def _superseded(head: OutboxMessage, following: OutboxMessage | None, operation: Operation) -> bool:
    """Coalescing: a newer row of a superseding operation makes ``head`` obsolete.

    The next pending row answers it for free. A row revived by :func:`retry_dead` also checks
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


def _unavailable(text: str) -> BaseException:
    from django_talon.exceptions import TalonUnavailable

    return TalonUnavailable(text)


def _finish(message: OutboxMessage, result: str, now: datetime) -> None:
    message.state = DONE
    message.result = result
    message.delivered_at = now
    message.last_error = ""
    message.save(update_fields=["state", "result", "delivered_at", "last_error", "updated_at"])


def _record_failure(
    message: OutboxMessage,
    operation: Operation,
    exc: BaseException,
    report: DeliveryReport,
    now: datetime,
) -> None:
    """Record a failed attempt (already counted by its claim): back off, or dead-letter."""
    if resilience.is_outage(exc):
        resilience.breaker.record_failure()
    message.last_error = resilience.describe(exc)
    report.failed += 1
    report.errors.append(message.last_error)
    report.last_exception = exc
    permanent = _classify_permanent(exc)
    give_up = permanent or message.attempts >= int(talon_settings.MAX_ATTEMPTS)
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
        from django_talon.signals import outbox_message_dead

        outbox_message_dead.send(sender=OutboxMessage, message=message, error=message.last_error)


# -- relay, sweep, dead letters ---------------------------------------------------------------
def _due_keys(qs: QuerySet[OutboxMessage], limit: int) -> list[str]:
    keys: list[str] = []
    seen: set[str] = set()
    for key in qs.order_by("next_attempt_at", "id").values_list("key", flat=True)[: limit * 10]:
        if key not in seen:
            seen.add(key)
            keys.append(key)
            if len(keys) >= limit:
                break
    return keys


def relay(
    limit: int | None = None, *, dispatch_tasks: bool = False, immediate: bool = False
) -> int:
    """Deliver keys with due pending rows (at most ``limit`` keys). Returns the keys handled.

    ``dispatch_tasks=True`` hands each key to Celery instead of delivering inline (a relay
    task fans out to workers); ``immediate=True`` uses the short-timeout client.
    """
    limit = int(limit or talon_settings.RELAY_BATCH_SIZE)
    keys = _due_keys(
        OutboxMessage.objects.filter(state=PENDING, next_attempt_at__lte=timezone.now()), limit
    )
    for key in keys:
        try:
            if dispatch_tasks:
                dispatch(key)
            else:
                deliver_key(key, immediate=immediate)
        except Exception:
            logger.exception("relay: delivering outbox key %s failed", key)
    return len(keys)


def sweep(*, dispatch_tasks: bool = False) -> dict[str, int]:
    """Re-drive rows nobody delivered and purge old done rows.

    A row is "stranded" when it has been due for more than ``SWEEP_AFTER`` seconds: its worker
    died (SIGKILL, OOM) or its Celery message was lost. Rows are never marked "in progress",
    so a dead worker's database lock is released with its connection and the row is simply
    pending again.
    """
    now = timezone.now()
    stranded = OutboxMessage.objects.filter(
        state=PENDING,
        next_attempt_at__lte=now - timedelta(seconds=float(talon_settings.SWEEP_AFTER)),
    )
    keys = _due_keys(stranded, int(talon_settings.RELAY_BATCH_SIZE))
    for key in keys:
        try:
            if dispatch_tasks:
                dispatch(key)
            else:
                deliver_key(key)
        except Exception:
            logger.exception("sweep: delivering outbox key %s failed", key)
    purged, _ = OutboxMessage.objects.filter(
        state=DONE,
        updated_at__lt=now - timedelta(seconds=float(talon_settings.DONE_RETENTION)),
    ).delete()
    return {"redriven": len(keys), "purged": purged}


def dead_letters() -> QuerySet[OutboxMessage]:
    """Rows given up on, oldest first."""
    qs: QuerySet[OutboxMessage] = OutboxMessage.objects.filter(state=DEAD).order_by("id")
    return qs


def retry_dead(
    ids: Iterable[int] | None = None, *, key: str | None = None, deliver: bool = True
) -> int:
    """Make dead letters pending again (attempts reset) and deliver them. Returns the count.

    A retried cart update older than an already delivered one is marked ``superseded`` rather
    than sent, so retrying never moves a cart back in time.
    """
    qs = dead_letters()
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    if key is not None:
        qs = qs.filter(key=key)
    keys = sorted(set(qs.values_list("key", flat=True)))
    count = qs.update(
        state=PENDING,
        attempts=0,
        result=RETRIED,
        next_attempt_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if deliver:
        for k in keys:
            _schedule(k, immediate=False)
    return count


def purge_dead(ids: Iterable[int] | None = None, *, older_than: timedelta | None = None) -> int:
    """Delete dead letters (all, the given ids, or those older than ``older_than``)."""
    qs = dead_letters()
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    if older_than is not None:
        qs = qs.filter(updated_at__lt=timezone.now() - older_than)
    deleted, _ = qs.delete()
    return deleted


def pending(key: str | None = None) -> QuerySet[OutboxMessage]:
    """Pending rows (optionally of one key), oldest first."""
    qs: QuerySet[OutboxMessage] = OutboxMessage.objects.filter(state=PENDING).order_by("id")
    return qs.filter(key=key) if key is not None else qs
