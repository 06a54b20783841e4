"""Bulk profile sync: time, API calls and peak Python memory for 10k and 100k users, and
what writing the local mirror costs.

The claim under test: memory does not grow with the user count, because the queryset is
read in keyset-paginated batches of ≤ 1000 and nothing is kept between batches. Each size
runs the sync twice from scratch: once timed, once under ``tracemalloc`` (which slows
Python down, so it is kept out of the timing) for the peak memory of the sync alone
(users are created before); the emulator runs in its own process so its memory is not
counted. Not a test: nothing
is asserted; compare the "peak" column between the rows.

The mirror write (``CustomerProfile`` rows after a delivered batch) is measured on its own,
as RATIOS against baselines of the same run, interleaved round by round, medians of the
per-round ratios (the house style of benchmarks/): the previous path (a bulk INSERT of the
new profiles plus a ``bulk_update`` of the known ones, kept below as the baseline) against
the upsert of ``services.bulk_sync``, for a batch of new and a batch of known profiles, and
both against the ``PUT /v2/customer_profiles`` call that delivered the same batch. CPU time
of this process (``time.process_time``; on SQLite that includes the database's work).

    .venv/bin/python benchmarks/bulk_sync.py [--counts 10000 100000] [--postgres]
        [--rounds 11] [--skip-sync]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._support import django_project, emulator_process

ATTRIBUTES_NOTE = "2 attributes per profile (Name, SignupDate)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--rounds", type=int, default=11, help="rounds of the mirror figures")
    parser.add_argument("--skip-sync", action="store_true", help="only the mirror figures")
    args = parser.parse_args()
    rows = []
    with emulator_process() as url, django_project(url, postgres=args.postgres):
        mirror = mirror_costs(url, args.batch_size, args.rounds)
        for count in [] if args.skip_sync else args.counts:
            rows.append(measure(url, count, args.batch_size))
    print_mirror(mirror, args.batch_size, args.rounds)
    if not rows:
        return
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


# -- the mirror write ---------------------------------------------------------------------------
MIRROR_FIELDS = [
    "user",
    "attributes",
    "fingerprint",
    "pushed_fingerprint",
    "last_synced_at",
    "last_error",
    "updated_at",
]


def legacy_record_profiles(rows: list[Any]) -> None:
    """The previous mirror write, kept as the baseline: one bulk INSERT of the new profiles,
    one ``bulk_update`` (a ``CASE WHEN`` per row and field) of the known ones."""
    from django.db import transaction
    from django.utils import timezone

    from django_talon.models import CustomerProfile

    now = timezone.now()
    new: list[Any] = []
    changed: list[Any] = []
    for user, profile, integration_id, attributes, fingerprint in rows:
        values = {
            "attributes": attributes,
            "fingerprint": fingerprint,
            "pushed_fingerprint": fingerprint,
            "last_synced_at": now,
            "last_error": "",
        }
        if profile is None:
            new.append(CustomerProfile(user_id=user.pk, integration_id=integration_id, **values))
        else:
            for name, value in values.items():
                setattr(profile, name, value)
            profile.user_id = user.pk
            profile.updated_at = now
            changed.append(profile)
    with transaction.atomic():
        if new:
            CustomerProfile.objects.bulk_create(new)
        if changed:
            CustomerProfile.objects.bulk_update(changed, MIRROR_FIELDS)


def _cpu(fn: Callable[..., object], *args: Any, **kwargs: Any) -> float:
    started = time.process_time()
    fn(*args, **kwargs)
    return time.process_time() - started


def mirror_costs(url: str, batch_size: int, rounds: int) -> dict[str, list[float]]:
    """CPU seconds per batch, per round: legacy and upsert for new and known profiles, and
    the API call that delivers the batch (the same items)."""
    from django.contrib.auth import get_user_model

    from django_talon import resilience
    from django_talon.adapters import get_adapter
    from django_talon.models import CustomerProfile
    from django_talon.services import bulk_mirror, bulk_sync

    CustomerProfile.objects.all().delete()
    get_user_model().objects.all().delete()
    create_users(batch_size)
    users = list(get_user_model().objects.order_by("pk"))
    adapter = get_adapter()

    def batch() -> tuple[list[Any], list[Any]]:
        return bulk_sync._batch(users, adapter, force=True, result=bulk_sync.BulkSyncResult())

    def fresh() -> list[Any]:
        CustomerProfile.objects.all().delete()
        return batch()[1]

    results: dict[str, list[float]] = {}
    writers = {"legacy": legacy_record_profiles, "upsert": bulk_mirror.record_profiles}
    for _ in range(rounds):
        for name, write in writers.items():  # interleaved: legacy, upsert, legacy, ...
            rows = fresh()
            results.setdefault(f"{name} new", []).append(_cpu(write, rows))
            rows = batch()[1]  # every profile known now
            results.setdefault(f"{name} known", []).append(_cpu(write, rows))
        items = batch()[0]
        with resilience.guarded("benchmark") as client:
            results.setdefault("API call", []).append(
                _cpu(client.update_customer_profiles_v2, items, silent=True)
            )
    return results


def _ratio(results: dict[str, list[float]], name: str, baseline: str) -> float:
    pairs = zip(results[name], results[baseline], strict=True)
    return statistics.median(a / b for a, b in pairs)


def print_mirror(results: dict[str, list[float]], batch_size: int, rounds: int) -> None:
    from django.db import connection

    print(
        f"\nMirror write of one batch of {batch_size} profiles, {connection.vendor}: CPU of "
        f"this process, {rounds} interleaved rounds, medians\n"
    )
    print(f"{'write':14} {'ms':>8} {'vs legacy':>10} {'vs API call':>12}")
    for kind in ("new", "known"):
        for name in ("legacy", "upsert"):
            key = f"{name} {kind}"
            print(
                f"{key:14} {statistics.median(results[key]) * 1000:>8.1f} "
                f"{_ratio(results, key, f'legacy {kind}'):>9.2f}x "
                f"{_ratio(results, key, 'API call'):>11.2f}x"
            )
    print(f"{'API call':14} {statistics.median(results['API call']) * 1000:>8.1f}")


if __name__ == "__main__":
    main()
