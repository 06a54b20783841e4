"""Getting rows to a deliverer: the insert, the post-commit delivery, Celery, the relay.

1. :func:`enqueue` inserts an :class:`~django_talon.models.OutboxMessage` in the caller's
   transaction, so a rolled-back order never reaches Talon.One and a committed one is never
   lost.
2. After commit, cart updates (``immediate=True``) get one attempt with the short
   ``IMMEDIATE_TIMEOUT`` so the next page already shows the discount. Everything else (and a
   failed immediate attempt) goes to Celery (``django_talon.deliver_outbox_key``, sent by
   name) or, without Celery, is delivered synchronously in the same process. Several rows of
   one key queued in one transaction schedule one post-commit delivery (:func:`schedule`).
3. :func:`relay` (periodic, or piggy-backed on a request without Celery) delivers the keys
   whose rows are due: retries after a backoff, rows whose post-commit delivery was lost.

The relay lives here, next to the post-commit path that calls it in sync mode, so the
package's modules depend on each other one way: maintenance -> scheduling -> delivery ->
registry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from django_talon.conf import talon_settings
from django_talon.models import OutboxMessage
from django_talon.outbox.delivery import deliver_key, note_claimed
from django_talon.outbox.registry import PENDING, fingerprint, get_operation
from django_talon.transaction_memo import transaction_memo

logger = logging.getLogger("django_talon.outbox")

#: Celery task names (registered by ``django_talon.tasks``; sent by name so this module never
#: imports Celery at import time).
DELIVER_TASK = "django_talon.deliver_outbox_key"
RELAY_TASK = "django_talon.relay_outbox"
#: Keys a relay piggy-backed on a web request (sync mode) handles at most.
SYNC_RELAY_KEYS = 10


def enqueue(
    operation: str,
    key: str,
    payload: dict[str, Any],
    *,
    fingerprint_value: str = "",
    immediate: bool = False,
    deliver: bool = True,
    application: str = "default",
) -> OutboxMessage:
    """Insert a row in the current transaction and schedule delivery after commit.

    ``immediate=True`` (cart updates) makes one short-timeout attempt right after commit;
    that row is written *claimed* (``attempts = 1``, still due at once): the attempt is
    counted durably with the row, so the delivery after commit needs no claim transaction
    (docs/outbox.md, "A row claimed when written"). ``deliver=False`` only writes the row (the caller delivers it, e.g. fail-closed orders).
    ``application``: the Talon.One Application (a name of ``TALON["APPLICATIONS"]``) the row
    is delivered to, with that Application's client, breaker and kill switch.
    Costs one INSERT. A row for a customer erased in this transaction (see
    :func:`refuse_writes_for`) is stored already settled (``done``, result ``erased``,
    empty payload) and never delivered.
    """
    get_operation(operation)  # fail fast on a typo, before the row exists
    kept = _without_erased(operation, key, payload)
    if kept is None:
        # A write for a customer erased in this transaction (a cascade of the user's delete,
        # a receiver): kept as a settled row, never sent, never scheduled.
        refused: OutboxMessage = OutboxMessage.objects.create(
            operation=operation,
            key=key,
            payload={},
            state=OutboxMessage.State.DONE,
            result=ERASED,
            delivered_at=timezone.now(),
            application=application,
        )
        return refused
    if kept is not payload:  # an id list lost an erased customer: the old hash is wrong
        payload, fingerprint_value = kept, ""
    # The immediate attempt right after commit is claimed here, in the caller's transaction
    # (attempt counted), so the delivery needs no claim transaction of its own.
    claimed = deliver and immediate and talon_settings.IMMEDIATE_ATTEMPT
    message: OutboxMessage = OutboxMessage.objects.create(
        operation=operation,
        key=key,
        payload=payload,
        fingerprint=fingerprint_value or fingerprint(payload),
        attempts=1 if claimed else 0,
        application=application,
    )
    if claimed:
        note_claimed(key, message.pk)
    if deliver:
        schedule(key, immediate=immediate, claimed=message.pk if claimed else None)
    return message


# -- erased customers -------------------------------------------------------------------------
#: ``result`` of a row settled because its customer was erased (never sent).
ERASED = "erased"


@dataclass
class _Erased:
    """Customers erased in the current transaction: what :func:`enqueue` refuses."""

    integration_ids: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)
    allowed: set[str] = field(default_factory=set)


def refuse_writes_for(integration_id: str, keys: Iterable[str], *, allow: str) -> None:
    """Until the current transaction ends, :func:`enqueue` refuses rows for this customer.

    Called by the erasure, in its transaction: Django deletes a user's carts *after* the
    user's ``pre_delete`` (the erasure) in the same transaction, and the cart receivers then
    queue session writes naming the erased customer; delivered after the erasure's DELETE,
    they would re-create the profile in Talon.One. A row is refused when its key is one of
    ``keys`` (the profile's and its sessions' keys) or its payload names the customer
    (``integration_id``, ``customerSession.profileId``; an ``integration_ids`` list loses
    the id instead). Operation ``allow`` (the erasure itself) passes.

    Why in memory, not a query: ``enqueue`` costs one INSERT (the documented budgets), and
    rows queued by *later* transactions are refused at delivery, where the mirror row the
    handler reads anyway says the customer is erased. The memory is forgotten when Django
    replaces the connection's ``run_on_commit`` list (commit, rollback, savepoint rollback),
    as :func:`schedule` does, so a rolled-back erasure refuses nothing.
    """
    erased = _erased_memo(create=True)
    assert erased is not None
    erased.integration_ids.add(integration_id)
    erased.keys.update(keys)
    erased.allowed.add(allow)


def erased_in_transaction(integration_id: str | None = None) -> bool:
    """Was this customer (None: anybody) erased in the current transaction? (No query.)"""
    erased = _erased_memo(create=False)
    if erased is None:
        return False
    return integration_id is None or integration_id in erased.integration_ids


def _erased_memo(*, create: bool) -> _Erased | None:
    return transaction_memo("erased", _Erased, create=create)


def _without_erased(operation: str, key: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """``payload`` without the customers erased in this transaction; None: refuse the row."""
    erased = _erased_memo(create=False)
    if erased is None or operation in erased.allowed:
        return payload
    if key in erased.keys:
        return None
    ids = payload.get("integration_ids")
    if isinstance(ids, list) and erased.integration_ids.intersection(map(str, ids)):
        kept = [i for i in ids if str(i) not in erased.integration_ids]
        return {**payload, "integration_ids": kept} if kept else None
    body = payload.get("customerSession")
    named = {
        str(payload.get("integration_id") or ""),
        str(body.get("profileId") or "") if isinstance(body, dict) else "",
    }
    return None if named & erased.integration_ids else payload


class _KeyDelivery:
    """The post-commit callback of one key (``immediate`` can be upgraded while queued;
    ``claimed``: the rows written claimed, see :func:`enqueue`)."""

    def __init__(self, key: str, immediate: bool) -> None:
        self.key = key
        self.immediate = immediate
        self.claimed: list[int] = []
        self.ran = False

    def __call__(self) -> None:
        self.ran = True
        _after_commit(self.key, immediate=self.immediate, claimed=self.claimed)


def schedule(key: str, *, immediate: bool, claimed: int | None = None) -> None:
    """Deliver ``key`` after the current transaction commits, once per key per transaction.

    One delivery drains every row of the key, so a second callback for the same key would
    only cost a "nothing left" query. The callbacks already scheduled are remembered on the
    connection together with the identity of Django's ``run_on_commit`` list: Django replaces
    that list on commit, rollback and savepoint rollback, so a changed list means "forget
    what you remember" (a callback discarded with a rolled-back savepoint is then scheduled
    again rather than silently missing; at worst a key is scheduled twice). A callback that
    already ran without the list changing (``TestCase.captureOnCommitCallbacks(execute=True)``
    runs them inside the test's transaction) does not count as scheduled. ``claimed`` is
    the id of a row :func:`enqueue` wrote claimed; the delivery calls it without claiming.
    """
    memo: dict[str, _KeyDelivery] | None = transaction_memo("scheduled", dict)
    if memo is None:
        # Autocommit: on_commit would run it now.
        _after_commit(key, immediate=immediate, claimed=[] if claimed is None else [claimed])
        return
    scheduled = memo.get(key)
    if scheduled is None or scheduled.ran:
        scheduled = _KeyDelivery(key, immediate)
        memo[key] = scheduled
        transaction.on_commit(scheduled)
    scheduled.immediate = scheduled.immediate or immediate
    if claimed is not None:
        scheduled.claimed.append(claimed)


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


def _after_commit(key: str, *, immediate: bool, claimed: list[int] | None = None) -> None:
    """Runs after the caller's transaction committed. Never raises into the caller.

    Without a worker (no Celery, or eager Celery, which runs a task inside the web request)
    every call made here is a customer's wait: the short-timeout client without retries,
    never the background one (eager Celery's task used to make a profile write wait
    ``TIMEOUT`` x ``CLIENT_MAX_ATTEMPTS``, 20 s against a Talon.One that does not answer).
    """
    try:
        workers = celery_enabled() and not _celery_eager()
        if claimed or (immediate and talon_settings.IMMEDIATE_ATTEMPT):
            report = deliver_key(key, immediate=True, claimed=claimed or ())
            if report.remaining and workers:
                dispatch(key, countdown=report.retry_in)
        elif workers:
            dispatch(key)
        else:
            # Inside the web request: short timeout, no client retries; a failure waits
            # for the relay instead of holding the response.
            deliver_key(key, immediate=True)
        if not workers:
            # Nobody else retries: no worker, no beat (eager Celery runs tasks inline and
            # ignores countdowns), so a request piggy-backs the relay.
            _maybe_sync_relay()
    except Exception:
        logger.exception("delivering outbox key %s after commit failed; relay will retry", key)


def _celery_eager() -> bool:
    """Does the current Celery app run tasks inline (``task_always_eager``)?"""
    try:
        from celery import current_app
    except ImportError:
        return False
    return bool(current_app.conf.task_always_eager)


def _maybe_sync_relay() -> None:
    """Without Celery, piggy-back a relay on a request at most every ``SYNC_RELAY_INTERVAL`` s.

    A customer is waiting: a few keys, short timeouts, and all of them within one
    ``IMMEDIATE_TIMEOUT`` in all (``budget``), so a request never pays for more than one
    short call of other customers' retries (ten keys against a hanging Talon.One took 7.6 s).
    """
    interval = talon_settings.SYNC_RELAY_INTERVAL
    if interval <= 0:
        return
    from django.core.cache import caches

    cache = caches[talon_settings.CACHE_ALIAS]
    if cache.add("django_talon:sync_relay", True, max(1, int(interval))):
        relay(SYNC_RELAY_KEYS, immediate=True, budget=talon_settings.IMMEDIATE_TIMEOUT)


# -- the relay --------------------------------------------------------------------------------
def due_keys(qs: QuerySet[OutboxMessage], limit: int) -> list[str]:
    """The distinct keys of ``qs``'s rows, longest due first, at most ``limit``."""
    keys: list[str] = []
    seen: set[str] = set()
    for key in qs.order_by("next_attempt_at", "id").values_list("key", flat=True)[: limit * 10]:
        if key not in seen:
            seen.add(key)
            keys.append(key)
            if len(keys) >= limit:
                break
    return keys


def drive(
    keys: list[str],
    *,
    dispatch_tasks: bool,
    immediate: bool = False,
    who: str,
    budget: float | None = None,
) -> None:
    """Deliver each key inline, or hand it to Celery; one key's failure never stops the rest.

    ``budget`` (a customer is waiting): seconds for all inline deliveries together; each key
    gets what is left of it (``deliver_key``'s deadline), and no key starts once it is used up
    or once a key could not be delivered (Talon.One down for one key is down for the next):
    the rest stay due for the next relay.
    """
    deadline = None if budget is None else time.monotonic() + budget
    for key in keys:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            break
        try:
            if dispatch_tasks:
                dispatch(key)
                continue
            report = deliver_key(key, immediate=immediate, timeout=left)
        except Exception:
            logger.exception("%s: delivering outbox key %s failed", who, key)
            continue
        if deadline is not None and report.stopped not in ("", "empty", "busy", "not_due"):
            break


def relay_limit(value: Any, option: str = "limit") -> int:
    """``value`` as a relay's number of keys: a positive whole number (or its digits, as a
    message's JSON may carry it), else ValueError naming ``option`` (``limit``, ``--limit``)."""
    limit = 0
    if isinstance(value, int) and not isinstance(value, bool):
        limit = value
    elif isinstance(value, str) and value.strip().isdigit():
        limit = int(value)
    if limit < 1:
        raise ValueError(f"{option} must be a positive number of keys, got {value!r}")
    return limit


def relay(
    limit: int | None = None,
    *,
    dispatch_tasks: bool = False,
    immediate: bool = False,
    budget: float | None = None,
) -> int:
    """Deliver keys with due pending rows (at most ``limit`` keys). Returns the keys handled.

    ``dispatch_tasks=True`` hands each key to Celery instead of delivering inline (a relay
    task fans out to workers); ``immediate=True`` uses the short-timeout client; ``budget``
    bounds the inline deliveries' time in all (see :func:`drive`). ``limit`` None means
    ``RELAY_BATCH_SIZE``; anything but a positive whole number is refused (0 used to mean
    the default and a negative one failed deep in the query's slicing).
    """
    limit = talon_settings.RELAY_BATCH_SIZE if limit is None else relay_limit(limit)
    keys = due_keys(
        OutboxMessage.objects.filter(state=PENDING, next_attempt_at__lte=timezone.now()), limit
    )
    drive(keys, dispatch_tasks=dispatch_tasks, immediate=immediate, who="relay", budget=budget)
    return len(keys)
