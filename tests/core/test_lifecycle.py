"""After the order, through the emulator (issue 10): returns only on closed / partially
returned sessions, reopen when the cart already has a newer open session, and fail-closed
placement that refuses to run outside the caller's transaction before anything is written.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from django_talon import services
from django_talon.models import CustomerSession, OutboxMessage
from django_talon.services import lifecycle
from tests.core.shop import ESPRESSO, GRINDER, make_cart
from tests.shopapp.models import CartItem, Order

pytestmark = pytest.mark.django_db(transaction=True)

ONE = [{"position": 0, "quantity": 1}]


def remote(emulator: Any, session: CustomerSession) -> dict[str, Any]:
    state: dict[str, Any] = emulator.control.state()["sessions"][session.integration_id]
    return state


def closed_cart(user: Any = None) -> tuple[Any, CustomerSession]:
    cart = make_cart(user=user, items=[ESPRESSO])
    Order.objects.create(cart=cart, user=user, status="paid")
    session = services.session_for_cart(cart, create=False, open_only=False)
    assert session is not None and session.state == "closed"
    return cart, session


# -- returns ------------------------------------------------------------------------------------
def test_return_on_an_open_session_is_refused_and_nothing_is_queued(shop: Any) -> None:
    cart = make_cart(items=[ESPRESSO])
    session = services.session_for_cart(cart, create=False)
    assert session is not None
    rows = OutboxMessage.objects.count()
    with pytest.raises(services.SessionStateError, match="it is open, not closed or"):
        services.return_items(session, ONE)
    assert isinstance(services.SessionStateError("x"), ValueError)
    session.refresh_from_db()
    assert session.state == "open"
    assert OutboxMessage.objects.count() == rows
    assert remote(shop, session)["state"] == "open"
    # A cart whose only session is open: the same refusal, the open session is untouched.
    with pytest.raises(services.SessionStateError, match="has no session"):
        services.return_items(cart, ONE)
    assert OutboxMessage.objects.count() == rows


def test_return_on_a_cancelled_session_is_refused(shop: Any) -> None:
    cart, session = closed_cart()
    services.cancel_session(session)
    rows = OutboxMessage.objects.count()
    with pytest.raises(services.SessionStateError, match="it is cancelled"):
        services.return_items(session, ONE)
    assert OutboxMessage.objects.count() == rows
    assert CustomerSession.objects.get(pk=session.pk).state == "cancelled"


def test_return_needs_items(shop: Any) -> None:
    _, session = closed_cart()
    with pytest.raises(ValueError, match="at least one item"):
        services.return_items(session, [])
    assert CustomerSession.objects.get(pk=session.pk).state == "closed"


def test_returns_on_closed_then_partially_returned_sessions(shop: Any) -> None:
    cart = make_cart(items=[("ESPRESSO-250", "Espresso", "8.50", 3, "coffee")])
    Order.objects.create(cart=cart, status="paid")
    # A cart target means the cart's closed session, not a newer open one.
    services.return_items(cart, ONE)
    session = services.session_for_cart(cart, create=False, open_only=False)
    assert session is not None and session.state == "partially_returned"
    assert remote(shop, session)["state"] == "partially_returned"
    services.return_items(session, ONE)
    assert not OutboxMessage.objects.exclude(state="done").exists()
    assert remote(shop, session)["state"] == "partially_returned"


@pytest.mark.parametrize(
    ("items", "error"),
    [
        ([{"position": 0, "quantity": 5}], "5 unit\\(s\\) of line 0, but 2 are left"),
        ([{"position": 7, "quantity": 1}], "no line at position 7"),
        ([{"position": 0, "quantity": 0}], "whole number >= 1"),
        ([{"position": "0", "quantity": 1}], "'position' must be"),
        ([{"position": 0, "quantity": 1}, {"position": 0, "quantity": 2}], "1 are left"),
    ],
)
def test_a_return_the_session_cannot_take_is_refused_before_anything_is_queued(
    shop: Any, items: list[dict[str, Any]], error: str
) -> None:
    """Talon.One refuses such a return: its row was a dead letter while the session already
    said partially_returned (and could no longer be reopened). One unit of three was
    returned before, so two are left."""
    cart = make_cart(items=[("ESPRESSO-250", "Espresso", "8.50", 3, "coffee")])
    Order.objects.create(cart=cart, status="paid")
    services.return_items(cart, ONE)
    session = services.session_for_cart(cart, create=False, open_only=False)
    assert session is not None
    rows = OutboxMessage.objects.count()
    with pytest.raises(ValueError, match=error):
        services.return_items(session, items)
    assert OutboxMessage.objects.count() == rows
    assert not OutboxMessage.objects.filter(state="dead").exists()
    services.return_items(session, [{"position": 0, "quantity": 2}])  # what is left: taken
    assert not OutboxMessage.objects.exclude(state="done").exists()
    with pytest.raises(ValueError, match="0 are left"):  # posted twice: refused, not sent
        services.return_items(session, [{"position": 0, "quantity": 2}])


# -- reopen -------------------------------------------------------------------------------------
def test_reopen_only_closed_sessions(shop: Any) -> None:
    cart = make_cart(items=[ESPRESSO])
    session = services.session_for_cart(cart, create=False)
    assert session is not None
    rows = OutboxMessage.objects.count()
    with pytest.raises(services.SessionStateError, match="cannot reopen"):
        services.reopen_session(session)
    assert OutboxMessage.objects.count() == rows


def test_reopen_keeps_the_cart_of_a_single_session(shop: Any) -> None:
    cart, session = closed_cart()
    reopened = services.reopen_session(session)
    assert reopened.state == "open" and reopened.cart_key == session.cart_key
    assert services.session_for_cart(cart, create=False) == reopened
    assert remote(shop, session)["state"] == "open"


def test_reopen_when_the_cart_has_a_newer_open_session(shop: Any) -> None:
    cart, old = closed_cart()
    key = old.cart_key
    # The shop reuses the cart object after the order: the next change opens a new session.
    CartItem.objects.create(cart=cart, sku="GRINDER-X", name="G", price=89, quantity=1)
    new = services.session_for_cart(cart, create=False)
    assert new is not None and new.pk != old.pk and new.cart_key == key

    reopened = services.reopen_session(old)

    # The newer session keeps the cart; the reopened one is detached from it.
    assert reopened.state == "open" and reopened.cart_key == ""
    assert services.session_for_cart(cart, create=False) == new
    new.refresh_from_db()
    assert new.state == "open" and new.cart_key == key
    assert remote(shop, reopened)["state"] == "open"
    assert not OutboxMessage.objects.exclude(state="done").exists()
    # Still reachable by id, and changed with the session-object calls.
    services.close_session(reopened)
    assert remote(shop, reopened)["state"] == "closed"
    assert remote(shop, new)["state"] == "open"


def test_reopen_racing_a_new_open_session(shop: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The newer open session is committed between the check and the save: the unique
    constraint (one open session per cart) answers, and the reopened session is detached."""
    cart, old = closed_cart()
    CartItem.objects.create(cart=cart, sku="GRINDER-X", name="G", price=89, quantity=1)
    monkeypatch.setattr(lifecycle, "_cart_has_open_session", lambda session: False)
    reopened = services.reopen_session(old)
    assert reopened.state == "open" and reopened.cart_key == ""
    assert CustomerSession.objects.get(pk=old.pk).cart_key == ""


# -- fail-closed outside the caller's transaction --------------------------------------------
def fail_closed(settings: Any) -> None:
    settings.TALON = {**settings.TALON, "ORDER_PLACEMENT": "fail_closed"}


def test_fail_closed_outside_a_transaction_refuses_before_any_write(
    settings: Any, shop: Any
) -> None:
    cart = make_cart(items=[GRINDER])
    session = services.session_for_cart(cart, create=False)
    assert session is not None
    fail_closed(settings)
    rows = OutboxMessage.objects.count()
    with pytest.raises(services.FailClosedOutsideTransactionError, match="transaction.atomic"):
        services.close_session(cart)
    session.refresh_from_db()
    assert session.state == "open"
    assert OutboxMessage.objects.count() == rows
    assert remote(shop, session)["state"] == "open"
    # A programming error, not an outage: a shop's ``except TalonServiceError`` does not hide it.
    from django_talon.exceptions import TalonServiceError

    assert not issubclass(services.FailClosedOutsideTransactionError, TalonServiceError)


def test_fail_closed_order_saved_outside_a_transaction(settings: Any, shop: Any) -> None:
    """The order receiver lets the error through (it is not logged and swallowed)."""
    cart = make_cart(items=[GRINDER])
    order = Order.objects.create(cart=cart, status="pending")
    fail_closed(settings)
    with pytest.raises(services.FailClosedOutsideTransactionError):
        order.status = "paid"
        order.save()
    session = services.session_for_order(order)
    assert session is not None and session.state == "open"
    assert not OutboxMessage.objects.filter(operation="session.state").exists()
    # Inside the shop's transaction the same order is confirmed by Talon.One and closed.
    with transaction.atomic():
        order.save()
    session.refresh_from_db()
    assert session.state == "closed" and remote(shop, session)["state"] == "closed"


def test_fail_open_needs_no_transaction(shop: Any) -> None:
    cart = make_cart(items=[GRINDER])
    session = services.close_session(cart)
    assert session.state == "closed" and remote(shop, session)["state"] == "closed"
