"""Talon.One down or slow, against the emulator over HTTP (docs/outbox.md).

Fail-open: cart saves and order placement succeed while the emulator refuses connections or
answers slower than the timeout; nothing is lost and everything is delivered, in order, once
it recovers. Fail-closed: the order is refused with a clear error and rolled back.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from django_talon import outbox, resilience, services
from django_talon.exceptions import OrderRefused
from django_talon.models import OutboxMessage
from tests.core.conftest import ESPRESSO, GRINDER, SHOP_TALON, make_cart
from tests.shopapp.models import CartItem, Order

pytestmark = pytest.mark.django_db(transaction=True)

FAST = {"TIMEOUT": 0.3, "IMMEDIATE_TIMEOUT": 0.3, "CLIENT_MAX_ATTEMPTS": 1}


def closed_port_url() -> str:
    """A URL on which nothing listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def shop(settings: Any, talon_settings: dict[str, Any], talon_emulator: Any) -> Any:
    settings.TALON = {**settings.TALON, **SHOP_TALON, **FAST}
    return talon_emulator


def recover(settings: Any, emulator: Any) -> None:
    """Talon.One is back: point at the emulator, let the breaker's cooldown pass, relay."""
    settings.TALON = {**settings.TALON, "BASE_URL": emulator.url}
    emulator.control.clear_faults()
    resilience.breaker.reset()
    OutboxMessage.objects.filter(state="pending").update(next_attempt_at=timezone.now())
    while outbox.relay():
        if not OutboxMessage.objects.filter(state="pending").exists():
            break


def test_refused_connections_fail_open(settings: Any, shop: Any, django_user_model: Any) -> None:
    user = django_user_model.objects.create_user("dan", "dan@example.com", "pw")
    shop.control.clear_requests()
    settings.TALON = {**settings.TALON, "BASE_URL": closed_port_url()}

    cart = make_cart(user=user, items=[ESPRESSO])
    CartItem.objects.create(cart=cart, sku="GRINDER-X", name="Grinder", price=89, quantity=1)
    services.apply_coupon(cart, "WELCOME10")
    order = Order.objects.create(cart=cart, user=user, status="paid")  # placed: fail open
    assert order.pk
    session = services.session_for_order(order)
    assert session is not None and session.state == "closed"
    assert OutboxMessage.objects.filter(state="pending").exists()
    assert not OutboxMessage.objects.filter(state="dead").exists()
    assert shop.control.requests() == []

    recover(settings, shop)

    assert not OutboxMessage.objects.exclude(state="done").exists(), "nothing lost"
    remote = shop.control.state()["sessions"][session.integration_id]
    assert remote["state"] == "closed"
    # Charged without Talon.One's discounts (it was down at checkout): the close does not
    # redeem WELCOME10 (TALON["CLOSE_UNCONFIRMED"], docs/reconciliation.md).
    assert remote["couponCodes"] == []
    assert sorted(i["sku"] for i in remote["cartItems"]) == ["ESPRESSO-250", "GRINDER-X"]
    assert f"user-{user.pk}" in shop.control.state()["profiles"]
    # Coalesced: one session write (the close, carrying the full cart), not one per change.
    writes = [r for r in shop.control.requests("/v2/customer_sessions/") if r["method"] == "PUT"]
    assert len(writes) == 1 and writes[0]["body"]["customerSession"]["state"] == "closed"


def test_latency_above_timeout_fail_open(settings: Any, shop: Any) -> None:
    shop.control.add_fault(kind="latency", seconds=1.0, path="/v2/customer_sessions/*")
    cart = make_cart(items=[ESPRESSO])
    message = OutboxMessage.objects.get()
    assert message.state == "pending" and "Timeout" in message.last_error
    order = Order.objects.create(cart=cart, status="paid")
    assert order.pk

    recover(settings, shop)

    session = services.session_for_order(order)
    assert session is not None
    assert not OutboxMessage.objects.exclude(state="done").exists()
    remote = shop.control.state()["sessions"][session.integration_id]
    assert remote["state"] == "closed"
    session.refresh_from_db()
    assert session.effects_received_at is not None and session.last_error == ""


def test_fail_closed_refuses_order_with_clear_error(
    settings: Any, shop: Any, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("eve", "eve@example.com", "pw")
    cart = make_cart(user=user, items=[GRINDER])
    settings.TALON = {
        **settings.TALON,
        "ORDER_PLACEMENT": "fail_closed",
        "BASE_URL": closed_port_url(),
    }
    order = Order.objects.create(cart=cart, user=user, status="pending")
    with pytest.raises(OrderRefused) as refused, transaction.atomic():
        order.status = "paid"
        order.save()
    assert "could not confirm your discounts" in str(refused.value)
    assert "ConnectionError" in refused.value.cause
    order.refresh_from_db()
    assert order.status == "pending"
    session = services.session_for_order(order)
    assert session is not None and session.state == "open"

    # Slow instead of down: refused as well.
    settings.TALON = {**settings.TALON, "BASE_URL": shop.url}
    shop.control.add_fault(kind="latency", seconds=1.0, path="/v2/customer_sessions/*")
    resilience.breaker.reset()
    with pytest.raises(OrderRefused), transaction.atomic():
        order.status = "paid"
        order.save()

    shop.control.clear_faults()
    resilience.breaker.reset()
    with transaction.atomic():
        order.status = "paid"
        order.save()
    assert shop.control.state()["sessions"][session.integration_id]["state"] == "closed"


def test_breaker_shares_state_through_the_cache(settings: Any, shop: Any) -> None:
    settings.TALON = {**settings.TALON, "BASE_URL": closed_port_url()}
    for _ in range(3):  # BREAKER_THRESHOLD in SHOP_TALON
        make_cart(items=[ESPRESSO])
    assert resilience.breaker.state() == "open"
    # Whoever reads the same cache sees the open circuit: the next cart costs no call
    # (a real second process over Redis: tests/ops/test_shared_breaker.py).
    before = OutboxMessage.objects.get(pk=OutboxMessage.objects.order_by("id").first().pk)  # type: ignore[union-attr]
    make_cart(items=[GRINDER])
    newest = OutboxMessage.objects.order_by("-id").first()
    assert newest is not None and newest.attempts == 0 and newest.state == "pending"
    assert before.attempts == 1
    recover(settings, shop)
    assert not OutboxMessage.objects.exclude(state="done").exists()


def test_dry_run_evaluation_goes_through_the_guarded_call_path(settings: Any, shop: Any) -> None:
    """``evaluate_cart`` raises the app's exceptions (never the client's) and feeds the breaker."""
    from django_talon.client.errors import TalonError
    from django_talon.exceptions import TalonUnavailableError

    cart = make_cart(items=[ESPRESSO])
    assert services.evaluate_cart(cart)  # the emulator answers: effects, no error
    settings.TALON = {**settings.TALON, "BASE_URL": closed_port_url()}
    for _ in range(3):  # BREAKER_THRESHOLD in SHOP_TALON
        with pytest.raises(TalonUnavailableError) as raised:
            services.evaluate_cart(cart)
        assert not isinstance(raised.value, TalonError)
        assert "evaluate the cart" in str(raised.value)
    assert resilience.breaker.state() == "open"
    with pytest.raises(TalonUnavailableError, match="circuit is open"):
        services.evaluate_cart(cart)


def test_a_piggy_backed_relay_costs_a_shopper_at_most_one_short_call(
    settings: Any, shop: Any
) -> None:
    """Without Celery a request relays other keys' due rows: against a Talon.One that accepts
    and never answers, all of them share one ``IMMEDIATE_TIMEOUT`` (it took a shopper one
    short timeout per key, until the breaker opened). Counted at the emulator: the shopper's
    own call and the relay's first one; every other row waits, due, and nothing is lost."""
    from django.core.cache import cache

    settings.TALON = {**settings.TALON, "ENABLED": False, "SYNC_RELAY_INTERVAL": 60}
    for _ in range(6):
        make_cart(items=[ESPRESSO])  # switched off: six keys wait
    settings.TALON = {**settings.TALON, "ENABLED": True, "BREAKER_THRESHOLD": 100}
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    hang = shop.control.add_fault(kind="hang", seconds=30, path="/v2/customer_sessions/*")
    cache.delete("django_talon:sync_relay")
    make_cart(items=[GRINDER])  # its own short attempt, then the relay
    faults = {f["id"]: f for f in shop.control.state()["faults"]}
    assert faults[hang["id"]]["hits"] == 2
    shop.control.clear_faults()
    assert OutboxMessage.objects.filter(state="pending").values("key").distinct().count() == 7
    recover(settings, shop)
    assert not OutboxMessage.objects.exclude(state="done").exists(), "nothing lost"
