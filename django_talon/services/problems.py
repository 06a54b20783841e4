"""Recording what the receivers could not sync (:class:`~django_talon.models.SyncProblem`).

A receiver never raises into the shop's save, so an adapter hook that raises, a value that
is not JSON or a failed ledger record would otherwise only reach a log. Recorded here, the
failure is visible in the admin and counted by ``talon_check`` until staff resolve it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from django_talon.models import SyncProblem

logger = logging.getLogger("django_talon.problems")

__all__ = ["open_problems", "record_problem", "resolve_problems", "subject_of"]

#: Longest error text stored (a traceback-free ``Type: message``).
MAX_ERROR = 2000


def subject_of(obj: Any) -> str:
    """A readable reference for a shop object: ``'<app_label.model>:<pk>'`` (``:unsaved``
    while it has no pk). Never calls an adapter hook: the hook may be what failed."""
    meta = getattr(obj, "_meta", None)
    label = meta.label_lower if meta is not None else type(obj).__qualname__
    pk = getattr(obj, "pk", None)
    return f"{label}:{pk if pk is not None else 'unsaved'}"


def record_problem(stage: str, subject: str, exc: BaseException) -> SyncProblem:
    """Store (or count again) an unresolved problem of ``stage`` for ``subject``.

    The same error for the same subject and stage bumps ``count`` and ``last_seen_at``
    instead of adding a row, so a broken adapter does not fill the table one row per cart
    save. Runs in the caller's transaction (the failed work was rolled back to its own
    savepoint by the receiver); costs one UPDATE, plus an INSERT the first time.
    """
    error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
    logger.error("django-talon could not sync %s (%s): %s", subject, stage, error)
    with transaction.atomic():
        open_rows = SyncProblem.objects.filter(
            stage=stage, subject=subject[:255], error=error, resolved=False
        )
        if open_rows.update(count=F("count") + 1, last_seen_at=timezone.now()):
            found: SyncProblem = open_rows.order_by("-id")[0]
            return found
        created: SyncProblem = SyncProblem.objects.create(
            stage=stage, subject=subject[:255], error=error
        )
        return created


def open_problems() -> QuerySet[SyncProblem]:
    """The problems nobody resolved yet (what ``talon_check`` counts)."""
    problems: QuerySet[SyncProblem] = SyncProblem.objects.filter(resolved=False)
    return problems


def resolve_problems(problems: QuerySet[SyncProblem]) -> int:
    """Mark problems resolved (the shop fixed its adapter, or the subject is gone)."""
    count: int = problems.filter(resolved=False).update(resolved=True, resolved_at=timezone.now())
    return count
