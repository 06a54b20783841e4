"""Fail-closed placement under a hanging Talon.One is bounded by ``PLACEMENT_TIMEOUT``.

The whole confirmation (connect + read, retries included) is one deadline: the close gets
one attempt whose (connect, read) timeout adds up to at most ``PLACEMENT_TIMEOUT``, the
client does not retry it, and no call starts once the deadline has passed. Checked against
the emulator's ``hang`` fault over HTTP; the timeouts handed to ``requests`` and the calls
made are counted (no wall-clock assert). docs/outbox.md, "Order placement".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.db import transaction

from django_talon import outbox, services
from django_talon.exceptions import OrderRefusedError, TalonUnavailableError
from django_talon.models import OutboxMessage
from django_talon.outbox import delivery
from tests.core.conftest import ESPRESSO, make_cart
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

SESSIONS = "/v2/customer_sessions/*"


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, Any]]]:
    """Every HTTP request the client sends, with the timeout it gave ``requests``."""
    calls: list[tuple[str, Any]] = []
    original = requests.Session.request

    def request(self: requests.Session, method: str, url: str, **kw: Any) -> Any:
        calls.append((f"{method} {url}", kw.get("timeout")))
        return original(self, method, url, **kw)

    monkeypatch.setattr(requests.Session, "request", request)
    yield calls


@pytest.fixture
def fail_closed(settings: Any, shop: Any) -> Any:
    """Fail-closed with a short deadline, and the usual long ``TIMEOUT`` with client retries
    (what a hang would otherwise cost: two attempts of ten seconds' read timeout)."""
    settings.TALON = {
        **settings.TALON,
        "ORDER_PLACEMENT": "fail_closed",
        "PLACEMENT_TIMEOUT": 0.8,
        "TIMEOUT": (3.05, 10.0),
        "CLIENT_MAX_ATTEMPTS": 3,
    }
    return shop


def session_puts(sent: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [
        (name, t) for name, t in sent if name.startswith("PUT ") and "customer_sessions" in name
    ]


def test_a_hang_refuses_the_order_after_one_bounded_attempt(
    fail_closed: Any, sent: list[tuple[str, Any]]
) -> None:
    cart = make_cart(items=[ESPRESSO])  # its session update is delivered (fault-free)
    order = Order.objects.create(cart=cart, status="pending")
    session = services.session_for_order(order)
    assert session is not None and session.effects_received_at is not None
    fail_closed.control.add_fault(kind="hang", seconds=3, path=SESSIONS, times=1)
    sent.clear()

    with pytest.raises(OrderRefusedError) as refused, transaction.atomic():
        order.status = "paid"
        order.save()

    assert "TalonTimeoutError" in refused.value.cause
    ((name, timeout),) = session_puts(sent)  # one attempt: no client retry, no second row
    assert session.integration_id in name
    connect, read = timeout
    assert connect + read <= 0.8 + 1e-9  # the deadline, not TIMEOUT's 3.05 + 10 s
    assert connect <= 0.2 + 1e-9  # connecting gets at most a quarter of it
    assert fail_closed.control.faults() == []  # the one-shot hang was hit (and used up)
    # Nothing is lost: the order is not placed, the session is still open with its cart,
    # and the close went back with the order's transaction (placing it again works).
    order.refresh_from_db()
    session.refresh_from_db()
    assert order.status == "pending" and session.state == "open"
    assert session.cart_items and session.pushed_fingerprint == session.fingerprint
    assert not OutboxMessage.objects.filter(operation="session.state").exists()

    fail_closed.control.clear_faults()
    with transaction.atomic():
        order.status = "paid"
        order.save()
    session.refresh_from_db()
    assert session.state == "closed"
    assert fail_closed.control.state()["sessions"][session.integration_id]["state"] == "closed"


class _Clock:
    """Stands in for the ``time`` module of the delivery: scripted ``monotonic`` readings."""

    def __init__(self, *readings: float) -> None:
        self.readings = list(readings)

    def monotonic(self) -> float:
        return self.readings.pop(0)


def test_no_call_starts_once_the_deadline_has_passed(
    fail_closed: Any, sent: list[tuple[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two rows for the key: the first call uses up the deadline (the clock says so), so the
    second is never sent and the caller gets ``TalonUnavailableError``."""
    cart = make_cart(items=[ESPRESSO])
    session = services.session_for_cart(cart, create=False)
    assert session is not None
    key = f"session:{session.integration_id}"
    body = {"session_id": session.integration_id, **_body(session)}
    first = outbox.enqueue("session.state", key, body, deliver=False)
    second = outbox.enqueue("session.state", key, body, deliver=False)
    # The start (deadline 0.8), before the first row (0.8 left), before the second (past).
    monkeypatch.setattr(delivery, "time", _Clock(0.0, 0.0, 5.0))
    sent.clear()

    with pytest.raises(TalonUnavailableError, match="PLACEMENT_TIMEOUT"):
        outbox.deliver_key(key, force=True, raise_errors=True)

    assert len(session_puts(sent)) == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == "done"
    assert second.state == "pending" and second.attempts == 0  # never claimed, never sent


def _body(session: Any) -> dict[str, Any]:
    return {"customerSession": services.session_payload(session)}


def test_placement_timeout_is_type_checked(settings: Any) -> None:
    from django.test import override_settings

    from django_talon.checks import check_settings

    for bad in ("soon", 0, -1):
        with override_settings(
            TALON={"BASE_URL": "https://acme.talon.one", "API_KEY": "k", "PLACEMENT_TIMEOUT": bad}
        ):
            messages = [m for m in check_settings() if m.id == "django_talon.E009"]
            assert len(messages) == 1 and "PLACEMENT_TIMEOUT" in messages[0].msg
            from django_talon.conf import talon_settings

            assert talon_settings.PLACEMENT_TIMEOUT == 5.0  # the default is used
