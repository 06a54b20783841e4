"""Fixtures for the real-worker tests: brokers, queues, worker subprocesses, the client app.

Tests here that start workers are marked ``postgres`` and ``celery_worker``: ``make test``
runs them in its PostgreSQL pass (``TALON_TEST_DB=postgres pytest -m postgres``). The
workers use the very database pytest-django created for the test run: its name is read
from the live connection and handed over in ``TALON_TEST_PG_NAME``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ops.workers import CeleryWorker
from tests.resources import REDIS_URL, require_postgres, require_rabbitmq, require_redis

BROKERS = ("redis", "rabbitmq")
QUEUE_PREFIX = "django-talon-test-"


@pytest.fixture(params=BROKERS)
def broker_url(request: pytest.FixtureRequest) -> str:
    """Each real-worker test runs once on Redis and once on RabbitMQ."""
    require_postgres()
    return require_redis() if request.param == "redis" else require_rabbitmq()


@pytest.fixture(scope="session")
def _redis_cleanup() -> Iterator[None]:
    """At the end of the run, drop what kombu leaves in the test Redis database for our
    queues (binding keys, and queue lists re-created when a later worker restores messages
    a SIGKILLed worker had not acknowledged)."""
    yield
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"*{QUEUE_PREFIX}*"))
        if keys:
            client.delete(*keys)
    except Exception as exc:  # leftovers are harmless, but say so
        print(f"could not clean the test Redis database: {exc}")


@pytest.fixture
def celery_queue(broker_url: str, _redis_cleanup: None) -> Iterator[str]:
    """A queue of our own: nothing left over from another run (or another test) reaches it."""
    name = f"{QUEUE_PREFIX}{uuid.uuid4().hex[:10]}"
    yield name
    from kombu import Connection, Exchange, Queue

    try:
        with Connection(broker_url, connect_timeout=5) as conn:
            exchange = Exchange(name, type="direct")
            bound = Queue(name, exchange, routing_key=name)(conn.default_channel)
            bound.purge()
            bound.delete()
            exchange(conn.default_channel).delete()
    except Exception as exc:  # leftover queue is harmless, but say so
        print(f"could not delete test queue {name}: {exc}")


@pytest.fixture
def celery_client_app(broker_url: str, celery_queue: str) -> Iterator[Any]:
    """The test process's Celery app: what the shop's web process is when it dispatches.

    Set as the current app, so ``django_talon.outbox.dispatch`` sends the
    ``django_talon.deliver_outbox_key`` messages to the broker and queue under test.
    """
    from celery import Celery
    from celery._state import get_current_app

    previous = get_current_app()
    app = Celery("django-talon-test-client", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=celery_queue,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": 30},
    )
    import django_talon.tasks  # noqa: F401  (registers the shared tasks with every app)

    app.set_current()
    try:
        yield app
    finally:
        previous.set_current()
        app.close()


@pytest.fixture
def worker_env(
    broker_url: str, celery_queue: str, talon_emulator: Any, transactional_db: None
) -> dict[str, str]:
    """Environment for worker subprocesses: same test database, emulator and broker."""
    from django.db import connection

    settings_dict = connection.settings_dict
    assert settings_dict["ENGINE"].endswith("postgresql"), (
        "worker tests need TALON_TEST_DB=postgres"
    )
    return {
        "TALON_TEST_DB": "postgres",
        "TALON_TEST_PG_NAME": str(settings_dict["NAME"]),
        "TALON_TEST_PG_HOST": str(settings_dict.get("HOST") or "127.0.0.1"),
        "TALON_TEST_PG_PORT": str(settings_dict.get("PORT") or "5432"),
        "TALON_TEST_PG_USER": str(settings_dict.get("USER") or "postgres"),
        "TALON_TEST_BASE_URL": str(talon_emulator.url),
        "TALON_TEST_API_KEY": str(talon_emulator.api_key),
        "TALON_TEST_BROKER_URL": broker_url,
        "TALON_TEST_QUEUE": celery_queue,
    }


@pytest.fixture
def start_worker(
    worker_env: dict[str, str], celery_queue: str, tmp_path: Path
) -> Iterator[Callable[..., CeleryWorker]]:
    """Factory: ``start_worker("w1", beat=True)`` starts a worker; all are stopped at teardown
    (before pytest-django flushes the database, which the workers would otherwise lock)."""
    workers: list[CeleryWorker] = []

    def start(name: str = "w1", *, beat: bool = False, **env: str) -> CeleryWorker:
        worker = CeleryWorker(
            name, env={**worker_env, **env}, queue=celery_queue, log_dir=tmp_path, beat=beat
        )
        workers.append(worker)
        worker.start()
        return worker

    yield start
    for worker in workers:
        worker.kill()


def worker_logs(workers: list[CeleryWorker]) -> str:
    """All worker logs, for assertion messages."""
    return "\n".join(f"--- {w.name} ---\n{w.log_tail(6000)}" for w in workers)
