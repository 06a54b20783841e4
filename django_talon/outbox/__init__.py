"""Durable outbox: every Integration API write is a row written in the caller's transaction.

Flow (docs/outbox.md), one module per step:

* :mod:`~django_talon.outbox.registry`: the kinds of rows (:class:`Operation`, registered by
  :mod:`django_talon.services.handlers` when the app is ready), :class:`PermanentError`,
  :func:`fingerprint`.
* :mod:`~django_talon.outbox.scheduling`: :func:`enqueue` writes the row in the caller's
  transaction; after commit a cart update gets one short-timeout attempt, everything else
  goes to Celery or is delivered in-process; :func:`relay` delivers the due rows.
* :mod:`~django_talon.outbox.delivery`: :func:`deliver_key` delivers one key's rows strictly
  in order (claim, then the guarded call), with coalescing (``superseded``/``unchanged``),
  exponential backoff and dead letters after ``MAX_ATTEMPTS`` (erasures never die).
* :mod:`~django_talon.outbox.maintenance`: :func:`sweep` re-drives rows nobody delivered and
  purges old done rows; :func:`dead_letters`, :func:`retry_dead`, :func:`purge_dead`,
  :func:`pending`.

Everything is re-exported here: ``from django_talon import outbox; outbox.deliver_key(key)``
is the documented way in. Code that wants to replace a step in a test patches the module
that looks it up (e.g. ``outbox.scheduling.deliver_key`` for the post-commit delivery).
"""

from __future__ import annotations

from django_talon.outbox.delivery import DeliveryReport, backoff, deliver_key
from django_talon.outbox.maintenance import dead_letters, pending, purge_dead, retry_dead, sweep
from django_talon.outbox.registry import (
    DEAD,
    DONE,
    PENDING,
    RETRIED,
    Handler,
    Operation,
    PermanentError,
    fingerprint,
    get_operation,
    register,
)
from django_talon.outbox.scheduling import (
    DELIVER_TASK,
    RELAY_TASK,
    SYNC_RELAY_KEYS,
    celery_enabled,
    dispatch,
    due_keys,
    enqueue,
    relay,
    schedule,
)

__all__ = [
    "DEAD",
    "DELIVER_TASK",
    "DONE",
    "PENDING",
    "RELAY_TASK",
    "RETRIED",
    "SYNC_RELAY_KEYS",
    "DeliveryReport",
    "Handler",
    "Operation",
    "PermanentError",
    "backoff",
    "celery_enabled",
    "dead_letters",
    "deliver_key",
    "dispatch",
    "due_keys",
    "enqueue",
    "fingerprint",
    "get_operation",
    "pending",
    "purge_dead",
    "register",
    "relay",
    "retry_dead",
    "schedule",
    "sweep",
]
