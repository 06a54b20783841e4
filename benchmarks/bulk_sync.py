"""Bulk profile sync: time, API calls and peak Python memory for 10k and 100k users.

The claim under test: memory does not grow with the user count, because the queryset is
read in keyset-paginated batches of ≤ 1000 and nothing is kept between batches. Each size
runs the sync twice from scratch: once timed, once under ``tracemalloc`` (which slows
Python down, so it is kept out of the timing) for the peak memory of the sync alone
(users are created before); the emulator runs in its own process so its memory is not
counted. Not a test: nothing
is asserted; compare the "peak" column between the rows.

    .venv/bin/python benchmarks/bulk_sync.py [--counts 10000 100000] [--postgres]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._support import django_project, emulator_process

ATTRIBUTES_NOTE = "2 attributes per profile (Name, SignupDate)"


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
    print(f"\nBulk profile sync, batch size {args.batch_size}, {ATTRIBUTES_NOTE}\n")
    print(f"{'users':>8} {'API calls':>9} {'seconds':>8} {'users/s':>8} {'peak MiB':>9}  db")
    for count, calls, seconds, peak, vendor in rows:
        print(
            f"{count:>8} {calls:>9} {seconds:>8.1f} {count / seconds:>8.0f} "
            f"{peak / 2**20:>9.2f}  {vendor}"
        )


def create_users(count: int) -> None:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    for start in range(0, count, 5000):
        user_model.objects.bulk_create(
            [
                user_model(username=f"bench-{i}", first_name=f"Customer {i}", password="!")
                for i in range(start, min(count, start + 5000))
            ]
        )


def measure(url: str, count: int, batch_size: int) -> tuple[int, int, float, int, str]:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from django_talon.adapters import TalonAdapter
    from django_talon.emulator import EmulatorControl
    from django_talon.models import CustomerProfile
    from django_talon.services import bulk_sync

    # Start every size from empty tables and a reset emulator: figures do not depend on order.
    CustomerProfile.objects.all().delete()
    get_user_model().objects.all().delete()
    control = EmulatorControl(url)
    control.reset()
    print(f"creating {count} users ...", flush=True)
    create_users(count)
    control.clear_requests()

    # Send a couple of real attributes, as a shop would (the default adapter sends none).
    original = TalonAdapter.profile_attributes
    TalonAdapter.profile_attributes = lambda self, user: {  # type: ignore[method-assign]
        "Name": user.first_name,
        "SignupDate": user.date_joined.isoformat(),
    }
    try:
        # Pass 1, timed: tracemalloc slows Python down several times, so it is off here.
        started = time.perf_counter()
        result = bulk_sync.sync_profiles(
            batch_size=batch_size, checkpoint=bulk_sync.NullCheckpoint()
        )
        seconds = time.perf_counter() - started
        calls = len(control.requests("/v2/customer_profiles"))
        # Pass 2, traced: the same sync from scratch (mirrors deleted), peak memory only.
        CustomerProfile.objects.all().delete()
        control.reset()
        tracemalloc.start()
        bulk_sync.sync_profiles(batch_size=batch_size, checkpoint=bulk_sync.NullCheckpoint())
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        TalonAdapter.profile_attributes = original  # type: ignore[method-assign]
    print(
        f"  {count} users: {result.sent} sent in {calls} calls, {seconds:.1f}s, "
        f"peak {peak / 2**20:.2f} MiB",
        flush=True,
    )
    return count, calls, seconds, peak, connection.vendor


if __name__ == "__main__":
    main()
