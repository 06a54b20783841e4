"""Bulk profile sync: every shop user to Talon.One with ``PUT /v2/customer_profiles``.

Why it is shaped like this:

- **Batches of ≤ 1000** (the API's limit): 10,000 users cost 10 API calls, not 10,000.
- **Keyset pagination** (``pk > last_pk ORDER BY pk LIMIT n``), not OFFSET and not one
  long server-side cursor: each batch is one short query, memory is bounded by the batch
  size whatever the user count, and "where was I" is a single primary key.
- **Resumable**: after each delivered batch the last primary key is saved in a
  :class:`Checkpoint` (the Django cache by default, or a JSON file). A run that dies (a
  killed worker, a deploy, Ctrl-C) continues after the last delivered batch; re-sending a
  batch is harmless (the endpoint is an idempotent upsert).
- **Unchanged profiles are skipped**: the fingerprint of what Talon.One last received is
  on ``CustomerProfile.pushed_fingerprint``; ``force=True`` sends everything anyway.
- **Mirrors updated in bulk**: one SELECT and one upsert per batch (``INSERT ... ON
  CONFLICT DO UPDATE``) keep ``CustomerProfile`` (integration id, attributes last sent,
  last synced) in step, so the per-user signal path does not re-send what the bulk sync
  just delivered.
- **Erased customers are never re-sent**: a user whose integration id has a
  ``DataDeletionRequest`` (or an erased profile) is skipped, even if the shop kept the
  ``User`` row.
- **Dry run** builds every payload and counts, but calls nothing and writes nothing.
- The endpoint does not run the rule engine, so no effects come back to store.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from django_talon.conf import talon_settings
from django_talon.moments import for_shop
from django_talon.services.bulk_mirror import Row
from django_talon.services.bulk_mirror import record_profiles as _record_profiles
from django_talon.services.routing import checked_application

logger = logging.getLogger("django_talon.bulk_sync")

#: The API's limit for ``PUT /v2/customer_profiles``.
MAX_BATCH_SIZE = 1000

#: User fields tried, in order, to find "changed since" for ``since=``.
SINCE_FIELDS = ("updated_at", "modified_at", "modified", "last_modified", "updated")


# -- checkpoints ------------------------------------------------------------------------------
class Checkpoint(Protocol):
    """Where a run records how far it got (``None`` = nothing to resume)."""

    def load(self) -> dict[str, Any] | None: ...

    def save(self, state: dict[str, Any]) -> None: ...

    def clear(self) -> None: ...


class CacheCheckpoint:
    """Checkpoint in Django's cache (``TALON["CACHE_ALIAS"]``).

    Survives a crashed process when the cache is shared and persistent (Redis, Memcached,
    database cache); with the default per-process ``LocMemCache`` it only helps within one
    process. Use :class:`FileCheckpoint` (``--checkpoint-file``) otherwise.
    """

    def __init__(self, name: str = "default", *, timeout: int = 7 * 24 * 3600) -> None:
        self.key = f"django_talon:bulk_sync:{name}"
        self.timeout = timeout

    def _cache(self) -> Any:
        from django.core.cache import caches

        return caches[talon_settings.CACHE_ALIAS]

    def load(self) -> dict[str, Any] | None:
        value = self._cache().get(self.key)
        return dict(value) if isinstance(value, dict) else None

    def save(self, state: dict[str, Any]) -> None:
        self._cache().set(self.key, state, self.timeout)

    def clear(self) -> None:
        self._cache().delete(self.key)


class CheckpointPathError(ValueError):
    """A :class:`FileCheckpoint` path that can never hold the file (a directory, a path
    under a regular file, a device or a FIFO): refused when the checkpoint is made, before a batch is
    sent, instead of at the first save, where it read like an outage to resume from."""


class CheckpointNotSavedError(OSError):
    """A :class:`FileCheckpoint` could not be written (or removed): a batch was delivered
    but the progress a later run would resume from was not recorded. Not an outage:
    running again stops at the same save until the path (or the disk) is fixed. An
    ``OSError``, as the failed save raised before."""


class FileCheckpoint:
    """Checkpoint in a JSON file, replaced atomically (a crash never leaves half a file).

    The path is checked when the checkpoint is made (:class:`CheckpointPathError`); a save
    or clear that fails later raises :class:`CheckpointNotSavedError`. The temporary file
    is written next to the target: ``os.replace`` is atomic (and works at all) only within
    one file system.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        raw = os.fspath(path)
        self.path = Path(raw)
        problem = _checkpoint_path_problem(raw, self.path)
        if problem:
            raise CheckpointPathError(
                f"checkpoint file {raw!r} {problem}: give the path of a JSON file "
                "(it is created if missing)"
            )

    def load(self) -> dict[str, Any] | None:
        try:
            value = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logger.warning("ignoring unreadable bulk sync checkpoint %s: %s", self.path, exc)
            return None
        return value if isinstance(value, dict) else None

    def save(self, state: dict[str, Any]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        except OSError as exc:
            raise self._not_saved("save", exc) from exc
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(state, handle)
            os.replace(tmp, self.path)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise self._not_saved("save", exc) from exc
            raise

    def clear(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            raise self._not_saved("remove", exc) from exc

    def _not_saved(self, verb: str, exc: OSError) -> CheckpointNotSavedError:
        return CheckpointNotSavedError(
            f"could not {verb} the checkpoint {self.path}: {type(exc).__name__}: {exc}"
        )


def _checkpoint_path_problem(raw: str, path: Path) -> str:
    """Why ``path`` can never be a checkpoint file ("" when it can, as far as can be told
    before writing). ``Path`` drops a trailing ``/`` (``out/`` became the file ``out``,
    its temporary file one level up), hence the look at ``raw``."""
    if os.path.basename(raw) in ("", ".", ".."):
        return "names a directory"
    try:
        if path.is_dir():
            return "is a directory"
        if path.exists() and not path.is_file():
            return "is not a regular file"  # a device or a FIFO: os.replace would replace it
        for parent in path.absolute().parents:  # the nearest that exists must take the file
            if parent.exists():
                if not parent.is_dir():
                    return f"cannot be created: {parent} is not a directory"
                if not os.access(parent, os.W_OK | os.X_OK):
                    return f"cannot be created: no permission to write in {parent}"
                break
    except OSError as exc:  # e.g. a parent that may not be searched: no save would work
        return f"cannot be checked: {type(exc).__name__}: {exc}"
    return ""


class NullCheckpoint:
    """No resuming (dry runs, or when the caller does not want it)."""

    def load(self) -> dict[str, Any] | None:
        return None

    def save(self, state: dict[str, Any]) -> None:
        return None

    def clear(self) -> None:
        return None


# -- progress and result ----------------------------------------------------------------------
@dataclass
class BulkSyncProgress:
    """Passed to the ``progress`` callback after every batch."""

    processed: int  # users looked at in this run (sent + unchanged)
    total: int  # users this run has to look at (counted once at the start)
    sent: int
    unchanged: int
    batches: int
    last_pk: Any


@dataclass
class BulkSyncResult:
    """What a run did. ``api_calls`` equals the number of non-empty batches (0 in a dry run)."""

    processed: int = 0
    sent: int = 0
    unchanged: int = 0
    erased: int = 0  # users whose profile was erased (GDPR): never sent again
    batches: int = 0
    api_calls: int = 0
    total: int = 0
    dry_run: bool = False
    resumed_from: Any = None
    last_pk: Any = None
    completed: bool = False
    since: str | None = None
    sample: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


ProgressCallback = Callable[[BulkSyncProgress], None]


# -- helpers ------------------------------------------------------------------------------------
def profile_fingerprint(integration_id: str, attributes: dict[str, Any]) -> str:
    """The same fingerprint :func:`django_talon.services.sync_profile` queues, so that the
    per-user path and the bulk path agree on what Talon.One already has."""
    from django_talon import outbox

    return outbox.fingerprint({"integration_id": integration_id, "attributes": attributes})


def since_fields(model: type[models.Model] | None = None) -> tuple[str, ...]:
    """The fields :func:`since_filter` compares for ``model`` (default: ``AUTH_USER_MODEL``):
    the first of :data:`SINCE_FIELDS` it has, else those of ``date_joined`` and
    ``last_login`` it has. Raises ``ValueError`` when it has none of them.

    ``("last_login",)`` alone is a partial answer: a user who never logged in (or changed
    without logging in) is never "changed since"; :func:`since_warning` says so."""
    model = model or get_user_model()
    names = {f.name for f in model._meta.get_fields()}
    for name in SINCE_FIELDS:
        if name in names:
            return (name,)
    found = tuple(name for name in ("date_joined", "last_login") if name in names)
    if not found:
        raise ValueError(
            f"{model._meta.label} has no field telling when a user changed "
            f"(tried {', '.join(SINCE_FIELDS)}, date_joined, last_login): pass a queryset"
        )
    return found


def since_warning(model: type[models.Model] | None = None) -> str:
    """What a ``since`` run leaves out for ``model`` ("" when nothing): with ``last_login``
    as the only field, users who never logged in are skipped, which nobody would guess."""
    model = model or get_user_model()
    if since_fields(model) != ("last_login",):
        return ""
    return (
        f"{model._meta.label} has none of {', '.join(SINCE_FIELDS)} nor date_joined: "
        "'changed since' means 'logged in since', so users who never logged in (or changed "
        "without logging in) are skipped. Run without since (unchanged profiles are not "
        "sent again), or pass a queryset."
    )


def since_filter(model: type[models.Model], since: datetime) -> Q:
    """Users changed since ``since``: the first of :data:`SINCE_FIELDS` the model has, else
    (Django's default user) joined or logged in since then (:func:`since_fields`).

    ``since`` is compared in the shop's convention (:func:`~django_talon.moments.for_shop`):
    SQLite and MySQL refuse an aware value under ``USE_TZ = False``, and a naive one under
    ``USE_TZ = True`` is the current time zone's."""
    since = for_shop(since)
    query = Q()
    for name in since_fields(model):
        query |= Q(**{f"{name}__gte": since})
    return query


def _jsonable_pk(pk: Any) -> Any:
    return pk if isinstance(pk, int) else str(pk)


def _run_signature(
    since: datetime | None, selection: str | None, queryset: QuerySet[Any] | None
) -> dict[str, Any]:
    """What must match for a checkpoint to be resumed (a different run starts over).

    ``selection`` names the ``since`` as the user gave it (``"7d"``): a relative value is a
    different instant on every run, yet an interrupted ``--since 7d`` run must resume.
    """
    return {
        "since": selection if selection is not None else (since.isoformat() if since else None),
        "query": str(queryset.query) if queryset is not None else None,
    }


# -- the sync -----------------------------------------------------------------------------------


def sync_profiles(
    *,
    batch_size: int | None = None,
    since: datetime | None = None,
    dry_run: bool = False,
    force: bool = False,
    resume: bool = True,
    checkpoint: Checkpoint | None = None,
    progress: ProgressCallback | None = None,
    queryset: QuerySet[Any] | None = None,
    max_batches: int | None = None,
    client: Any = None,
    selection: str | None = None,
) -> BulkSyncResult:
    """Send every user (or those changed ``since``) to Talon.One in batches.

    ``queryset`` narrows the users (default: all of ``AUTH_USER_MODEL``). ``max_batches``
    stops early with the checkpoint saved (a time-sliced task, or a test simulating a crash).
    ``selection`` is how the caller spelled ``since`` (e.g. ``"7d"``); a resumed run with the
    same spelling keeps the instant the interrupted run computed. ``client`` replaces the
    configured client (a stub in benchmarks); the calls still go through
    :func:`~django_talon.resilience.guarded`.
    Raises :class:`~django_talon.exceptions.TalonUnavailableError` when the kill switch or
    the circuit breaker forbids calls or Talon.One is unreachable, and
    :class:`~django_talon.exceptions.TalonRequestFailedError` when it refuses a batch; the
    checkpoint then still points after the last delivered batch.
    """
    from django_talon.adapters import get_adapter

    size = batch_size or talon_settings.SYNC_BATCH_SIZE
    if not 1 <= size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_SIZE}, got {size}")
    checkpoint = NullCheckpoint() if dry_run else (checkpoint or CacheCheckpoint())
    signature = _run_signature(since, selection, queryset)
    state = _resumable_state(checkpoint, signature) if resume else None
    if state and state.get("since"):
        since = datetime.fromisoformat(str(state["since"]))  # the interrupted run's instant
    base: QuerySet[Any] = (
        queryset if queryset is not None else get_user_model()._default_manager.all()
    )
    if since is not None:
        since = for_shop(since)
        base = base.filter(since_filter(base.model, since))
        if warning := since_warning(base.model):
            logger.warning("bulk profile sync since %s: %s", since.isoformat(), warning)

    result = BulkSyncResult(dry_run=dry_run, since=since.isoformat() if since else None)
    last_pk: Any = state.get("last_pk") if state else None
    result.resumed_from = last_pk
    result.total = (base if last_pk is None else base.filter(pk__gt=last_pk)).count()
    result.last_pk = last_pk

    adapter = get_adapter()
    while max_batches is None or result.batches < max_batches:
        page = base if last_pk is None else base.filter(pk__gt=last_pk)
        users = list(page.order_by("pk")[:size])
        if not users:
            result.completed = True
            break
        items, rows = _batch(users, adapter, force=force, result=result)
        if items and not dry_run:
            for application, (app_items, app_rows) in _by_application(items, rows, adapter):
                _send_batch(app_items, app_rows, client, application)
                result.api_calls += 1
        elif dry_run and len(result.sample) < 3:
            result.sample.extend(items[: 3 - len(result.sample)])

        last_pk = users[-1].pk
        result.batches += 1
        result.sent += len(items)
        result.processed += len(users)
        result.last_pk = _jsonable_pk(last_pk)
        checkpoint.save(
            {
                "signature": signature,
                "since": since.isoformat() if since else None,
                "last_pk": _jsonable_pk(last_pk),
                "saved_at": timezone.now().isoformat(),
            }
        )
        if progress is not None:
            progress(_progress(result))
        if len(users) < size:
            result.completed = True
            break

    if result.completed:
        checkpoint.clear()
    logger.info(
        "bulk sync %s: %d users, %d sent in %d call(s), %d unchanged%s",
        "finished" if result.completed else "paused",
        result.processed,
        result.sent,
        result.api_calls,
        result.unchanged,
        " (dry run)" if dry_run else "",
    )
    return result


def _resumable_state(checkpoint: Checkpoint, signature: dict[str, Any]) -> dict[str, Any] | None:
    """The checkpoint of an interrupted run of *this* selection (another selection starts over)."""
    state = checkpoint.load()
    if state and state.get("signature") != signature:
        logger.info("bulk sync: checkpoint is for another selection; starting over")
        return None
    return state


def _progress(result: BulkSyncResult) -> BulkSyncProgress:
    return BulkSyncProgress(
        processed=result.processed,
        total=result.total,
        sent=result.sent,
        unchanged=result.unchanged,
        batches=result.batches,
        last_pk=result.last_pk,
    )


def _batch(
    users: list[Any], adapter: Any, *, force: bool, result: BulkSyncResult
) -> tuple[list[dict[str, Any]], list[Row]]:
    """The payload items of one page of users, and the rows to mirror once it is delivered.

    Counts the erased and unchanged users on ``result``. Costs one SELECT of linked
    profiles, and for users without one, one SELECT each of profiles and erasures by id.
    """
    from django_talon.models import CustomerProfile, DataDeletionRequest

    fields = ("id", "user_id", "integration_id", "pushed_fingerprint", "erased_at", "application")
    linked = {
        p.user_id: p
        for p in CustomerProfile.objects.filter(user_id__in=[u.pk for u in users]).only(*fields)
    }
    # Users without a linked profile: their id may belong to an unlinked or an erased row.
    new_ids = {u.pk: adapter.integration_id(u) for u in users if u.pk not in linked}
    by_integration_id: dict[str, Any] = {}
    erased_ids: set[str] = set()
    if new_ids:
        wanted = list(new_ids.values())
        by_integration_id = {
            p.integration_id: p
            for p in CustomerProfile.objects.filter(integration_id__in=wanted).only(*fields)
        }
        erased_ids = set(
            DataDeletionRequest.objects.filter(integration_id__in=wanted).values_list(
                "integration_id", flat=True
            )
        )
    items: list[dict[str, Any]] = []
    rows: list[Row] = []
    for user in users:
        profile = linked.get(user.pk)
        if profile is None:
            integration_id = new_ids[user.pk]
            profile = by_integration_id.get(integration_id)
        else:
            integration_id = profile.integration_id
        if integration_id in erased_ids or (profile is not None and profile.erased_at):
            # Erased (GDPR): never send this customer's data to Talon.One again.
            result.erased += 1
            continue
        attributes = dict(adapter.profile_attributes(user))
        fingerprint = profile_fingerprint(integration_id, attributes)
        if profile is not None and profile.pushed_fingerprint == fingerprint and not force:
            result.unchanged += 1
            continue
        items.append({"integrationId": integration_id, "attributes": attributes})
        rows.append((user, profile, integration_id, attributes, fingerprint))
    return items, rows


def _by_application(
    items: list[dict[str, Any]], rows: list[Row], adapter: Any
) -> list[tuple[str, tuple[list[dict[str, Any]], list[Row]]]]:
    """A batch split by the Application each profile is written through: a known profile's
    own, the adapter's ``application_for_user`` for a new one (as a single profile sync
    chooses). One group, so one call, in a shop with one Application."""
    groups: dict[str, tuple[list[dict[str, Any]], list[Row]]] = {}
    for item, row in zip(items, rows, strict=True):
        user, profile = row[0], row[1]
        application = profile.application if profile is not None else None
        application = application or checked_application(
            adapter.application_for_user(user), "application_for_user"
        )
        group = groups.setdefault(application, ([], []))
        group[0].append(item)
        group[1].append(row)
    return list(groups.items())


def _send_batch(
    items: list[dict[str, Any]], rows: list[Row], client: Any, application: str
) -> None:
    """One ``PUT /v2/customer_profiles`` to ``application`` through the guarded call path,
    then the mirror (a new profile is bound to that Application)."""
    from django_talon import resilience

    with resilience.guarded("send a batch of profiles", application=application) as configured:
        (client or configured).update_customer_profiles_v2(items, silent=True)
    _record_profiles(rows, application)
