"""Celery tasks: thin, idempotent wrappers over the outbox and the services.

Why they look like this:

- **Explicit names** (``django_talon.relay_outbox`` ...) so a beat schedule or a task
  routed from another code base never depends on this module's import path.
- **Ids as arguments**, never model instances: a message may be delivered long after it
  was sent, or twice; the task reloads the current state from the database.
- **Safe to run twice**: every task re-reads what is still to do (a delivered outbox row,
  a completed erasure or an already synced batch is skipped), so broker redelivery after a
  worker crash (``acks_late``) costs at most one repeated, idempotent API call.
- **Celery is optional**: without it this module still imports; each "task" is then a
  plain callable, and ``.delay()`` raises a clear error instead of silently doing nothing.
  The outbox only dispatches to Celery when ``TALON["DELIVERY"]`` (see docs) says so, and
  a system check reports that mode without Celery installed.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable
from datetime import date, datetime
from datetime import time as dt_time
from typing import Any

logger = logging.getLogger(__name__)

try:
    from celery import shared_task

    CELERY_INSTALLED = True
except ImportError:  # pragma: no cover - exercised by a subprocess test without celery
    CELERY_INSTALLED = False

    class _DirectCall:
        """The ``request`` of a task called as a plain function: not eager, never retried."""

        is_eager = False
        called_directly = True
        retries = 0

    class _TaskStandIn:
        """What a task is without Celery: the function itself, plus a loud ``delay``.

        A ``bind=True`` task gets the stand-in as ``self``; its ``request`` says "called
        directly" (not eager, no retries so far).
        """

        request = _DirectCall()

        def __init__(self, fun: Callable[..., Any], name: str, *, bind: bool = False) -> None:
            functools.update_wrapper(self, fun)
            self.name = name
            self.run = functools.partial(fun, self) if bind else fun

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return self.run(*args, **kwargs)

        def _no_celery(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError(
                f"{self.name}: Celery is not installed, so tasks cannot be queued. "
                "Install django-talon[celery], or call the task function directly."
            )

        delay = apply_async = _no_celery

    def shared_task(*args: Any, **options: Any) -> Any:  # type: ignore[no-redef]
        def decorate(fun: Callable[..., Any]) -> _TaskStandIn:
            name = options.get("name", fun.__name__)
            return _TaskStandIn(fun, name, bind=bool(options.get("bind")))

        return decorate(args[0]) if args and callable(args[0]) else decorate


class ErasureNotConfirmedError(Exception):
    """Talon.One has not confirmed an erasure yet; on a worker the task retries with backoff."""


#: The name the first release used (kept so ``except tasks.ErasureNotConfirmed`` still works).
ErasureNotConfirmed = ErasureNotConfirmedError


def _erase_retry_on() -> tuple[type[BaseException], ...]:
    """What makes ``erase_customer`` try again on a worker: a lost DB connection (and, see
    the task, no confirmation yet)."""
    from django.db import InterfaceError, OperationalError

    return (OperationalError, InterfaceError)


# On a worker: 10 s doubling up to one hour, jittered, with no limit on the number of retries.
# "Forever" is deliberate: erasure is a legal obligation, and every attempt is recorded on the
# DataDeletionRequest row (attempts, last_error), so a stuck one is visible in the admin and
# in `manage.py talon_erase --list`. The outbox row of the erasure is retried by the relay
# whatever this task does (RETRY_BACKOFF, never dead-lettered).
ERASE_RETRY_BACKOFF = 10
ERASE_RETRY_BACKOFF_MAX = 3600


def _retry_erasure(task: Any, exc: BaseException) -> BaseException:
    """Have Celery retry ``task`` after the erasure backoff (Celery's own ``retry_backoff``
    formula); raises. Without Celery (a plain function call) it raises ``exc`` itself."""
    if not CELERY_INSTALLED:
        raise exc
    from celery.utils.time import get_exponential_backoff_interval

    countdown = get_exponential_backoff_interval(
        factor=ERASE_RETRY_BACKOFF,
        retries=task.request.retries,
        maximum=ERASE_RETRY_BACKOFF_MAX,
        full_jitter=True,
    )
    retry: BaseException = task.retry(exc=exc, countdown=countdown)
    return retry


def _jsonable(value: Any) -> Any:
    """Task results go through the result backend: keep them small and JSON-serialisable."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    return str(value)


@shared_task(name="django_talon.deliver_outbox_key", acks_late=True, ignore_result=True)
def deliver_outbox_key(key: str) -> Any:
    """Deliver the pending outbox rows of one ordering key (one customer session/profile).

    The outbox locks the key in the database, so two workers given the same key never call
    the API in parallel for it (Talon.One answers 409 to that); a second run finds nothing.
    """
    from django_talon import outbox

    return _jsonable(outbox.deliver_key(key))


@shared_task(name="django_talon.relay_outbox", acks_late=True, ignore_result=True)
def relay_outbox(limit: int | None = None, fan_out: bool = False) -> Any:
    """Deliver due outbox rows (the periodic path; run every few seconds by beat).

    ``limit`` defaults to ``TALON["RELAY_BATCH_SIZE"]`` keys. ``fan_out=True`` hands each
    key to a ``deliver_outbox_key`` task instead of delivering inline, spreading a large
    backlog over all workers.
    """
    from django_talon import outbox

    return _jsonable(outbox.relay(limit, dispatch_tasks=fan_out))


@shared_task(name="django_talon.sweep_outbox", acks_late=True, ignore_result=True)
def sweep_outbox(fan_out: bool = False) -> Any:
    """Re-drive rows left by a crashed worker (or a lost message) and purge old done rows."""
    from django_talon import outbox

    return _jsonable(outbox.sweep(dispatch_tasks=fan_out))


@shared_task(bind=True, name="django_talon.erase_customer", acks_late=True, max_retries=None)
def erase_customer(self: Any, deletion_request_id: int) -> bool:
    """Deliver the erasure of one :class:`~django_talon.models.DataDeletionRequest` now.

    django-talon itself never sends this task: an erasure recorded by
    :func:`django_talon.services.erase_customer` is an outbox row (``customer.erase`` on key
    ``profile:<id>``) that ``deliver_outbox_key`` and the relay deliver and retry until
    Talon.One confirms. This task is for a shop's own code (a support tool, a queue of
    requests) that wants one request delivered now, on a worker: it runs
    :func:`~django_talon.services.process_erasure` and, on a worker, retries itself with
    backoff (10 s doubling to 1 h, no limit) until Talon.One confirms or the relay got there
    first. A completed (or unknown) request returns True at once, so running it twice is
    harmless; called as a plain function it raises :class:`ErasureNotConfirmedError`.

    Eager Celery (``CELERY_TASK_ALWAYS_EAGER``) runs a retry inline, at once and
    recursively: against a Talon.One that refuses, that blocked the caller for half a
    minute and ended in a ``RecursionError`` (or a bare ``celery.exceptions.Retry`` with
    ``EAGER_PROPAGATES``). Eagerly it therefore makes one attempt and returns False when
    Talon.One has not confirmed: the outbox row stays pending and the relay retries it.
    """
    from django_talon import services

    pk = int(deletion_request_id)
    eager = bool(self.request.is_eager)
    try:
        if services.process_erasure(pk):
            return True
    except _erase_retry_on() as exc:
        if eager:
            raise  # the caller's own database failed: its error, not an inline retry loop
        raise _retry_erasure(self, exc) from exc
    from django_talon.models import DataDeletionRequest

    request = DataDeletionRequest.objects.filter(pk=pk).first()
    detail = request.last_error if request is not None else ""
    reason = ErasureNotConfirmedError(
        f"erasure {pk} not confirmed yet" + (f": {detail}" if detail else "")
    )
    if eager:
        logger.warning(
            "%s; eager Celery does not retry it inline: the relay retries its outbox row", reason
        )
        return False
    raise _retry_erasure(self, reason)


def _since(value: Any) -> datetime | None:
    """``sync_profiles``'s ``since``: a datetime, a date (midnight) or an ISO string.

    A ``datetime`` is what a shop passes (``timezone.now() - timedelta(days=7)``) and what
    kombu's JSON serializer hands back for one; a naive value is the shop's local time
    (``TIME_ZONE``). The command's relative forms (``7d``) are not taken: a task may run
    long after it was sent, and "7 days" would then count from the run, not the sending.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, dt_time.min)
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        try:
            moment = parse_datetime(value.strip())
        except ValueError:  # well formed, but no such moment (2026-02-30)
            moment = None
        if moment is not None:
            return moment
    raise ValueError(
        f"since must be a datetime or an ISO date-time string (2026-01-31T12:00[+01:00] or "
        f"2026-01-31), got {value!r}; compute a relative time (7d) when sending the task"
    )


@shared_task(name="django_talon.sync_profiles", acks_late=True)
def sync_profiles(
    batch_size: int | None = None,
    since: datetime | str | None = None,
    force: bool = False,
    max_batches: int | None = None,
) -> Any:
    """Bulk profile sync (``PUT /v2/customer_profiles``, ≤ 1000 per call), resumable.

    ``since``: a ``datetime`` or an ISO date-time string (see :func:`_since`). The
    checkpoint lives in the cache (``TALON["CACHE_ALIAS"]``): a redelivered task after a
    worker crash continues after the last delivered batch instead of starting over.
    ``batch_size`` (1-1000) and ``max_batches`` (1 or more), when given, are checked like
    the command's options: a ``ValueError`` otherwise.
    """
    from django_talon.services import bulk_sync

    # Refused like the command's --batch-size/--max-batches (0 silently meant the default
    # batch size, and no batch at all).
    _count("batch_size", batch_size, bulk_sync.MAX_BATCH_SIZE)
    _count("max_batches", max_batches)
    result = bulk_sync.sync_profiles(
        batch_size=batch_size, since=_since(since), force=force, max_batches=max_batches
    )
    return _jsonable(result)


def _count(name: str, value: Any, maximum: int | None = None) -> None:
    """Refuse a ``sync_profiles`` count that is given but is no whole number in range."""
    if value is None:
        return
    in_range = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    if not in_range or (maximum is not None and value > maximum):
        bounds = f"between 1 and {maximum}" if maximum is not None else "a whole number >= 1"
        raise ValueError(f"{name} must be {bounds}, got {value!r}")


@shared_task(name="django_talon.sync_audiences", acks_late=True)
def sync_audiences(
    audience_id: int, add: list[str] | None = None, remove: list[str] | None = None
) -> int:
    """Add/remove integration ids to/from an audience, ≤ 1000 actions per API call."""
    from django_talon.services import bulk_memberships

    return bulk_memberships.sync_audiences(audience_id, add=add or (), remove=remove or ())


@shared_task(name="django_talon.sync_reservations", acks_late=True)
def sync_reservations(coupon_code: str, application: str | None = None) -> Any:
    """Reconcile the local reservations of one coupon code with Talon.One (the coupon's
    Application: the default one when not named)."""
    from django_talon.services import bulk_memberships

    return _jsonable(bulk_memberships.sync_reservations(coupon_code, application=application))


def beat_schedule(
    *, relay_seconds: float = 10.0, sweep_seconds: float = 60.0, fan_out: bool = False
) -> dict[str, dict[str, Any]]:
    """A ready-made ``CELERY_BEAT_SCHEDULE`` fragment for the relay and the sweeper.

    Usage in settings: ``CELERY_BEAT_SCHEDULE = {**beat_schedule(), ...}``.
    The relay picks up whatever the immediate after-commit attempt could not deliver; the
    sweeper recovers rows whose worker died. Both are cheap when there is nothing to do
    (one indexed query), so short intervals are fine.

    ``fan_out=True`` makes the relay and the sweeper hand each key to a
    ``deliver_outbox_key`` task instead of delivering it inline. Inline is the default
    because it measured faster (benchmarks/outbox_scaling.py, "relayed/s": about twice the
    backlog rows/s with 2 and 4 workers): it saves a broker round trip per key, and relay
    runs overlap on several workers anyway (each finds the keys another holds busy and
    moves on), so a backlog is not left to one worker.
    """
    return {
        "django-talon-relay-outbox": {
            "task": "django_talon.relay_outbox",
            "schedule": relay_seconds,
            "kwargs": {"fan_out": fan_out},
            "options": {"expires": relay_seconds},
        },
        "django-talon-sweep-outbox": {
            "task": "django_talon.sweep_outbox",
            "schedule": sweep_seconds,
            "kwargs": {"fan_out": fan_out},
            "options": {"expires": sweep_seconds},
        },
    }
