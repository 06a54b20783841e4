"""Celery tasks at their edges: eager retries, ``since`` values, relay limits.

- ``erase_customer`` under eager Celery: Celery runs a retry inline, at once and
  recursively, so a Talon.One answering 503 blocked the caller for half a minute and ended
  in a ``RecursionError`` (or a bare ``celery.exceptions.Retry`` with EAGER_PROPAGATES).
  Eagerly the task now makes one attempt; the relay retries the outbox row. On a worker it
  still retries itself with backoff.
- ``sync_profiles(since=datetime)``: kombu's JSON hands a datetime back as a datetime, and
  the task took only strings (TypeError).
- ``relay(limit=-1)`` failed deep in the query's slicing; ``limit=0`` meant the default.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from django_talon import outbox, services, tasks
from django_talon.models import DataDeletionRequest, OutboxMessage
from tests.ops.carts import OpsCart

pytestmark = pytest.mark.django_db


def _current_app(**conf: Any) -> Iterator[Any]:
    from celery import Celery
    from celery._state import get_current_app

    previous = get_current_app()
    app = Celery("django-talon-task-arguments", set_as_current=False)
    app.conf.update(broker_url="memory://", **conf)
    app.set_current()
    try:
        yield app
    finally:
        previous.set_current()
        app.close()


@pytest.fixture(params=[True, False], ids=["propagates", "swallows"])
def eager_app(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Eager Celery, with and without CELERY_TASK_EAGER_PROPAGATES."""
    yield from _current_app(task_always_eager=True, task_eager_propagates=request.param)


@pytest.fixture
def worker_app() -> Iterator[Any]:
    """A non-eager app on the in-memory broker: what a worker's retry sends goes nowhere."""
    yield from _current_app(task_always_eager=False)


def refused_erasure(emulator: Any) -> DataDeletionRequest:
    """A recorded erasure that Talon.One refuses (503) for now."""
    user = get_user_model().objects.create(username="erase-eager", password="!")
    emulator.control.add_fault(kind="error", status=503, path="/v1/customer_data/*")
    return services.erase_customer(user, requested_by="test")


# -- erase_customer ---------------------------------------------------------------------------
def test_eager_erasure_is_one_attempt_and_left_to_the_relay(
    eager_app: Any, talon_settings: Any, talon_emulator: Any
) -> None:
    request = refused_erasure(talon_emulator)

    started = time.monotonic()
    result = tasks.erase_customer.delay(request.pk)
    elapsed = time.monotonic() - started

    assert result.successful(), result.result  # no Retry, no RecursionError
    assert result.get() is False  # not confirmed yet: said so, not raised
    assert elapsed < 5
    deletes = talon_emulator.control.requests("/v1/customer_data/")
    assert 1 <= len(deletes) <= 2  # one attempt (the client may retry a 503 once)
    request.refresh_from_db()
    assert request.state == DataDeletionRequest.State.PENDING and "503" in request.last_error

    # The outbox row is still pending, and the relay delivers it once Talon.One answers.
    row = OutboxMessage.objects.get(operation="customer.erase")
    assert row.state == OutboxMessage.State.PENDING
    talon_emulator.control.clear_faults()
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert outbox.relay() == 1
    request.refresh_from_db()
    assert request.state == DataDeletionRequest.State.COMPLETED
    assert tasks.erase_customer.delay(request.pk).get() is True


def test_a_worker_still_retries_the_erasure_with_backoff(
    worker_app: Any, talon_settings: Any, talon_emulator: Any
) -> None:
    from celery.exceptions import Retry

    request = refused_erasure(talon_emulator)
    task = worker_app.tasks["django_talon.erase_customer"]
    for retries, longest in ((0, 10), (3, 80), (20, 3600)):
        task.push_request(
            id=f"erase-{retries}", args=[request.pk], kwargs={}, retries=retries, is_eager=False
        )
        task.request.called_directly = False
        try:
            with pytest.raises(Retry) as raised:
                task.run(request.pk)
        finally:
            task.pop_request()
        assert isinstance(raised.value.exc, tasks.ErasureNotConfirmedError)
        assert 0 <= float(raised.value.when) <= longest  # 10 s doubling to 1 h, jittered
    assert task.max_retries is None  # forever: erasure is a legal obligation


def test_called_as_a_function_the_erasure_task_still_raises(
    talon_settings: Any, talon_emulator: Any
) -> None:
    request = refused_erasure(talon_emulator)
    with pytest.raises(tasks.ErasureNotConfirmedError, match="not confirmed"):
        tasks.erase_customer(request.pk)


# -- sync_profiles(since=...) ------------------------------------------------------------------
@pytest.mark.parametrize(
    "since",
    [
        timezone.now() - timedelta(days=1),  # what kombu's JSON hands back for a datetime
        datetime(2000, 1, 1),  # naive: the shop's local time
        date(2000, 1, 1),
        "2000-01-01T00:00:00+00:00",
        "2000-01-01",
        " 2000-01-01T00:00 ",
    ],
    ids=["aware", "naive", "date", "iso", "iso-date", "iso-spaces"],
)
def test_sync_profiles_takes_datetimes_and_iso_strings(
    since: Any, talon_settings: Any, talon_emulator: Any
) -> None:
    get_user_model().objects.create(username="since-user", password="!")
    result = tasks.sync_profiles(since=since, force=True)
    assert result["sent"] == 1 and result["since"]


@pytest.mark.parametrize("since", ["7d", "last tuesday", "2026-02-30", 1700000000, ["x"]])
def test_sync_profiles_refuses_what_is_no_moment_clearly(
    since: Any, talon_settings: Any, talon_emulator: Any
) -> None:
    with pytest.raises(ValueError, match="since must be a datetime or an ISO date-time"):
        tasks.sync_profiles(since=since)
    assert not talon_emulator.control.requests("/v2/customer_profiles")


# -- relay limits ------------------------------------------------------------------------------
@pytest.mark.parametrize("limit", [0, -1, "abc", 2.5, True])
def test_relay_refuses_a_limit_that_is_no_positive_number(limit: Any) -> None:
    with pytest.raises(ValueError, match="limit must be a positive number of keys"):
        outbox.relay(limit)
    with pytest.raises(ValueError, match="limit must be a positive number of keys"):
        tasks.relay_outbox(limit=limit)


def test_relay_limit_bounds_the_keys(talon_settings: Any, talon_emulator: Any) -> None:
    for n in range(3):
        services.update_cart(OpsCart(70 + n, 1))  # pending: no on_commit in a test transaction
    assert outbox.relay(1) == 1
    assert tasks.relay_outbox(limit="1") == 1  # digits, as a message's JSON may carry them
    assert tasks.relay_outbox(limit=None) == 1  # None: RELAY_BATCH_SIZE, the one left
