"""Real Celery workers on Redis and on RabbitMQ, with PostgreSQL and the emulator over HTTP.

What must hold (issue 4, "what it must show"):

- every write is delivered, in order per session, after the worker is SIGKILLed mid-task
  and restarted;
- parallel cart updates of one session from several processes never draw a 409 (the
  emulator answers 409 to overlapping updates of one session, like Talon.One).

The workers are ``celery worker --pool=solo`` subprocesses (tests/ops/workers.py) on a
queue of their own, using the PostgreSQL database pytest-django created for this run.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest

from django_talon import services
from django_talon.models import CustomerSession, OutboxMessage
from tests.ops.carts import OpsCart
from tests.ops.conftest import worker_logs
from tests.ops.workers import CeleryWorker
from tests.resources import REPO_ROOT

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.celery_worker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]

SESSIONS_PATH = "/v2/customer_sessions/"
DRAIN_TIMEOUT = 45.0


@pytest.fixture
def web_settings(settings: Any, talon_settings: Any, celery_client_app: Any) -> Any:
    """The test process plays the web process: it only enqueues and hands keys to Celery."""
    settings.TALON = {**settings.TALON, "DELIVERY": "celery", "IMMEDIATE_ATTEMPT": False}
    return settings


def wait_until(
    predicate: Callable[[], bool], timeout: float, what: str, logs: Callable[[], str]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{logs()}")


def undelivered() -> int:
    return OutboxMessage.objects.exclude(state=OutboxMessage.State.DONE).count()


def session_calls(emulator: Any) -> list[dict[str, Any]]:
    return [
        r
        for r in emulator.control.requests()
        if r["method"] == "PUT" and r["path"].startswith(SESSIONS_PATH)
    ]


def quantity(call: dict[str, Any]) -> int:
    items = call["body"]["customerSession"]["cartItems"]
    return int(items[0]["quantity"]) if items else 0


def killed_mid_task(worker: CeleryWorker) -> bool:
    """The first run's log shows a task received and never finished: it died mid-task."""
    first_run = worker.log_text().split("===== start #2 =====")[0]
    received = first_run.count("] received")
    finished = first_run.count("] succeeded") + first_run.count("] raised")
    finished += first_run.count("] retry")
    return received > finished


def test_every_write_delivered_in_order_after_sigkill(
    web_settings: Any, talon_emulator: Any, start_worker: Callable[..., CeleryWorker]
) -> None:
    # Each session update takes 0.3 s in the emulator, so a worker is almost always mid-call.
    talon_emulator.control.add_fault(kind="latency", seconds=0.3, path=f"{SESSIONS_PATH}*")
    worker = start_worker("w1", beat=True)
    carts = [1, 2, 3]
    versions = 4
    for version in range(1, versions + 1):
        for cart in carts:
            services.update_cart(OpsCart(cart, version))
    for cart in carts:
        services.close_session(OpsCart(cart, versions), fail_closed=False)
    written = OutboxMessage.objects.count()
    assert written == len(carts) * (versions + 1)

    # Kill -9 while a call is in flight: after the first answer, inside the next one's 0.3 s.
    wait_until(
        lambda: len(session_calls(talon_emulator)) >= 1, 20, "a first delivery", worker.log_tail
    )
    time.sleep(0.1)
    worker.kill()
    delivered_before_kill = len(session_calls(talon_emulator))
    assert undelivered() > 0, "the worker finished everything before it was killed"

    worker.start()
    wait_until(lambda: undelivered() == 0, DRAIN_TIMEOUT, "the outbox to drain", worker.log_tail)
    assert killed_mid_task(worker), worker.log_tail()

    calls = session_calls(talon_emulator)
    assert len(calls) > delivered_before_kill
    assert [c for c in calls if c["status"] == 409] == []
    states = talon_emulator.control.state()["sessions"]
    for session in CustomerSession.objects.all():
        mine = [c for c in calls if c["path"] == f"{SESSIONS_PATH}{session.integration_id}"]
        # In order: the cart never goes back to an older version, and "closed" comes last.
        assert [quantity(c) for c in mine] == sorted(quantity(c) for c in mine), mine
        kinds = [c["body"]["customerSession"]["state"] for c in mine]
        assert kinds[-1] == "closed" and "open" not in kinds[kinds.index("closed") :], kinds
        # Every write arrived: Talon.One holds the newest cart, closed.
        remote = states[session.integration_id]
        assert remote["state"] == "closed"
        assert remote["cartItems"][0]["quantity"] == versions
    results = set(OutboxMessage.objects.values_list("result", flat=True))
    assert results <= {"sent", "superseded", "unchanged"}, results


def test_parallel_updates_of_one_session_never_draw_a_409(
    web_settings: Any,
    talon_emulator: Any,
    start_worker: Callable[..., CeleryWorker],
    worker_env: dict[str, str],
) -> None:
    # Slow enough that any two overlapping calls for the session would collide.
    talon_emulator.control.add_fault(kind="latency", seconds=0.05, path=f"{SESSIONS_PATH}*")
    workers = [start_worker("w1", beat=True), start_worker("w2")]
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.ops.writer", "7", "6", str(base)],
            cwd=REPO_ROOT,
            env={**worker_env, "DJANGO_SETTINGS_MODULE": "tests.ops.worker_settings"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for base in (100, 200, 300)
    ]
    outputs = []
    for writer in writers:
        out, _ = writer.communicate(timeout=60)
        outputs.append(out.decode(errors="replace"))
        assert writer.returncode == 0, out.decode(errors="replace")

    wait_until(
        lambda: undelivered() == 0,
        DRAIN_TIMEOUT,
        "the outbox to drain",
        lambda: worker_logs(workers) + "\n".join(outputs),
    )

    calls = session_calls(talon_emulator)
    conflicts = [c for c in calls if c["status"] == 409]
    assert conflicts == [], conflicts
    assert calls and all(c["status"] == 200 for c in calls)
    (session,) = CustomerSession.objects.all()
    assert OutboxMessage.objects.filter(key=f"session:{session.integration_id}").count() == 18
    newest = OutboxMessage.objects.filter(key=f"session:{session.integration_id}").latest("id")
    remote = talon_emulator.control.state()["sessions"][session.integration_id]
    assert (
        remote["cartItems"][0]["quantity"]
        == newest.payload["customerSession"]["cartItems"][0]["quantity"]
    )


def test_lost_messages_are_delivered_by_the_beat_relay(
    web_settings: Any,
    talon_emulator: Any,
    start_worker: Callable[..., CeleryWorker],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The broker never hears of these writes (a message lost between commit and publish):
    the relay that beat runs finds the pending rows in the database and delivers them."""
    from django_talon import outbox

    monkeypatch.setattr(outbox.scheduling, "dispatch", lambda key, **kwargs: None)
    for cart in (21, 22):
        services.update_cart(OpsCart(cart, 1))
    assert undelivered() == 2
    worker = start_worker("w1", beat=True)

    wait_until(lambda: undelivered() == 0, DRAIN_TIMEOUT, "the beat relay", worker.log_tail)
    assert "django_talon.relay_outbox" in worker.log_text()
    assert len(session_calls(talon_emulator)) == 2


def test_named_tasks_run_on_a_real_worker_with_json_arguments(
    web_settings: Any,
    talon_emulator: Any,
    celery_client_app: Any,
    start_worker: Callable[..., CeleryWorker],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a shop (or another code base) sends by name reaches the tasks: bulk sync and
    erasure, with plain JSON arguments only."""
    from django.contrib.auth import get_user_model

    from django_talon import outbox
    from django_talon.models import CustomerProfile, DataDeletionRequest

    # Only the messages this test sends reach the worker.
    monkeypatch.setattr(outbox.scheduling, "dispatch", lambda key, **kwargs: None)
    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        [user_model(username=f"w-{i}", password="!") for i in range(3)]
    )
    request = services.erase_customer(users[0], requested_by="test")
    worker = start_worker("w1")

    celery_client_app.send_task("django_talon.sync_profiles", kwargs={"batch_size": 2})
    celery_client_app.send_task("django_talon.erase_customer", args=[request.pk])

    def done() -> bool:
        request.refresh_from_db()
        synced = CustomerProfile.objects.filter(last_synced_at__isnull=False).count()
        return request.state == DataDeletionRequest.State.COMPLETED and synced == 2

    wait_until(done, DRAIN_TIMEOUT, "the bulk sync and the erasure", worker.log_tail)
    bulk = talon_emulator.control.requests("/v2/customer_profiles")
    # Batches of 2 users: [erased (skipped), user 1] and [user 2].
    assert [len(c["body"]["customerProfiles"]) for c in bulk] == [1, 1]
    deletes = talon_emulator.control.requests("/v1/customer_data/")
    assert [d["status"] for d in deletes] in ([204], [404])
