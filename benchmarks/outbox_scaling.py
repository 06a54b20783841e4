"""Outbox scale-out: delivered writes/s per Celery worker process, and the delivery lag.

The figure a shop sizes its workers with. For 1, 2 and 4 worker processes
(``celery worker --pool=solo``, the way tests/ops starts real workers) on PostgreSQL, a
Redis broker and the emulator in its own process, all on 127.0.0.1:

1. **Throughput**: ``--writes`` profile writes (one outbox row each, on distinct keys, as
   many customers update their profiles) are committed, then handed to Celery; writes/s is
   rows over the span from the first to the last ``delivered_at``, per worker process.
2. **Lag**: the same kind of writes, each committed in its own transaction (a web request
   would), at half the measured throughput for ``--seconds``; the lag of a row is
   ``delivered_at - created_at`` (its commit, to Talon.One's answer stored), p50 and p99.

3. **Backlog** (``--backlog``): rows committed with no Celery message at all; a worker
   started with ``--beat`` runs the relay every second (inline, or ``--fan-out``), and
   relayed/s is rows over the time until the last is delivered.

Every phase is bounded (row counts, a deadline per phase); the database is created and
dropped by the run, the workers are stopped at the end, the Redis queue is deleted.
Absolute figures depend on the machine: on a 2-core box the workers, PostgreSQL, the
emulator and this producer share two CPUs, so writes/s per worker falls as workers are
added, and the total levels off near what two cores can do.

    .venv/bin/python benchmarks/outbox_scaling.py [--workers 1 2 4] [--writes 800]
        [--seconds 8] [--broker redis://127.0.0.1:6379/13] [--conn-max-age 60]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._support import (  # noqa: E402
    API_KEY,
    _pg_admin,
    delete_queue,
    emulator_process,
)

DATABASE = "django_talon_outbox_scaling"
PHASE_TIMEOUT = 90.0


def _configure(url: str, broker: str, queue: str, conn_max_age: int) -> dict[str, str]:
    """Environment shared by this process (the producer) and the workers."""
    env = {
        "TALON_TEST_DB": "postgres",
        "TALON_TEST_PG_NAME": DATABASE,
        "TALON_TEST_BASE_URL": url,
        "TALON_TEST_API_KEY": API_KEY,
        "TALON_TEST_BROKER_URL": broker,
        "TALON_TEST_QUEUE": queue,
        "DJANGO_SETTINGS_MODULE": "benchmarks.scaling_settings",
        "TALON_BENCH_CONN_MAX_AGE": str(conn_max_age),
        "TALON_BENCH_FAN_OUT": os.environ.get("TALON_BENCH_FAN_OUT", "0"),
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings

    # The producer only commits and hands keys to Celery, as a web process would.
    settings.TALON = {**settings.TALON, "IMMEDIATE_ATTEMPT": False}
    import tests.ops.celery_app  # noqa: F401  (current app: the broker and queue under test)

    return env


def _rows(ids: Any) -> list[Any]:
    from django_talon.models import OutboxMessage

    return list(OutboxMessage.objects.filter(pk__in=ids).values_list("created_at", "delivered_at"))


def _wait_delivered(ids: list[int], deadline: float) -> bool:
    from django_talon.models import OutboxMessage

    while time.monotonic() < deadline:
        if not OutboxMessage.objects.filter(pk__in=ids, delivered_at__isnull=True).exists():
            return True
        time.sleep(0.05)
    return False


def throughput(run: str, writes: int) -> float:
    """Commit ``writes`` rows, hand their keys to Celery, and time their delivery."""
    from django.db import transaction

    from django_talon import outbox

    with transaction.atomic():
        messages = [
            outbox.enqueue(
                "profile.update",
                f"profile:{run}-{i}",
                {"integration_id": f"{run}-{i}", "attributes": {"Name": f"Customer {i}"}},
                deliver=False,
            )
            for i in range(writes)
        ]
    for message in messages:
        outbox.dispatch(message.key)
    ids = [m.pk for m in messages]
    if not _wait_delivered(ids, time.monotonic() + PHASE_TIMEOUT):
        raise RuntimeError(f"{run}: not delivered within {PHASE_TIMEOUT}s")
    delivered = sorted(d for _, d in _rows(ids))
    span = (delivered[-1] - delivered[0]).total_seconds()
    return (len(delivered) - 1) / span if span > 0 else float("inf")


def lag(run: str, rate: float, seconds: float) -> list[float]:
    """Writes at ``rate``/s, one transaction each, for ``seconds``; their lags in seconds."""
    from django.db import transaction

    from django_talon import outbox

    ids: list[int] = []
    started = time.monotonic()
    count = max(1, int(rate * seconds))
    for i in range(count):
        pause = started + i / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        with transaction.atomic():
            ids.append(
                outbox.enqueue(
                    "profile.update",
                    f"profile:{run}-{i}",
                    {"integration_id": f"{run}-{i}", "attributes": {"Name": f"Customer {i}"}},
                ).pk
            )
    if not _wait_delivered(ids, time.monotonic() + PHASE_TIMEOUT):
        raise RuntimeError(f"{run}: not delivered within {PHASE_TIMEOUT}s")
    return sorted((d - c).total_seconds() for c, d in _rows(ids))


def backlog(run: str, writes: int) -> float:
    """Rows committed with no Celery message at all (lost between commit and publish, or
    waiting out an outage): the beat relay alone finds and delivers them; rows/s."""
    from django.db import transaction

    from django_talon import outbox

    with transaction.atomic():
        messages = [
            outbox.enqueue(
                "profile.update",
                f"profile:{run}-{i}",
                {"integration_id": f"{run}-{i}", "attributes": {"Name": f"Customer {i}"}},
                deliver=False,
            )
            for i in range(writes)
        ]
    ids = [m.pk for m in messages]
    started = time.monotonic()
    if not _wait_delivered(ids, started + PHASE_TIMEOUT):
        raise RuntimeError(f"{run}: the relay did not deliver within {PHASE_TIMEOUT}s")
    return writes / (time.monotonic() - started)


def _percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))]


def measure(
    workers: int, args: argparse.Namespace, env: dict[str, str], log_dir: Path
) -> dict[str, float]:
    from tests.ops.workers import CeleryWorker

    started = [
        CeleryWorker(
            f"bench{workers}-{i}",
            env=env,
            queue=env["TALON_TEST_QUEUE"],
            log_dir=log_dir,
            beat=i == 0 and args.backlog > 0,
        )
        for i in range(workers)
    ]
    try:
        for worker in started:
            worker.start()
        throughput(f"warm{workers}", 20 * workers)  # connections, imports, first queries
        rates = [throughput(f"t{workers}-{r}", args.writes) for r in range(args.rounds)]
        rate = statistics.median(rates)
        lags = lag(f"l{workers}", rate / 2, args.seconds)
        relayed = backlog(f"b{workers}", args.backlog) if args.backlog else 0.0
    except RuntimeError:
        for worker in started:
            print(f"--- {worker.name} ---\n{worker.log_tail(3000)}", file=sys.stderr)
        raise
    finally:
        for worker in started:
            worker.stop()
    return {
        "workers": workers,
        "writes_s": rate,
        "per_worker": rate / workers,
        "p50": _percentile(lags, 0.50),
        "p99": _percentile(lags, 0.99),
        "lag_rate": rate / 2,
        "relayed": relayed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--writes", type=int, default=800, help="rows per throughput round")
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds (median)")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of the lag phase")
    # Not the test suite's database 15: tests clear their Redis caches, queues included.
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/13")
    parser.add_argument(
        "--conn-max-age", type=int, default=60, help="the workers' CONN_MAX_AGE (0: Django's)"
    )
    parser.add_argument(
        "--backlog", type=int, default=300, help="rows only the beat relay delivers (0: none)"
    )
    parser.add_argument("--fan-out", action="store_true", help="the relay hands each key to a task")
    args = parser.parse_args()
    os.environ["TALON_BENCH_FAN_OUT"] = "1" if args.fan_out else "0"
    # SIGTERM ends the run through the finally blocks: workers stopped, database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not args.broker.startswith(("redis://127.0.0.1", "redis://localhost")):
        parser.error("the broker must be on this machine (127.0.0.1)")
    queue = f"django-talon-bench-{uuid.uuid4().hex[:10]}"
    _pg_admin(DATABASE, create=True)
    results = []
    try:
        with emulator_process() as url, tempfile.TemporaryDirectory() as tmp:
            env = _configure(url, args.broker, queue, args.conn_max_age)
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
            for count in args.workers:
                results.append(measure(count, args, env, Path(tmp)))
                print(f"  {count} worker(s): {results[-1]['writes_s']:.0f} writes/s", flush=True)
    finally:
        from django.db import connections

        connections.close_all()
        _pg_admin(DATABASE, create=False)
        delete_queue(args.broker, queue)
    print(
        f"\nOutbox delivery, profile writes on distinct keys, PostgreSQL + Redis + emulator on "
        f"127.0.0.1, {os.cpu_count()} CPUs; {args.writes} rows x {args.rounds} rounds "
        f"(median), lag over {args.seconds:.0f}s at half that rate; workers' CONN_MAX_AGE "
        f"{args.conn_max_age}; backlog of {args.backlog} rows for the beat relay "
        f"({'fanned out' if args.fan_out else 'inline'})\n"
    )
    print(
        f"{'workers':>7} {'writes/s':>9} {'per worker':>11} {'at':>6} {'p50 ms':>7} {'p99 ms':>7}"
    )
    for r in results:
        print(
            f"{r['workers']:>7} {r['writes_s']:>9.0f} {r['per_worker']:>11.0f} "
            f"{r['lag_rate']:>6.0f} {r['p50'] * 1000:>7.0f} {r['p99'] * 1000:>7.0f} "
            f"{r['relayed']:>10.0f}"
        )


if __name__ == "__main__":
    main()
