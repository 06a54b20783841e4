"""DELIVERY="celery": keys are handed to the ``django_talon.deliver_outbox_key`` task by
name; eager mode runs it inline; a broker that cannot be reached loses nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from django_talon import outbox
from django_talon.models import CustomerProfile, OutboxMessage
from tests.core.conftest import FakeClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def celery_app(
    settings: Any, fake_client: FakeClient, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    import celery

    import django_talon.tasks  # noqa: F401  (registers the shared tasks)

    # Not set as the process-wide current app (other tests must not see a broker): the
    # outbox resolves ``celery.current_app`` at call time, so patching it is enough.
    app = celery.Celery("django_talon_core_tests", set_as_current=False)
    monkeypatch.setattr(celery, "current_app", app)
    app.conf.broker_url = "memory://"
    app.conf.task_always_eager = False
    settings.TALON = {**settings.TALON, "DELIVERY": "celery"}
    try:
        yield app
    finally:
        app.close()


def test_eager_mode_runs_the_task_inline(
    celery_app: Any, fake_client: FakeClient, django_user_model: Any
) -> None:
    celery_app.conf.task_always_eager = True
    assert outbox.celery_enabled()
    user = django_user_model.objects.create_user("eager", "eager@example.com", "pw")
    assert fake_client.names() == ["update_customer_profile_v2"]
    assert OutboxMessage.objects.get().state == "done"
    assert CustomerProfile.objects.get(user=user).last_synced_at is not None


def test_tasks_are_sent_by_name(
    celery_app: Any,
    fake_client: FakeClient,
    django_user_model: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[tuple[str, Any]] = []
    monkeypatch.setattr(
        celery_app, "send_task", lambda name, args=None, **kw: sent.append((name, args))
    )
    django_user_model.objects.create_user("named", "named@example.com", "pw")
    message = OutboxMessage.objects.get()
    assert sent == [("django_talon.deliver_outbox_key", [message.key])]
    assert message.state == "pending" and fake_client.calls == []


def test_unreachable_broker_loses_nothing(
    celery_app: Any,
    fake_client: FakeClient,
    django_user_model: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(celery_app, "send_task", broken)
    django_user_model.objects.create_user("nobroker", "nobroker@example.com", "pw")
    assert OutboxMessage.objects.get().state == "pending"
    assert outbox.relay() == 1  # the beat's relay (or the sweep) delivers it later
    assert OutboxMessage.objects.get().state == "done"


def test_eager_mode_retries_after_an_outage_like_sync_mode(
    celery_app: Any, fake_client: FakeClient, settings: Any
) -> None:
    """Eager Celery runs tasks inline and ignores countdowns, and no beat runs: without the
    piggy-backed relay a write that failed during an outage would wait forever."""
    from django.core.cache import cache
    from django.utils import timezone

    from django_talon.client.errors import TalonConnectionError
    from tests.core.conftest import ESPRESSO, GRINDER, make_cart

    celery_app.conf.task_always_eager = True
    settings.TALON = {**settings.TALON, "SYNC_RELAY_INTERVAL": 60}
    fake_client.fail = TalonConnectionError("down")
    make_cart(items=[ESPRESSO])
    assert OutboxMessage.objects.filter(state="pending").count() == 1
    fake_client.fail = None
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    cache.delete("django_talon:sync_relay")
    make_cart(items=[GRINDER])  # its after-commit hook also relays the older due row
    assert not OutboxMessage.objects.filter(state="pending").exists()


def test_eager_mode_makes_the_customer_wait_one_short_call_only(
    celery_app: Any,
    fake_client: FakeClient,
    django_user_model: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Eager Celery runs the delivery task inside the web request: a write that is not a cart
    change (a new customer's profile) used the background client (``TIMEOUT`` x
    ``CLIENT_MAX_ATTEMPTS``, 20 s at signup against a Talon.One that does not answer). It gets
    the short-timeout client, as without Celery; the task is not run inline."""
    from django_talon import resilience

    celery_app.conf.task_always_eager = True
    asked: list[bool] = []
    monkeypatch.setattr(
        resilience,
        "get_client",
        lambda immediate=False, **kw: asked.append(immediate) or fake_client,
    )
    ran: list[Any] = []
    monkeypatch.setattr(
        celery_app.tasks[outbox.DELIVER_TASK], "apply", lambda *a, **k: ran.append(a)
    )
    django_user_model.objects.create_user("signup", "signup@example.com", "pw")
    assert fake_client.names() == ["update_customer_profile_v2"]
    assert asked == [True] and ran == []
    assert OutboxMessage.objects.get().state == "done"
