"""Recording what the receivers could not sync (:class:`~django_talon.models.SyncProblem`).

A receiver never raises into the shop's save, so an adapter hook that raises, a value that
is not JSON or a failed ledger record would otherwise only reach a log. Recorded here, the
failure is visible in the admin and counted by ``talon_check`` until staff resolve it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from django_talon.adapters import split_model_key
from django_talon.conf import talon_settings
from django_talon.models import SyncProblem

logger = logging.getLogger("django_talon.problems")

__all__ = [
    "customer_subjects",
    "forget_problems",
    "open_problems",
    "record_problem",
    "resolve_problems",
    "subject_of",
]

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


# -- GDPR erasure -----------------------------------------------------------------------------
def customer_subjects(
    user: Any | None, cart_keys: Iterable[str], order_keys: Iterable[str] = ()
) -> set[str]:
    """The subjects a customer's problems are recorded under: the user, their carts (the
    sessions' cart keys, and the ``CART_MODELS`` rows pointing at the user: a cart whose
    sync failed may have no session), the lines of those carts (``CART_ITEM_MODELS``) and
    their orders (ledger order keys, and the ``ORDER_MODELS`` rows pointing at the user)."""
    carts = {k for k in cart_keys if k}
    subjects = {k for k in order_keys if k}
    if user is not None and getattr(user, "pk", None) is not None:
        subjects.add(subject_of(user))
        carts |= _owned(user, talon_settings.CART_MODELS)
        subjects |= _owned(user, talon_settings.ORDER_MODELS)
    return subjects | carts | _lines_of(carts)


def _models(labels: Iterable[str]) -> list[Any]:
    found = []
    for label in labels:
        try:
            found.append(apps.get_model(label))
        except (LookupError, ValueError):  # a wrong label: the app's checks report it
            logger.debug("no model %r", label)
    return found


def _owned(user: Any, labels: Iterable[str]) -> set[str]:
    """``'<label>:<pk>'`` of the rows of these models whose foreign key is the user."""
    user_model = user._meta.concrete_model
    subjects: set[str] = set()
    for model in _models(labels):
        for field in model._meta.concrete_fields:
            if field.many_to_one and field.related_model is user_model:
                pks = model._base_manager.filter(**{field.name: user}).values_list("pk", flat=True)
                subjects.update(f"{model._meta.label_lower}:{pk}" for pk in pks)
    return subjects


def _lines_of(cart_keys: set[str]) -> set[str]:
    """``'<label>:<pk>'`` of the cart lines of these carts (keys of the default
    ``'<app_label.model>:<pk>'`` form; an adapter's own key form names no lines)."""
    carts: dict[str, set[str]] = {}
    for key in cart_keys:
        label, pk = split_model_key(key)
        if label and pk:
            carts.setdefault(label, set()).add(pk)
    subjects: set[str] = set()
    for model in _models(talon_settings.CART_ITEM_MODELS):
        for field in model._meta.concrete_fields:
            related = field.related_model if field.many_to_one else None
            if related is None or related._meta.label_lower not in carts:
                continue
            pks = _valid_pks(related, carts[related._meta.label_lower])
            lines = model._base_manager.filter(**{f"{field.name}__in": pks})
            subjects.update(
                f"{model._meta.label_lower}:{pk}" for pk in lines.values_list("pk", flat=True)
            )
    return subjects


def _valid_pks(model: Any, values: set[str]) -> list[Any]:
    """The values that are primary keys of ``model`` (the rest were not such keys)."""
    valid = []
    for value in values:
        try:
            valid.append(model._meta.pk.to_python(value))
        except ValidationError:
            logger.debug("cart key part %r is not a %s pk", value, model._meta.label)
    return valid


def forget_problems(subjects: Iterable[str], *, mentioning: Iterable[str] = ()) -> int:
    """Delete the problems about ``subjects``, and those whose error quotes one of
    ``mentioning`` (an e-mail address). Returns the rows deleted.

    Why delete, not resolve: the GDPR erasure calls this, and a problem row keeps its
    subject and the error text an adapter raised (which may quote the customer's data);
    nothing is synced for an erased customer again, so there is nothing left to fix.
    """
    query = Q(subject__in=[s[:255] for s in subjects if s])
    for text in mentioning:
        if text:
            query |= Q(error__icontains=text)
    deleted: int = SyncProblem.objects.filter(query).delete()[0]
    return deleted
