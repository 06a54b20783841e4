"""Catalog sync against the emulator over HTTP: calls and batches, resuming after a failure
mid-way, dry runs, products the adapter leaves out, the management command."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from django_talon.adapters import TalonAdapter
from django_talon.services import bulk_sync
from django_talon.services.catalog import catalog_checkpoint, sync_catalog

pytestmark = pytest.mark.django_db

CATALOG_ID = 7
SYNC_PATH = f"/v1/catalogs/{CATALOG_ID}/sync"


class InStockAdapter(TalonAdapter):
    """Leaves inactive products out and sends the category as an item attribute."""

    def catalog_item(self, product: Any) -> dict[str, Any] | None:
        if not product.active:
            return None
        return {"sku": product.sku, "price": product.price, "attributes": {"cat": "coffee"}}


@pytest.fixture
def catalog_settings(settings: Any, talon_settings: dict[str, Any]) -> dict[str, Any]:
    settings.TALON = {
        **settings.TALON,
        "PRODUCT_MODEL": "catalog.Product",
        "CATALOG_ID": CATALOG_ID,
    }
    return dict(settings.TALON)


def make_products(count: int, *, active: bool = True) -> list[Any]:
    """Products ``SKU-00000``... at 10.00 + index cents, inserted in one statement per 1000."""
    from example_project.catalog.models import Category, Product

    category, _ = Category.objects.get_or_create(slug="coffee", defaults={"name": "Coffee"})
    start = Product.objects.count()
    created: list[Any] = Product.objects.bulk_create(
        [
            Product(
                sku=f"SKU-{start + i:05d}",
                name=f"Product {start + i}",
                category=category,
                price=Decimal("10.00") + Decimal(start + i) / 100,
                active=active,
            )
            for i in range(count)
        ],
        batch_size=1000,
    )
    return created


def sync_calls(emulator: Any) -> list[dict[str, Any]]:
    return [r for r in emulator.control.requests() if r["path"] == SYNC_PATH]


def sent_skus(calls: list[dict[str, Any]]) -> list[str]:
    return [a["payload"]["sku"] for c in calls for a in c["body"]["actions"]]


def test_2500_products_in_3_calls_of_upserts(talon_emulator: Any, catalog_settings: Any) -> None:
    make_products(2500)
    talon_emulator.control.clear_requests()

    result = sync_catalog(checkpoint=bulk_sync.NullCheckpoint())

    calls = sync_calls(talon_emulator)
    assert len(talon_emulator.control.requests()) == len(calls) == 3
    assert [len(c["body"]["actions"]) for c in calls] == [1000, 1000, 500]
    assert all(c["method"] == "PUT" and c["status"] == 200 for c in calls)
    actions = [a for c in calls for a in c["body"]["actions"]]
    assert {a["type"] for a in actions} == {"ADD"}
    assert all(a["payload"]["replaceIfExists"] is True for a in actions)
    skus = sent_skus(calls)
    assert len(skus) == len(set(skus)) == 2500
    assert actions[0]["payload"] == {"sku": "SKU-00000", "price": 10.0, "replaceIfExists": True}
    assert result.sent == 2500 and result.api_calls == 3 and result.completed
    assert result.version is not None and result.version >= 3  # grows with every sync


def test_synced_prices_answer_the_best_prior_price(
    talon_emulator: Any, catalog_settings: Any
) -> None:
    make_products(3)
    sync_catalog(checkpoint=bulk_sync.NullCheckpoint())
    from django.utils import timezone

    answers = talon_emulator.client().best_prior_price(
        ["SKU-00001", "NOT-SYNCED"], timeframe=30, timeframe_end_date=timezone.now()
    )
    assert [(a.sku, a.price) for a in answers] == [("SKU-00001", Decimal("10.01"))]


def test_a_failure_mid_way_resumes_after_the_last_delivered_batch(
    talon_emulator: Any, catalog_settings: Any, tmp_path: Path
) -> None:
    products = make_products(2500)
    checkpoint = bulk_sync.FileCheckpoint(tmp_path / "catalog.json")

    first = sync_catalog(batch_size=1000, checkpoint=checkpoint, max_batches=1)
    assert not first.completed and first.sent == 1000

    # Talon.One refuses the second batch: the run stops, the checkpoint does not move.
    talon_emulator.control.add_fault(kind="error", status=400, path=SYNC_PATH, times=1)
    with pytest.raises(Exception, match="400|injected"):
        sync_catalog(batch_size=1000, checkpoint=checkpoint)
    state = checkpoint.load()
    assert state is not None and state["last_pk"] == products[999].pk

    last = sync_catalog(batch_size=1000, checkpoint=checkpoint)
    assert last.resumed_from == products[999].pk
    assert last.completed and last.sent == 1500 and last.api_calls == 2
    assert checkpoint.load() is None  # a finished run leaves nothing to resume

    delivered = [c for c in sync_calls(talon_emulator) if c["status"] == 200]
    skus = sent_skus(delivered)
    assert len(delivered) == 3
    assert len(skus) == len(set(skus)) == 2500  # nothing sent twice, nothing missed


def test_a_checkpoint_of_another_catalog_is_not_resumed(
    talon_emulator: Any, catalog_settings: Any
) -> None:
    make_products(20)
    checkpoint = catalog_checkpoint(CATALOG_ID)
    sync_catalog(batch_size=10, checkpoint=checkpoint, max_batches=1)

    other = sync_catalog(catalog_id=8, batch_size=10, checkpoint=checkpoint)
    assert other.resumed_from is None and other.sent == 20


def test_dry_run_calls_nothing(talon_emulator: Any, catalog_settings: Any) -> None:
    make_products(5)
    talon_emulator.control.clear_requests()

    result = sync_catalog(dry_run=True)

    assert talon_emulator.control.requests() == []
    assert result.dry_run and result.sent == 5 and result.api_calls == 0
    assert result.sample[0] == {"sku": "SKU-00000", "price": 10.0, "replaceIfExists": True}


def test_the_adapter_leaves_products_out_and_adds_attributes(
    talon_emulator: Any, catalog_settings: Any, settings: Any
) -> None:
    settings.TALON = {**settings.TALON, "ADAPTER": f"{__name__}.InStockAdapter"}
    make_products(3)
    make_products(2, active=False)
    talon_emulator.control.clear_requests()

    result = sync_catalog(checkpoint=bulk_sync.NullCheckpoint())

    (call,) = sync_calls(talon_emulator)
    assert sent_skus([call]) == ["SKU-00000", "SKU-00001", "SKU-00002"]
    assert call["body"]["actions"][0]["payload"]["attributes"] == {"cat": "coffee"}
    assert result.sent == 3 and result.skipped == 2


def test_without_a_catalog_id_nothing_is_sent(talon_emulator: Any, talon_settings: Any) -> None:
    with pytest.raises(ValueError, match="CATALOG_ID"):
        sync_catalog()
    with pytest.raises(CommandError, match="CATALOG_ID"):
        call_command("talon_sync_catalog", stdout=StringIO())
    assert talon_emulator.control.requests() == []


def test_the_command_shows_progress_and_resumes(
    talon_emulator: Any, catalog_settings: Any, tmp_path: Path
) -> None:
    make_products(25)
    checkpoint = str(tmp_path / "catalog.json")
    out = StringIO()
    call_command(
        "talon_sync_catalog",
        "--batch-size",
        "10",
        "--max-batches",
        "1",
        "--checkpoint-file",
        checkpoint,
        stdout=out,
    )
    assert "10/25 products, 10 sent" in out.getvalue()
    assert "run again to continue" in out.getvalue()

    out = StringIO()
    call_command(
        "talon_sync_catalog", "--batch-size", "10", "--checkpoint-file", checkpoint, stdout=out
    )
    text = out.getvalue()
    assert "Resumed after product pk" in text
    assert "Sent 15 item(s) to catalog 7 in 2 batch(es) (2 API call(s))" in text
    assert "Catalog sync complete." in text
    assert len(sync_calls(talon_emulator)) == 3


def test_the_command_dry_run(talon_emulator: Any, catalog_settings: Any) -> None:
    make_products(2)
    out = StringIO()
    call_command("talon_sync_catalog", "--dry-run", stdout=out)
    assert "Dry run: would send 2 item(s)" in out.getvalue()
    assert sync_calls(talon_emulator) == []
