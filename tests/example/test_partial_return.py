"""The customer's Return button after a partial return (staff sent one unit back through
``services.return_items``): the rest goes back, nothing twice; a refused return is a
message on the order page, never a 500. Against the emulator over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from django_talon import services
from example_project.orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def paid_order(shop: Client) -> Order:
    """GRINDER-X x1 (position 0) and ESPRESSO-250 x2 (position 1), paid."""
    shop.post("/cart/add/", {"sku": "GRINDER-X", "quantity": 1})
    shop.post("/cart/add/", {"sku": "ESPRESSO-250", "quantity": 2})
    shop.post("/orders/checkout/")
    order = Order.objects.get()
    shop.post(f"/orders/{order.pk}/pay/", {"card_number": "4242424242424242"})
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    return order


def returns(talon_emulator: Any) -> list[list[tuple[int, int]]]:
    (session,) = talon_emulator.control.state()["sessions"].values()
    return [
        sorted((r["position"], r["quantity"]) for r in ret["returnedCartItems"])
        for ret in session.get("returns") or []
    ]


def test_the_return_button_sends_what_is_left(shop: Client, talon_emulator: Any) -> None:
    order = paid_order(shop)
    services.return_items(services.session_for_order(order), [{"position": 1, "quantity": 1}])
    response = shop.post(f"/orders/{order.pk}/return/")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.RETURNED
    assert returns(talon_emulator) == [[(1, 1)], [(0, 1), (1, 1)]]


def test_everything_returned_before_sends_nothing_more(shop: Client, talon_emulator: Any) -> None:
    order = paid_order(shop)
    session = services.session_for_order(order)
    services.return_items(session, [{"position": 0, "quantity": 1}, {"position": 1, "quantity": 2}])
    response = shop.post(f"/orders/{order.pk}/return/")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.RETURNED
    assert returns(talon_emulator) == [[(0, 1), (1, 2)]]


def test_a_refused_return_is_a_message_and_the_order_stays_paid(
    shop: Client, talon_emulator: Any
) -> None:
    order = paid_order(shop)
    services.reopen_session(services.session_for_order(order))  # open: no returns
    response = shop.post(f"/orders/{order.pk}/return/", follow=True)
    assert response.status_code == 200
    assert f"Order {order.pk} could not be returned" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert returns(talon_emulator) == []
