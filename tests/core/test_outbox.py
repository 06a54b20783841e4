"""The outbox engine against a recording fake client: transactions, coalescing, retries,
dead letters, sweep, breaker, kill switch, fail-closed. No HTTP; see test_journeys.py for
the same flows against the emulator."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from django_talon import outbox, resilience, services
from django_talon.client.errors import (
    TalonAPIError,
    TalonBadRequest,
    TalonConnectionError,
    TalonDecodeError,
    TalonError,
    TalonTimeoutError,
    TalonValidationError,
)
from django_talon.exceptions import OrderRefused
from django_talon.models import CustomerSession, OutboxMessage
from tests.core.conftest import ESPRESSO, GRINDER, FakeClient, make_cart
from tests.shopapp.models import CartItem, Order

pytestmark = pytest.mark.django_db(transaction=True)


def session_calls(fake: FakeClient) -> list[dict[str, Any]]:
    return [c[1][1] for c in fake.calls if c[0] == "update_customer_session_v2"]


def test_cart_saved_outside_transaction_is_delivered_at_once(fake_client: FakeClient) -> None:
    fake_client.effects = [{"effectType": "setDiscount", "props": {"name": "x", "value": 1.0}}]
    cart = make_cart(items=[ESPRESSO])
    (body,) = session_calls(fake_client)
    assert body["cartItems"] == [
        {
            "sku": "ESPRESSO-250",
            "name": "Espresso beans 250 g",
            "quantity": 2,
            "price": 8.5,
            "category": "coffee",
        }
    ]
    assert body["profileId"] == "" and body["state"] == "open"
    session = services.session_for_cart(cart, create=False)
    assert session is not None and session.effects == fake_client.effects
    assert session.effects_received_at is not None
    assert session.pushed_fingerprint == session.fingerprint
    assert OutboxMessage.objects.get().state == "done"


def test_rolled_back_transaction_sends_nothing(fake_client: FakeClient) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        make_cart(items=[ESPRESSO])
        raise RuntimeError("order form invalid")
    assert fake_client.calls == []
    assert OutboxMessage.objects.count() == 0
    assert CustomerSession.objects.count() == 0


def test_updates_in_one_transaction_are_coalesced(fake_client: FakeClient) -> None:
    with transaction.atomic():
        cart = make_cart(items=[ESPRESSO, GRINDER])
        CartItem.objects.filter(sku="GRINDER-X").first().delete()  # type: ignore[union-attr]
        assert fake_client.calls == []
    bodies = session_calls(fake_client)
    assert len(bodies) == 1, "only the newest cart state is sent"
    assert [i["sku"] for i in bodies[0]["cartItems"]] == ["ESPRESSO-250"]
    results = list(OutboxMessage.objects.order_by("id").values_list("result", flat=True))
    assert results[-1] == "sent" and set(results[:-1]) == {"superseded"}
    assert services.session_for_cart(cart, create=False) is not None


def test_unchanged_cart_costs_no_row_and_no_call(fake_client: FakeClient) -> None:
    cart = make_cart(items=[ESPRESSO])
    rows = OutboxMessage.objects.count()
    calls = len(fake_client.calls)
    cart.save()
    services.update_cart(cart)
    assert OutboxMessage.objects.count() == rows
    assert len(fake_client.calls) == calls


def test_failed_immediate_attempt_is_retried_with_backoff(fake_client: FakeClient) -> None:
    fake_client.fail = TalonConnectionError("refused")
    cart = make_cart(items=[ESPRESSO])
    message = OutboxMessage.objects.get()
    assert message.state == "pending" and message.attempts == 1
    assert message.next_attempt_at > timezone.now()
    assert "refused" in message.last_error
    session = services.session_for_cart(cart, create=False)
    assert session is not None and "refused" in session.last_error
    # Not due yet: relay leaves it alone.
    assert outbox.relay() == 0
    fake_client.fail = None
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert outbox.relay() == 1
    message.refresh_from_db()
    assert message.state == "done" and message.result == "sent"


def test_dead_letter_after_max_attempts_then_retry_and_purge(fake_client: FakeClient) -> None:
    fake_client.fail = TalonConnectionError("down")
    make_cart(items=[ESPRESSO])
    key = OutboxMessage.objects.get().key
    for _ in range(5):
        outbox.deliver_key(key, force=True)
    message = OutboxMessage.objects.get()
    assert message.state == "dead" and message.attempts == 3  # MAX_ATTEMPTS in SHOP_TALON
    assert list(outbox.dead_letters()) == [message]
    assert resilience.breaker.state() == "open"  # 3 outages in a row (BREAKER_THRESHOLD)
    fake_client.fail = None
    resilience.breaker.reset()
    assert outbox.retry_dead() == 1  # delivered after commit (autocommit: at once)
    message.refresh_from_db()
    assert message.state == "done"
    assert outbox.purge_dead() == 0


def test_bad_request_is_dead_at_once(fake_client: FakeClient) -> None:
    fake_client.fail = TalonBadRequest(400, "bad cart")
    make_cart(items=[ESPRESSO])
    message = OutboxMessage.objects.get()
    assert message.state == "dead" and message.attempts == 1
    assert outbox.purge_dead([message.pk]) == 1


@pytest.mark.parametrize(
    ("fail", "state"),
    [
        (TalonAPIError(400, "bad cart"), "dead"),
        (TalonAPIError(404, "no such session"), "dead"),
        (TalonValidationError("quantity must be >= 1", field="cartItems"), "dead"),
        (TalonAPIError(401, "bad key"), "pending"),
        (TalonAPIError(409, "conflict"), "pending"),
        (TalonAPIError(429, "slow down"), "pending"),
        (TalonAPIError(503, "maintenance"), "pending"),
        (TalonDecodeError("not JSON"), "pending"),
        (TalonTimeoutError("read timed out"), "pending"),
    ],
    ids=["400", "404", "validation", "401", "409", "429", "503", "decode", "timeout"],
)
def test_what_is_permanent_and_what_is_retried(
    fake_client: FakeClient, fail: TalonError, state: str
) -> None:
    """400, 404 and a request refused before sending are dead at once; everything else the
    client raises is retried with backoff (``resilience.translate`` decides, the outbox
    reads ``TalonRequestFailedError.permanent``). ``last_error`` names the client's error."""
    fake_client.fail = fail
    make_cart(items=[ESPRESSO])
    message = OutboxMessage.objects.get()
    assert (message.state, message.attempts) == (state, 1)
    # The client's own error class and description (the row names the operation).
    assert message.last_error.startswith("Talon"), message.last_error


def test_a_handler_s_permanent_error_is_a_dead_letter_at_once(
    fake_client: FakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(message: OutboxMessage, client: Any) -> str:
        raise outbox.PermanentError("this payload can never be sent")

    monkeypatch.setitem(
        outbox.registry._registry, "test.refuse", outbox.Operation("test.refuse", refuse)
    )
    message = outbox.enqueue("test.refuse", "test:1", {})
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("dead", 1)
    assert message.last_error == "PermanentError: this payload can never be sent"
    assert fake_client.calls == []


def test_the_outbox_imports_no_service() -> None:
    """Handlers are registered by ``AppConfig.ready()``: the outbox never imports the
    services, not even inside a function (the dependency runs services -> outbox)."""
    import ast
    from pathlib import Path

    package = Path(outbox.__file__).parent
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            bad = [
                n for n in names if n.startswith(("django_talon.services", "django_talon.client."))
            ]
            assert bad == [], f"{path.name} imports {bad}"
    assert outbox.get_operation("session.update").handler.__module__ == (
        "django_talon.services.handlers"
    )


def test_retried_dead_update_never_moves_the_cart_back(fake_client: FakeClient) -> None:
    fake_client.fail = TalonBadRequest(400, "bad cart")
    cart = make_cart(items=[ESPRESSO])
    fake_client.fail = None
    CartItem.objects.create(cart=cart, sku="GRINDER-X", name="G", price=89, quantity=1)
    sent_before = len(fake_client.calls)
    outbox.retry_dead()
    assert len(fake_client.calls) == sent_before
    old = OutboxMessage.objects.order_by("id").first()
    assert old is not None and old.result == "superseded"


def test_per_key_order_is_kept_behind_a_failing_row(fake_client: FakeClient) -> None:
    fake_client.fail = TalonConnectionError("down")
    cart = make_cart(items=[ESPRESSO])
    session = services.session_for_cart(cart, create=False)
    assert session is not None
    services.close_session(session)
    assert OutboxMessage.objects.filter(state="pending").count() == 2
    fake_client.fail = None
    outbox.deliver_key(f"session:{session.integration_id}", force=True)
    bodies = session_calls(fake_client)
    # The first cart update is superseded by the close (which carries the full cart).
    assert bodies[-1]["state"] == "closed"
    assert [m.result for m in OutboxMessage.objects.order_by("id")] == ["superseded", "sent"]


def test_sweep_redrives_stranded_rows_and_purges_old_done(fake_client: FakeClient) -> None:
    fake_client.fail = TalonConnectionError("down")
    make_cart(items=[ESPRESSO])
    fake_client.fail = None
    OutboxMessage.objects.update(next_attempt_at=timezone.now() - timedelta(hours=1))
    done = OutboxMessage.objects.create(operation="session.update", key="session:old", state="done")
    OutboxMessage.objects.filter(pk=done.pk).update(updated_at=timezone.now() - timedelta(days=30))
    report = outbox.sweep()
    assert report == {"redriven": 1, "purged": 1}
    assert not OutboxMessage.objects.filter(state="pending").exists()


def test_breaker_opens_and_stops_calls(fake_client: FakeClient) -> None:
    fake_client.fail = TalonConnectionError("down")
    for _ in range(3):  # BREAKER_THRESHOLD
        make_cart(items=[ESPRESSO])
    assert resilience.breaker.state() == "open"
    calls = len(fake_client.calls)
    make_cart(items=[GRINDER])
    assert len(fake_client.calls) == calls, "no call while the circuit is open"
    assert OutboxMessage.objects.filter(state="pending").count() == 4
    # Cooldown over: one trial goes through and closes the circuit.
    fake_client.fail = None
    resilience.breaker.reset()
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert outbox.relay() == 4
    assert not OutboxMessage.objects.filter(state="pending").exists()


def test_half_open_lets_exactly_one_trial_through(settings: Any, fake_client: FakeClient) -> None:
    settings.TALON = {**settings.TALON, "BREAKER_COOLDOWN": 0.0}
    fake_client.fail = TalonConnectionError("down")
    for _ in range(3):
        resilience.breaker.record_failure()
    assert resilience.breaker.state() == "half_open"
    assert resilience.breaker.allow() is True
    assert resilience.breaker.allow() is False
    resilience.breaker.record_success()
    assert resilience.breaker.state() == "closed"


def test_kill_switch_keeps_writes_in_the_outbox(fake_client: FakeClient) -> None:
    resilience.set_kill_switch(True)
    assert resilience.is_enabled() is False
    cart = make_cart(items=[ESPRESSO])
    assert fake_client.calls == []
    assert OutboxMessage.objects.get().state == "pending"
    resilience.set_kill_switch(False)
    assert outbox.relay() == 1
    assert services.session_for_cart(cart, create=False).pushed_fingerprint  # type: ignore[union-attr]


def test_disabled_setting_is_a_kill_switch(settings: Any, fake_client: FakeClient) -> None:
    settings.TALON = {**settings.TALON, "ENABLED": False}
    make_cart(items=[ESPRESSO])
    assert fake_client.calls == []
    assert OutboxMessage.objects.get().state == "pending"


def test_fail_closed_refuses_the_order_and_rolls_back(
    settings: Any, fake_client: FakeClient
) -> None:
    settings.TALON = {**settings.TALON, "ORDER_PLACEMENT": "fail_closed"}
    cart = make_cart(items=[ESPRESSO])
    order = Order.objects.create(cart=cart, status="pending")
    fake_client.fail = TalonConnectionError("down")
    with pytest.raises(OrderRefused) as info, transaction.atomic():
        order.status = "paid"
        order.save()
    assert "not placed" in str(info.value)
    order.refresh_from_db()
    assert order.status == "pending"
    session = services.session_for_cart(cart, create=False)
    assert session is not None and session.state == "open"
    assert not OutboxMessage.objects.filter(operation="session.state").exists()
    # Talon.One back: the same order goes through and the close is delivered synchronously.
    fake_client.fail = None
    with transaction.atomic():
        order.status = "paid"
        order.save()
    session.refresh_from_db()
    assert session.state == "closed" and session_calls(fake_client)[-1]["state"] == "closed"


def test_fail_open_places_the_order_and_delivers_later(fake_client: FakeClient) -> None:
    cart = make_cart(items=[ESPRESSO])
    fake_client.fail = TalonConnectionError("down")
    order = Order.objects.create(cart=cart, status="paid")
    assert order.pk
    message = OutboxMessage.objects.get(operation="session.state")
    assert message.state == "pending"
    fake_client.fail = None
    outbox.deliver_key(message.key, force=True)
    message.refresh_from_db()
    assert message.state == "done"
    # Saving the paid order again never closes twice.
    calls = len(fake_client.calls)
    order.save()
    assert len(fake_client.calls) == calls


def test_rejected_coupon_is_dropped_and_signalled(fake_client: FakeClient) -> None:
    from django_talon.signals import coupon_rejected

    seen: list[tuple[str, str]] = []

    def receiver(sender: Any, session: Any, code: str, reason: str, **kw: Any) -> None:
        seen.append((code, reason))

    coupon_rejected.connect(receiver)
    try:
        cart = make_cart(items=[ESPRESSO])
        session = services.apply_coupon(cart, "BOGUS")
    finally:
        coupon_rejected.disconnect(receiver)
    assert seen == [("BOGUS", "CouponNotFound")]
    assert session.coupon_codes == []
    assert session.effects[0]["effectType"] == "rejectCoupon"


def test_erasure_is_never_dead_and_completes(
    fake_client: FakeClient, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("erin", "erin@example.com", "pw")
    # Even an error that dead-letters other rows (400) only delays an erasure.
    fake_client.fail = TalonBadRequest(400, "down for maintenance")
    request = services.erase_customer(user, requested_by="staff:1")
    key = f"profile:{request.integration_id}"
    for _ in range(6):
        outbox.deliver_key(key, force=True)
    message = OutboxMessage.objects.get(operation="customer.erase")
    assert message.state == "pending" and message.attempts >= 6
    request.refresh_from_db()
    assert request.state == "pending" and request.attempts >= 6 and "down" in request.last_error
    fake_client.fail = None
    assert services.process_erasure(request.pk) is True
    request.refresh_from_db()
    assert request.state == "completed" and request.completed_at is not None
    assert services.process_erasure(request.pk) is True  # safe twice


def test_enqueue_rejects_unknown_operation(fake_client: FakeClient) -> None:
    with pytest.raises(KeyError, match="unknown outbox operation"):
        outbox.enqueue("session.teleport", "session:x", {})


def test_sync_mode_piggybacks_a_relay_on_requests(settings: Any, fake_client: FakeClient) -> None:
    settings.TALON = {**settings.TALON, "SYNC_RELAY_INTERVAL": 60}
    fake_client.fail = TalonConnectionError("down")
    make_cart(items=[ESPRESSO])
    fake_client.fail = None
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    from django.core.cache import cache

    cache.delete("django_talon:sync_relay")
    make_cart(items=[GRINDER])  # its after-commit hook also relays the older due row
    assert not OutboxMessage.objects.filter(state="pending").exists()


def test_no_immediate_attempt_when_switched_off(settings: Any, fake_client: FakeClient) -> None:
    settings.TALON = {**settings.TALON, "IMMEDIATE_ATTEMPT": False}
    make_cart(items=[ESPRESSO])  # sync delivery still happens after commit
    assert OutboxMessage.objects.get().state == "done"


def test_evaluate_cart_refuses_when_switched_off(fake_client: FakeClient) -> None:
    from django_talon.exceptions import TalonUnavailable

    cart = make_cart(items=[ESPRESSO])
    resilience.set_kill_switch(True)
    with pytest.raises(TalonUnavailable):
        services.evaluate_cart(cart)


def test_stale_effects_are_not_shown(settings: Any, fake_client: FakeClient) -> None:
    fake_client.effects = [{"effectType": "setDiscount", "props": {"name": "x", "value": 1.0}}]
    cart = make_cart(items=[ESPRESSO])
    fresh = services.get_promotions(cart)
    assert fresh.effects_raw and not fresh.stale and fresh.in_sync
    assert fresh.effects[0].effect_type == "setDiscount"
    CustomerSession.objects.update(effects_received_at=timezone.now() - timedelta(days=2))
    old = services.get_promotions(cart)
    assert old.stale and old.effects_raw == []
    settings.TALON = {**settings.TALON, "EFFECTS_MAX_AGE": 0}
    assert services.get_promotions(cart).effects_raw  # 0 = no age limit
    assert services.get_promotions(None).session is None


def test_stored_promotions_summary(fake_client: FakeClient) -> None:
    fake_client.effects = [
        {"effectType": "setDiscount", "campaignId": 1, "props": {"name": "10%", "value": 1.7}}
    ]
    cart = make_cart(items=[ESPRESSO])
    summary = services.get_promotions(cart).summary()
    assert summary.currency == "EUR" and len(summary.cart_discounts) == 1
    assert summary.in_sync and not summary.stale
