"""Catalog sync: the shop's products to a Talon.One cart item catalog (``PUT /v1/catalogs/{id}/sync``).

Why it is shaped like this (the same machinery as the bulk profile sync,
:mod:`django_talon.services.bulk_sync`, whose checkpoints this module reuses):

- **Batches of ≤ 1000 actions** (the API's limit), all of one type: every product becomes
  an ``ADD`` with ``replaceIfExists`` (an upsert), so 100,000 products cost 100 calls and a
  batch sent twice (a retry after a lost answer, a resumed run) leaves the catalog as once;
  the client retries it for that reason.
- **Keyset pagination** over the adapter's ``catalog_queryset()`` (``pk > last ORDER BY pk
  LIMIT n``): memory is bounded by the batch size whatever the product count, and "where
  was I" is one primary key.
- **Resumable**: after each delivered batch the last primary key is saved in a checkpoint
  (Django's cache, or a JSON file); an interrupted run continues after the last delivered
  batch. A checkpoint of another selection (catalog, queryset) is ignored.
- **The adapter decides** what an item is (``catalog_item(product)``; None leaves a
  product out) and its SKU (``product_sku``). Items are made JSON by
  :func:`django_talon.adapters.json_value`; a SKU repeated in one batch is an adapter bug
  and stops the run before anything of that batch is sent.
- Products the shop deleted are not removed from the catalog (an ``ADD`` cannot say so);
  remove them with ``client.sync_catalog(id, [{"type": "REMOVE", ...}])``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from django_talon.adapters import AdapterValueError, json_value
from django_talon.conf import talon_settings
from django_talon.services.bulk_sync import (
    MAX_BATCH_SIZE,
    CacheCheckpoint,
    Checkpoint,
    NullCheckpoint,
)

logger = logging.getLogger("django_talon.catalog")

__all__ = [
    "CatalogSyncProgress",
    "CatalogSyncResult",
    "catalog_checkpoint",
    "sync_catalog",
]


@dataclass
class CatalogSyncProgress:
    """Passed to the ``progress`` callback after every batch."""

    processed: int  # products looked at in this run
    total: int  # products this run has to look at (counted once at the start)
    sent: int
    skipped: int  # products the adapter left out (``catalog_item`` returned None)
    batches: int
    last_pk: Any


@dataclass
class CatalogSyncResult:
    """What a run did. ``api_calls`` is the number of non-empty batches (0 in a dry run);
    ``version`` is the catalog's version after the last delivered batch."""

    catalog_id: int
    processed: int = 0
    sent: int = 0
    skipped: int = 0
    batches: int = 0
    api_calls: int = 0
    total: int = 0
    dry_run: bool = False
    resumed_from: Any = None
    last_pk: Any = None
    completed: bool = False
    version: int | None = None
    sample: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


ProgressCallback = Callable[[CatalogSyncProgress], None]


def catalog_checkpoint(catalog_id: int) -> CacheCheckpoint:
    """The default checkpoint of a catalog's sync (one per catalog, in Django's cache)."""
    return CacheCheckpoint(f"catalog:{catalog_id}")


def _catalog_id(catalog_id: int | None) -> int:
    value = catalog_id if catalog_id is not None else talon_settings.CATALOG_ID
    if value is None:
        raise ValueError(
            "no catalog to sync: set TALON['CATALOG_ID'] (the cart item catalog's id in the "
            "Campaign Manager) or pass catalog_id"
        )
    return int(value)


def _jsonable_pk(pk: Any) -> Any:
    return pk if isinstance(pk, int) else str(pk)


def sync_catalog(
    *,
    catalog_id: int | None = None,
    queryset: QuerySet[Any] | None = None,
    batch_size: int | None = None,
    dry_run: bool = False,
    resume: bool = True,
    checkpoint: Checkpoint | None = None,
    progress: ProgressCallback | None = None,
    max_batches: int | None = None,
    client: Any = None,
) -> CatalogSyncResult:
    """Send every product (the adapter's ``catalog_queryset()``, or ``queryset``) to the
    catalog ``catalog_id`` (default ``TALON["CATALOG_ID"]``) in batches of ``batch_size``
    (default ``TALON["SYNC_BATCH_SIZE"]``, at most 1000).

    ``max_batches`` stops early with the checkpoint saved (a time-sliced task, or a test of
    a crash). ``client`` replaces the configured client (a stub in benchmarks); calls still
    go through :func:`~django_talon.resilience.guarded`. Raises
    :class:`~django_talon.exceptions.TalonUnavailableError` (switched off, circuit open,
    unreachable) or :class:`~django_talon.exceptions.TalonRequestFailedError` (a batch
    refused); the checkpoint then still points after the last delivered batch.
    """
    from django_talon.adapters import get_adapter

    target = _catalog_id(catalog_id)
    size = batch_size or talon_settings.SYNC_BATCH_SIZE
    if not 1 <= size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_SIZE}, got {size}")
    adapter = get_adapter()
    base: QuerySet[Any] = queryset if queryset is not None else adapter.catalog_queryset()
    checkpoint = NullCheckpoint() if dry_run else (checkpoint or catalog_checkpoint(target))
    signature = {"catalog_id": target, "query": str(base.query)}
    state = checkpoint.load() if resume else None
    if state and state.get("signature") != signature:
        logger.info("catalog sync: the checkpoint is for another selection; starting over")
        state = None

    last_pk: Any = state.get("last_pk") if state else None
    result = CatalogSyncResult(catalog_id=target, dry_run=dry_run, resumed_from=last_pk)
    result.total = (base if last_pk is None else base.filter(pk__gt=last_pk)).count()
    result.last_pk = last_pk
    while max_batches is None or result.batches < max_batches:
        page = base if last_pk is None else base.filter(pk__gt=last_pk)
        products = list(page.order_by("pk")[:size])
        if not products:
            result.completed = True
            break
        actions = _actions(products, adapter)
        if actions and not dry_run:
            result.version = _send(target, actions, client)
            result.api_calls += 1
        elif dry_run and len(result.sample) < 3:
            result.sample.extend(a["payload"] for a in actions[: 3 - len(result.sample)])
        last_pk = products[-1].pk
        result.batches += 1
        result.sent += len(actions)
        result.skipped += len(products) - len(actions)
        result.processed += len(products)
        result.last_pk = _jsonable_pk(last_pk)
        checkpoint.save(
            {
                "signature": signature,
                "last_pk": result.last_pk,
                "version": result.version,
                "saved_at": timezone.now().isoformat(),
            }
        )
        if progress is not None:
            progress(_progress(result))
        if len(products) < size:
            result.completed = True
            break
    if result.completed:
        checkpoint.clear()
    logger.info(
        "catalog sync %s: %d products, %d sent in %d call(s), %d left out%s",
        "finished" if result.completed else "paused",
        result.processed,
        result.sent,
        result.api_calls,
        result.skipped,
        " (dry run)" if dry_run else "",
    )
    return result


def _actions(products: list[Any], adapter: Any) -> list[dict[str, Any]]:
    """One ``ADD`` (``replaceIfExists``) per product the adapter keeps, checked as JSON."""
    actions: list[dict[str, Any]] = []
    seen: set[str] = set()
    for product in products:
        item = adapter.catalog_item(product)
        if item is None:
            continue
        where = f"catalog_item(pk={product.pk})"
        payload = json_value(item, where)
        if not isinstance(payload, dict) or not payload.get("sku"):
            raise AdapterValueError(f"{where}: a catalog item must be a dict with a 'sku'")
        sku = str(payload["sku"])
        if sku in seen:
            raise AdapterValueError(f"{where}: SKU {sku!r} is used by two products")
        seen.add(sku)
        payload["replaceIfExists"] = True
        actions.append({"type": "ADD", "payload": payload})
    return actions


def _send(catalog_id: int, actions: list[dict[str, Any]], client: Any) -> int | None:
    """One sync call through the guarded call path; the catalog's new version."""
    from django_talon import resilience

    with resilience.guarded("sync a batch of catalog items") as configured:
        catalog = (client or configured).sync_catalog(catalog_id, actions)
    version: int | None = getattr(catalog, "version", None)
    return version


def _progress(result: CatalogSyncResult) -> CatalogSyncProgress:
    return CatalogSyncProgress(
        processed=result.processed,
        total=result.total,
        sent=result.sent,
        skipped=result.skipped,
        batches=result.batches,
        last_pk=result.last_pk,
    )
