"""Shared set-up for the Django benchmarks: an emulator process, a fresh database, Django.

The emulator runs in its own process so that its memory and CPU are not counted in the
figures of the shop side being measured.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "bench-api-key"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def emulator_process() -> Iterator[str]:
    """``python -m django_talon.emulator`` on a free port (demo campaigns); yields its URL."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "django_talon.emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--api-key",
            API_KEY,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the emulator did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _pg_admin(name: str, *, create: bool) -> None:
    """Drop (and create) the benchmark database, connected to the ``postgres`` database."""
    import psycopg

    conn = psycopg.connect(
        host=os.environ.get("TALON_TEST_PG_HOST", "127.0.0.1"),
        port=int(os.environ.get("TALON_TEST_PG_PORT", "5432")),
        user=os.environ.get("TALON_TEST_PG_USER", "postgres"),
        dbname="postgres",
        autocommit=True,
    )
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


@contextmanager
def django_project(url: str, *, postgres: bool = False) -> Iterator[None]:
    """Configure Django (benchmarks.settings) on a fresh database and migrate it."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    os.environ["TALON_BENCH_URL"] = url
    os.environ["TALON_BENCH_API_KEY"] = API_KEY
    with tempfile.TemporaryDirectory(prefix="django-talon-bench-") as tmp:
        if postgres:
            os.environ["TALON_BENCH_PG_NAME"] = "django_talon_bench"
            _pg_admin("django_talon_bench", create=True)
        else:
            os.environ["TALON_BENCH_SQLITE"] = str(Path(tmp) / "bench.sqlite3")
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        try:
            yield
        finally:
            from django.db import connections

            connections.close_all()
            if postgres:
                _pg_admin("django_talon_bench", create=False)


def delete_queue(broker: str, queue: str) -> None:
    """Delete a benchmark's own Celery queue (and its direct exchange) on ``broker``."""
    from kombu import Connection, Exchange, Queue

    try:
        with Connection(broker, connect_timeout=5) as conn:
            exchange = Exchange(queue, type="direct")
            bound = Queue(queue, exchange, routing_key=queue)(conn.default_channel)
            bound.declare()  # kombu's virtual transports delete only bindings they know of
            bound.delete()
            exchange(conn.default_channel).delete()
    except Exception as exc:  # a leftover queue is harmless, but say so
        print(f"could not delete the queue {queue}: {exc}")
