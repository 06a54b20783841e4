"""The example shop pays (and cancels) orders atomically with the Talon.One close (issue 10).

Fail-closed (``TALON["ORDER_PLACEMENT"] = "fail_closed"``): when Talon.One cannot confirm
the close, the payment's transaction rolls back, the order stays ``placed`` (unpaid) and the
customer sees a "not placed" page, never an HTTP 500. Through the shop's views, against the
emulator over HTTP; ``transactional_db`` because the shop's transactions must really commit.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from django_talon import outbox, resilience, services
from django_talon.models import OutboxMessage
from example_project.orders.models import Order
from example_project.orders.services import CheckoutError, pay_order

pytestmark = pytest.mark.django_db(transaction=True)

SESSIONS = "/v2/customer_sessions/*"
CARD = {"card_number": "4242 4242 4242 4242"}


def add(client: Client, sku: str, quantity: int = 1) -> None:
    client.post("/cart/add/", {"sku": sku, "quantity": quantity})


def placed_order(client: Client) -> Order:
    add(client, "GRINDER-X")
    response = client.post("/orders/checkout/")
    order = Order.objects.get()
    assert response["Location"] == f"/orders/{order.pk}/pay/"
    return order


def remote_state(emulator: Any, order: Order) -> str:
    session = services.session_for_order(order)
    assert session is not None
    return str(emulator.control.state()["sessions"][session.integration_id]["state"])


@pytest.fixture
def fail_closed(shop_talon: dict[str, Any], settings: Any) -> None:
    settings.TALON = {**settings.TALON, "ORDER_PLACEMENT": "fail_closed"}


def talon_down(emulator: Any) -> None:
    emulator.control.add_fault(kind="error", status=503, path=SESSIONS)


def talon_back(emulator: Any) -> None:
    emulator.control.clear_faults()
    resilience.breaker.reset()


def test_refused_payment_shows_a_page_and_leaves_the_order_unpaid(
    shop: Client, fail_closed: None, talon_emulator: Any
) -> None:
    order = placed_order(shop)
    talon_down(talon_emulator)

    response = shop.post(f"/orders/{order.pk}/pay/", CARD)

    assert response.status_code == 503
    page = response.content.decode()
    assert f"Order {order.pk} was not placed" in page
    assert "could not confirm your discounts" in page
    assert 'data-test="order-status">placed<' in page
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED
    session = services.session_for_order(order)
    assert session is not None and session.state == "open"
    assert not OutboxMessage.objects.filter(operation="session.state").exists()
    assert remote_state(talon_emulator, order) == "open"

    # Talon.One back: the same order is paid and its session closed, in one go.
    talon_back(talon_emulator)
    response = shop.post(f"/orders/{order.pk}/pay/", CARD)
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.pk}/"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert remote_state(talon_emulator, order) == "closed"


def test_refused_cancel_leaves_the_order_paid(
    shop: Client, fail_closed: None, talon_emulator: Any
) -> None:
    order = placed_order(shop)
    shop.post(f"/orders/{order.pk}/pay/", CARD)
    talon_down(talon_emulator)

    response = shop.post(f"/orders/{order.pk}/cancel/")

    assert response.status_code == 503
    assert f"Order {order.pk} was not cancelled" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert remote_state(talon_emulator, order) == "closed"
    talon_back(talon_emulator)
    shop.post(f"/orders/{order.pk}/cancel/")
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert remote_state(talon_emulator, order) == "cancelled"


def test_fail_open_pays_during_an_outage_and_closes_later(
    shop: Client, talon_emulator: Any
) -> None:
    order = placed_order(shop)
    talon_down(talon_emulator)
    response = shop.post(f"/orders/{order.pk}/pay/", CARD)
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    close = OutboxMessage.objects.get(operation="session.state")
    assert close.state == "pending"
    talon_back(talon_emulator)
    outbox.deliver_key(close.key, force=True)  # the retry, without waiting for its backoff
    assert remote_state(talon_emulator, order) == "closed"


def test_an_order_is_paid_once(shop: Client, talon_emulator: Any) -> None:
    order = placed_order(shop)
    pay_order(order)
    with pytest.raises(CheckoutError, match="cannot be paid"):
        pay_order(order)  # a second tab with the stale order
    assert OutboxMessage.objects.filter(operation="session.state").count() == 1
