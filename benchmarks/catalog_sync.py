"""Catalog sync: API calls, time and peak Python memory for 10k and 100k products.

The claim under test: 100,000 products cost 100 calls of 1000 upserts, and memory does not
grow with the product count, because the products are read in keyset-paginated batches of
≤ 1000 and nothing is kept between batches (``services.catalog.sync_catalog``). Each size
runs the sync twice from scratch: once timed, once under ``tracemalloc`` (which slows
Python down, so it is kept out of the timing) for the peak memory of the sync alone
(products are created before); the emulator runs in its own process so its memory is not
counted. Not a test: nothing is asserted; compare the "peak" column between the rows, and
"API calls" with products / batch size.

    .venv/bin/python benchmarks/catalog_sync.py [--counts 10000 100000] [--postgres]
        [--batch-size 1000]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._support import django_project, emulator_process

CATALOG_ID = 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    rows = []
    with emulator_process() as url, django_project(url, postgres=args.postgres):
        for count in args.counts:
            rows.append(measure(url, count, args.batch_size))
    print(f"\nCatalog sync, batch size {args.batch_size}, ADD with replaceIfExists\n")
    print(f"{'products':>9} {'API calls':>9} {'seconds':>8} {'items/s':>8} {'peak MiB':>9}  db")
    for count, calls, seconds, peak, vendor in rows:
        print(
            f"{count:>9} {calls:>9} {seconds:>8.1f} {count / seconds:>8.0f} "
            f"{peak / 2**20:>9.2f}  {vendor}"
        )


def create_products(count: int) -> None:
    from example_project.catalog.models import Category, Product

    category, _ = Category.objects.get_or_create(slug="coffee", defaults={"name": "Coffee"})
    for start in range(0, count, 5000):
        Product.objects.bulk_create(
            [
                Product(
                    sku=f"BENCH-{i:06d}",
                    name=f"Product {i}",
                    category=category,
                    price=Decimal("5.00") + Decimal(i % 1000) / 100,
                )
                for i in range(start, min(count, start + 5000))
            ]
        )


def measure(url: str, count: int, batch_size: int) -> tuple[int, int, float, int, str]:
    from django.db import connection

    from django_talon.emulator import EmulatorControl
    from django_talon.services import bulk_sync
    from django_talon.services.catalog import sync_catalog
    from example_project.catalog.models import Product

    # Every size starts from an empty table and a reset emulator: figures do not depend on order.
    Product.objects.all().delete()
    control = EmulatorControl(url)
    control.reset()
    print(f"creating {count} products ...", flush=True)
    create_products(count)
    control.clear_requests()
    products = Product.objects.all()

    # Pass 1, timed: tracemalloc slows Python down several times, so it is off here.
    started = time.perf_counter()
    result = sync_catalog(
        catalog_id=CATALOG_ID,
        queryset=products,
        batch_size=batch_size,
        checkpoint=bulk_sync.NullCheckpoint(),
    )
    seconds = time.perf_counter() - started
    calls = len(control.requests(f"/v1/catalogs/{CATALOG_ID}/sync"))
    # Pass 2, traced: the same sync into a fresh emulator, peak memory only.
    control.reset()
    tracemalloc.start()
    sync_catalog(
        catalog_id=CATALOG_ID,
        queryset=products,
        batch_size=batch_size,
        checkpoint=bulk_sync.NullCheckpoint(),
    )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"  {count} products: {result.sent} sent in {calls} calls, {seconds:.1f}s, "
        f"peak {peak / 2**20:.2f} MiB",
        flush=True,
    )
    return count, calls, seconds, peak, connection.vendor


if __name__ == "__main__":
    main()
