"""Celery tasks: names, eager mode, idempotency (safe to run twice), erasure retries, and
django_talon without Celery installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from django_talon import services, tasks
from django_talon.models import CustomerSession, DataDeletionRequest, OutboxMessage
from tests.ops.carts import OpsCart
from tests.resources import REPO_ROOT

PINNED_NAMES = {
    "django_talon.deliver_outbox_key",
    "django_talon.relay_outbox",
    "django_talon.sweep_outbox",
    "django_talon.erase_customer",
    "django_talon.sync_profiles",
    "django_talon.sync_audiences",
    "django_talon.sync_reservations",
}


@pytest.fixture
def eager_app() -> Iterator[Any]:
    """A Celery app in eager mode, set as the current app (what a shop's test settings do)."""
    from celery import Celery
    from celery._state import get_current_app

    previous = get_current_app()
    app = Celery("django-talon-eager", set_as_current=False)
    app.conf.update(task_always_eager=True, task_eager_propagates=True, broker_url="memory://")
    app.set_current()
    try:
        yield app
    finally:
        previous.set_current()
        app.close()


@pytest.fixture
def queued_settings(settings: Any, talon_settings: Any) -> Any:
    """Writes are queued and handed to Celery (no immediate attempt in the web process)."""
    settings.TALON = {**settings.TALON, "DELIVERY": "celery", "IMMEDIATE_ATTEMPT": False}
    return settings


def session_puts(emulator: Any) -> list[dict[str, Any]]:
    return [r for r in emulator.control.requests("/v2/customer_sessions/") if r["method"] == "PUT"]


def test_task_names_are_the_pinned_ones(eager_app: Any) -> None:
    registered = {name for name in eager_app.tasks if name.startswith("django_talon.")}
    assert registered >= PINNED_NAMES
    assert tasks.CELERY_INSTALLED


def test_beat_schedule_helper() -> None:
    schedule = tasks.beat_schedule(relay_seconds=5, sweep_seconds=30)
    assert {entry["task"] for entry in schedule.values()} == {
        "django_talon.relay_outbox",
        "django_talon.sweep_outbox",
    }
    assert all(entry["options"]["expires"] == entry["schedule"] for entry in schedule.values())


@pytest.mark.django_db(transaction=True)
def test_eager_mode_delivers_inline_through_the_task(
    eager_app: Any, queued_settings: Any, talon_emulator: Any
) -> None:
    session = services.update_cart(OpsCart(1, 2))

    assert not OutboxMessage.objects.exclude(state=OutboxMessage.State.DONE).exists()
    (call,) = session_puts(talon_emulator)
    assert call["path"].endswith(session.integration_id)
    session.refresh_from_db()
    assert session.effects  # the answer was stored by the task, in this process


@pytest.mark.django_db
def test_delivery_tasks_are_safe_to_run_twice(queued_settings: Any, talon_emulator: Any) -> None:
    # In a test transaction on_commit never fires: the rows stay pending for the tasks.
    session = services.update_cart(OpsCart(2, 1))
    services.update_cart(OpsCart(2, 3))
    key = f"session:{session.integration_id}"
    assert OutboxMessage.objects.filter(key=key, state="pending").count() == 2

    first = tasks.deliver_outbox_key(key)
    second = tasks.deliver_outbox_key(key)

    assert len(session_puts(talon_emulator)) == 1  # coalesced: only the newest cart is sent
    assert first["sent"] == 1 and first["skipped"] == 1
    assert second["sent"] == 0 and second["stopped"] == "empty"
    assert tasks.relay_outbox() == 0
    assert tasks.sweep_outbox() == {"redriven": 0, "purged": 0}
    assert len(session_puts(talon_emulator)) == 1


@pytest.mark.django_db
def test_relay_task_delivers_due_rows(queued_settings: Any, talon_emulator: Any) -> None:
    services.update_cart(OpsCart(3, 1))
    services.update_cart(OpsCart(4, 1))

    assert tasks.relay_outbox() == 2
    assert tasks.relay_outbox() == 0
    assert len(session_puts(talon_emulator)) == 2
    assert CustomerSession.objects.filter(effects_received_at__isnull=False).count() == 2


@pytest.mark.django_db
def test_erase_customer_retries_until_confirmed_and_is_audited(
    settings: Any, talon_settings: Any, talon_emulator: Any
) -> None:
    settings.TALON = {**settings.TALON, "DELIVERY": "sync", "IMMEDIATE_ATTEMPT": False}
    user = get_user_model().objects.create(username="erase-me", password="!")
    services.sync_profile(user)
    talon_emulator.control.add_fault(kind="error", status=503, path="/v1/customer_data/*")
    request = services.erase_customer(user, requested_by="test")

    with pytest.raises(tasks.ErasureNotConfirmed, match="not confirmed"):
        tasks.erase_customer(request.pk)
    request.refresh_from_db()
    assert request.state == DataDeletionRequest.State.PENDING
    assert request.attempts >= 1 and "503" in request.last_error

    talon_emulator.control.clear_faults()
    assert tasks.erase_customer(request.pk) is True
    assert tasks.erase_customer(request.pk) is True  # twice: nothing more happens
    request.refresh_from_db()
    assert request.state == DataDeletionRequest.State.COMPLETED and request.completed_at
    deletes = [
        r
        for r in talon_emulator.control.requests("/v1/customer_data/")
        if r["status"] in (204, 404)
    ]
    assert len(deletes) == 1
    assert tasks.erase_customer(999_999) is True  # unknown request: nothing to do


def test_erase_task_retries_forever_with_backoff() -> None:
    """The retry itself (on a worker, not eagerly) is in test_task_arguments.py."""
    task = tasks.erase_customer
    assert task.max_retries is None
    assert (tasks.ERASE_RETRY_BACKOFF, tasks.ERASE_RETRY_BACKOFF_MAX) == (10, 3600)


@pytest.mark.django_db
def test_sync_tasks_take_plain_arguments_and_run_twice(
    talon_settings: Any, talon_emulator: Any
) -> None:
    get_user_model().objects.create(username="sync-a", password="!")
    first = tasks.sync_profiles(batch_size=500)
    second = tasks.sync_profiles(batch_size=500)
    assert (first["sent"], first["api_calls"]) == (1, 1)
    assert (second["sent"], second["api_calls"], second["unchanged"]) == (0, 0, 1)
    json.dumps(first)  # results are JSON for the result backend

    since = tasks.sync_profiles(since="2000-01-01T00:00:00+00:00", force=True)
    assert since["since"].startswith("2000-01-01") and since["sent"] == 1
    with pytest.raises(ValueError, match="ISO"):
        tasks.sync_profiles(since="last tuesday")

    assert tasks.sync_audiences(1, add=["user-1"]) == 1
    assert tasks.sync_audiences(1, add=["user-1"]) == 1
    assert tasks.sync_reservations("VIP20")["remote"] == 0


def test_django_talon_works_without_celery() -> None:
    """Celery blocked from importing: the app, its checks and the task functions still work."""
    script = """
import sys
sys.modules["celery"] = None  # any "import celery" now raises ImportError
import django
django.setup()
from django.core import checks
import django_talon.tasks as tasks
assert tasks.CELERY_INSTALLED is False
assert tasks.relay_outbox.name == "django_talon.relay_outbox"
try:
    tasks.relay_outbox.delay()
except RuntimeError as exc:
    assert "Celery is not installed" in str(exc), exc
else:
    raise AssertionError(".delay() without celery must raise")
from django_talon import outbox
assert outbox.celery_enabled() is False
# A bound task (erase_customer) gets the stand-in as self: called directly, never retried.
from unittest import mock
from django.core.management import call_command
call_command("migrate", verbosity=0)
assert tasks.erase_customer(999_999) is True
with mock.patch("django_talon.services.process_erasure", return_value=False):
    try:
        tasks.erase_customer(999_998)
    except tasks.ErasureNotConfirmedError as exc:
        assert "not confirmed" in str(exc), exc
    else:
        raise AssertionError("an unconfirmed erasure called directly must raise")
errors = [m for m in checks.run_checks() if m.id and m.id.startswith("django_talon.E")]
print("OK", [m.id for m in errors])
"""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    env.pop("TALON_TEST_DB", None)
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("OK"), proc.stdout
