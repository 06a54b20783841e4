"""Two orders for one session (a double click, two tabs): one is placed, the other refused.

``record_placement`` checked the session's state and its recorded order without the
session's row lock, so two placements at once both recorded a ``charged`` entry; Talon.One
booked the session once, and the booking was reconciled with the second entry only: one of
the two orders was never booked and nothing said so. The session is now read under its lock
(the second placement waits for the first) and a session another order placed refuses the
placement: a ``SyncProblem`` (fail-open) or ``AlreadyPlacedRefusedError`` (fail-closed).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction

from django_talon import services
from django_talon.exceptions import OrderRefusedError
from django_talon.models import CustomerSession, Discrepancy, LedgerEntry, SyncProblem
from django_talon.services import placement
from django_talon.services.placement import AlreadyPlacedRefusedError, DuplicatePlacementError
from tests.core.conftest import ESPRESSO, GRINDER, make_cart
from tests.core.threads import in_thread
from tests.resources import require_postgres
from tests.shopapp.models import Cart, Order

pytestmark = pytest.mark.django_db(transaction=True)


def coupon_cart() -> Cart:
    cart: Cart = make_cart(items=[ESPRESSO, GRINDER])
    services.apply_coupon(cart, "WELCOME10")
    return cart


def charged_keys() -> list[str]:
    return list(
        LedgerEntry.objects.filter(kind="charged")
        .order_by("id")
        .values_list("order_key", flat=True)
    )


def test_a_second_order_for_a_placed_session_is_refused_and_recorded(shop: Any) -> None:
    cart = coupon_cart()
    first = Order.objects.create(cart=cart, status="paid")
    with transaction.atomic():
        second = Order.objects.create(cart=cart, status="paid")  # the double click

    assert charged_keys() == [f"shopapp.order:{first.pk}"]
    booked = LedgerEntry.objects.get(kind="booked")
    assert booked.order_key == f"shopapp.order:{first.pk}"
    assert not Discrepancy.objects.exists()
    (problem,) = SyncProblem.objects.all()
    assert problem.stage == "placement" and problem.subject == f"shopapp.order:{second.pk}"
    assert "DuplicatePlacementError" in problem.error
    assert f"shopapp.order:{first.pk} placed already" in problem.error
    assert Order.objects.count() == 2, "fail-open: the shop's order is saved"

    first.status = "shipped"
    first.save()  # a later save of the order that placed the session changes nothing
    assert charged_keys() == [f"shopapp.order:{first.pk}"]
    assert SyncProblem.objects.count() == 1


def test_fail_closed_refuses_the_second_order(shop: Any, settings: Any) -> None:
    settings.TALON = {**settings.TALON, "ORDER_PLACEMENT": "fail_closed"}
    cart = coupon_cart()
    with transaction.atomic():
        first = Order.objects.create(cart=cart, status="paid")

    with pytest.raises(AlreadyPlacedRefusedError) as refused:
        with transaction.atomic():
            Order.objects.create(cart=cart, status="paid")

    assert isinstance(refused.value, OrderRefusedError)  # what a fail-closed shop catches
    assert str(refused.value) == AlreadyPlacedRefusedError.default_message
    assert isinstance(refused.value.__cause__, DuplicatePlacementError)
    assert refused.value.__cause__.placed_by == f"shopapp.order:{first.pk}"
    assert list(Order.objects.values_list("pk", flat=True)) == [first.pk], "rolled back"
    assert charged_keys() == [f"shopapp.order:{first.pk}"]
    assert not SyncProblem.objects.exists()


def test_a_placement_that_read_the_session_before_the_first_committed_is_refused(
    shop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race, made deterministic: the second placement found the session while the first
    one had not committed yet (a stale ``open`` copy). The check runs on the row re-read
    under the lock, so the stale copy does not decide (it recorded a second entry)."""
    cart = coupon_cart()
    session = services.session_for_cart(cart, create=False)
    assert session is not None
    stale = CustomerSession.objects.get(pk=session.pk)  # read before the first commits
    first = Order.objects.create(cart=cart, status="paid")
    monkeypatch.setattr(placement, "session_for_order", lambda order: stale)

    with transaction.atomic():
        Order.objects.create(cart=cart, status="paid")

    assert stale.state == "open"
    assert charged_keys() == [f"shopapp.order:{first.pk}"]
    assert SyncProblem.objects.get().stage == "placement"


def test_outside_a_transaction_another_placed_order_of_the_open_session_refuses(
    shop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Placements outside a transaction: the lock ends with the record, before the close. A
    second placement that sees the first's charged entry on the still-open session, and the
    first order placed, is refused as well."""
    cart = coupon_cart()
    first = Order(cart=cart, status="paid")
    with monkeypatch.context() as patch:
        patch.setattr(services, "sync_order", lambda order, **kw: None)  # close not yet run
        first.save()
    session = services.session_for_cart(cart, create=False)
    assert session is not None and session.state == "open"
    assert charged_keys() == [f"shopapp.order:{first.pk}"]

    second = Order.objects.create(cart=cart, status="paid")  # refused, then the close

    assert charged_keys() == [f"shopapp.order:{first.pk}"]
    assert SyncProblem.objects.get().subject == f"shopapp.order:{second.pk}"
    booked = LedgerEntry.objects.get(kind="booked")
    assert booked.order_key == f"shopapp.order:{first.pk}"
    assert not Discrepancy.objects.exists()


def test_an_unplaced_order_of_the_open_session_does_not_refuse(shop: Any) -> None:
    """A charged entry recorded by hand for an order that was then abandoned (not placed):
    another order of the cart is placed as before, with its own charged entry."""
    cart = coupon_cart()
    abandoned = Order.objects.create(cart=cart, status="pending")
    services.record_order(abandoned, services.quote_for_cart(cart))
    placed = Order.objects.create(cart=cart, status="paid")

    assert charged_keys() == [f"shopapp.order:{abandoned.pk}", f"shopapp.order:{placed.pk}"]
    assert LedgerEntry.objects.get(kind="booked").order_key == f"shopapp.order:{placed.pk}"
    assert not SyncProblem.objects.exists()


# -- PostgreSQL: two connections at once -------------------------------------------------------
def _waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        (count,) = cursor.fetchone()
    return int(count)


@pytest.mark.postgres
def test_two_placements_at_once_wait_for_the_session_lock(
    shop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first placement holds the session's row lock (paused right after taking it); the
    second waits for it in ``record_placement``, then finds the session placed by the first."""
    require_postgres()
    cart = coupon_cart()
    locked, release = threading.Event(), threading.Event()
    real_quote = placement.quote_for_cart
    paused: list[bool] = []

    def pausing_quote(session: Any) -> Any:
        if not paused:  # the first placement only: it holds the lock from here
            paused.append(True)
            locked.set()
            assert release.wait(20)
        return real_quote(session)

    monkeypatch.setattr(placement, "quote_for_cart", pausing_quote)

    def place() -> None:
        with transaction.atomic():
            Order.objects.create(cart_id=cart.pk, status="paid")

    first, first_errors = in_thread(place)
    try:
        assert locked.wait(20)
        second, second_errors = in_thread(place)
        deadline = time.monotonic() + 20
        while _waiting_for_a_lock() == 0:  # the second placement is blocked on the row lock
            assert time.monotonic() < deadline, "the second placement did not wait for the lock"
            time.sleep(0.05)
    finally:
        release.set()
    first.join(30)
    second.join(30)

    assert first_errors == second_errors == []
    first_order, second_order = Order.objects.order_by("pk")
    assert charged_keys() == [f"shopapp.order:{first_order.pk}"]
    assert LedgerEntry.objects.get(kind="booked").order_key == f"shopapp.order:{first_order.pk}"
    assert not Discrepancy.objects.exists()
    (problem,) = SyncProblem.objects.all()
    assert problem.stage == "placement" and problem.subject == f"shopapp.order:{second_order.pk}"


@pytest.mark.postgres
def test_two_fail_closed_placements_at_once_place_one_order(shop: Any, settings: Any) -> None:
    """A double submit against a fail-closed shop: one order is placed, the other refused
    and rolled back, whatever the interleaving."""
    require_postgres()
    settings.TALON = {**settings.TALON, "ORDER_PLACEMENT": "fail_closed"}
    cart = coupon_cart()
    barrier = threading.Barrier(2)

    def place() -> None:
        barrier.wait(10)
        with transaction.atomic():
            Order.objects.create(cart_id=cart.pk, status="paid")

    runs = [in_thread(place) for _ in range(2)]
    for thread, _errors in runs:
        thread.join(30)

    errors = [e for _thread, found in runs for e in found]
    assert [type(e) for e in errors] == [AlreadyPlacedRefusedError]
    (order,) = Order.objects.all()
    assert charged_keys() == [f"shopapp.order:{order.pk}"]
    assert LedgerEntry.objects.get(kind="booked").order_key == f"shopapp.order:{order.pk}"
    assert not Discrepancy.objects.exists()
