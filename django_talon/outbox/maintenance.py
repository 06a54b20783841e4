"""The operator's side of the outbox: re-driving stranded rows, purging, dead letters.

Used by the periodic sweep (``django_talon.sweep_outbox``), ``manage.py talon_outbox`` and
the admin. Rows are never marked "in progress", so nothing here has to repair state: a dead
worker's database lock is released with its connection and its row is simply pending again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from django_talon.conf import talon_settings
from django_talon.models import OutboxMessage
from django_talon.outbox.registry import DEAD, DONE, PENDING, RETRIED
from django_talon.outbox.scheduling import drive, due_keys, schedule


def sweep(*, dispatch_tasks: bool = False) -> dict[str, int]:
    """Re-drive rows nobody delivered and purge old done rows.

    A row is "stranded" when it has been due for more than ``SWEEP_AFTER`` seconds: its worker
    died (SIGKILL, OOM) or its Celery message was lost.
    """
    now = timezone.now()
    stranded = OutboxMessage.objects.filter(
        state=PENDING,
        next_attempt_at__lte=now - timedelta(seconds=talon_settings.SWEEP_AFTER),
    )
    keys = due_keys(stranded, talon_settings.RELAY_BATCH_SIZE)
    drive(keys, dispatch_tasks=dispatch_tasks, who="sweep")
    purged, _ = OutboxMessage.objects.filter(
        state=DONE,
        updated_at__lt=now - timedelta(seconds=talon_settings.DONE_RETENTION),
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
            schedule(k, immediate=False)
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
