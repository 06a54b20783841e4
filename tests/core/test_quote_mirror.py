"""The quote of a cart nothing announces is for the cart's lines, never the mirror's.

A model cart the receivers do not watch (not in ``CART_MODELS``: the shop calls
``update_cart`` itself, as for a ``request.session`` cart, tests/asgi) changes without the
session hearing of it whenever the shop forgets the call or its request fails after it.
``quote_for_cart(cart)`` used to quote the mirror's old lines ``confirmed``, and the shop
charged them. It now reads such a cart through the adapter (the path a cart change takes)
and, on a difference, mirrors it first. A watched cart (``CART_MODELS``) is mirrored by its
saves and quoted from the mirror at its old cost. The demo campaigns: coffee 1.00 off each
bag, WELCOME10 = 10 % off.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from django_talon import services
from django_talon.models import CustomerSession, OutboxMessage, SyncProblem
from django_talon.services import QuoteStatus, quotes
from tests.core.shop import ESPRESSO, GRINDER, make_cart
from tests.core.test_queries import count_queries
from tests.shopapp.adapters import ShopAdapter
from tests.shopapp.models import CartItem

pytestmark = pytest.mark.django_db(transaction=True)

#: A cart nobody announces: its quote costs the session lookup and the adapter's cart_items.
UNWATCHED_QUOTE_QUERIES = 2
#: A watched cart (CART_MODELS): the session lookup only, as before.
WATCHED_QUOTE_QUERIES = 1


@pytest.fixture
def unwatched(shop: Any, settings: Any) -> Any:
    """The test shop's carts, with no receiver watching them: the shop calls update_cart."""
    settings.TALON = {**settings.TALON, "CART_MODELS": [], "CART_ITEM_MODELS": []}
    return shop


def espresso_cart(quantity: int = 2) -> Any:
    cart = make_cart(items=[ESPRESSO])
    CartItem.objects.filter(cart=cart).update(quantity=quantity)
    services.update_cart(cart)
    return cart


def lines(quote: Any) -> list[tuple[str, int]]:
    return [(line.sku, line.quantity) for line in quote.lines]


def test_a_change_never_mirrored_is_quoted_as_the_cart_is(unwatched: Any) -> None:
    cart = espresso_cart(2)
    CartItem.objects.filter(cart=cart).update(quantity=5)  # the shop forgot update_cart
    quote = services.quote_for_cart(cart)
    assert lines(quote) == [(ESPRESSO[0], 5)]
    assert quote.confirmed and quote.total == Decimal("37.50")  # 5 x 8.50 - 5 x 1.00
    session = CustomerSession.objects.get()
    assert session.fingerprint == session.pushed_fingerprint == quote.fingerprint


def test_a_price_changed_without_update_cart_is_not_charged_at_the_old_price(
    unwatched: Any,
) -> None:
    cart = espresso_cart(2)
    CartItem.objects.filter(cart=cart).update(price=Decimal("9.50"))
    quote = services.quote_for_cart(cart)
    assert quote.lines[0].unit_price == Decimal("9.50")
    assert quote.confirmed and quote.total == Decimal("17.00")


def test_inside_a_transaction_the_difference_is_pending_at_full_price(unwatched: Any) -> None:
    """The update is queued in the caller's transaction and sent after commit: until
    Talon.One has priced the cart's real lines, none of the old answer is charged."""
    cart = espresso_cart(2)
    with transaction.atomic():
        CartItem.objects.filter(cart=cart).update(quantity=5)
        quote = services.quote_for_cart(cart)
    assert lines(quote) == [(ESPRESSO[0], 5)]
    assert quote.status is QuoteStatus.PENDING and quote.total == Decimal("42.50")
    assert quote.discount_total == Decimal("0.00") and "full price" in quote.message
    assert services.quote_for_cart(cart).total == Decimal("37.50")  # answered after commit


def test_an_unchanged_cart_costs_its_items_query_and_writes_nothing(unwatched: Any) -> None:
    cart = espresso_cart(2)
    rows = OutboxMessage.objects.count()
    with count_queries() as sql:
        quote = services.quote_for_cart(cart)
    assert len(sql) == UNWATCHED_QUOTE_QUERIES, sql
    assert "cartitem" in sql[1]
    assert quote.confirmed and OutboxMessage.objects.count() == rows


def test_a_watched_cart_is_quoted_from_its_mirror_at_the_old_cost(shop: Any) -> None:
    cart = make_cart(items=[ESPRESSO])  # CART_MODELS: the saves mirrored it
    with count_queries() as sql:
        quote = services.quote_for_cart(cart)
    assert len(sql) == WATCHED_QUOTE_QUERIES, sql
    assert quote.confirmed and quote.total == Decimal("15.00")


def test_a_session_is_quoted_as_it_is(unwatched: Any) -> None:
    cart = espresso_cart(2)
    session = CustomerSession.objects.get()
    CartItem.objects.filter(cart=cart).update(quantity=5)
    with count_queries() as sql:
        quote = services.quote_for_cart(session)
    assert sql == [] and lines(quote) == [(ESPRESSO[0], 2)]


def test_a_cart_never_mirrored_is_mirrored_before_its_quote(unwatched: Any) -> None:
    cart = make_cart(items=[ESPRESSO, GRINDER])  # no receivers, no update_cart: no session
    assert not CustomerSession.objects.exists()
    quote = services.quote_for_cart(cart)
    assert quote.confirmed and quote.subtotal == Decimal("106.00")  # was 0.00 "confirmed"
    assert lines(quote) == [(ESPRESSO[0], 2), (GRINDER[0], 1)]


def test_an_empty_cart_without_a_session_writes_nothing(unwatched: Any) -> None:
    cart = make_cart()
    quote = services.quote_for_cart(cart)
    assert quote.lines == () and quote.total == Decimal("0")
    assert not CustomerSession.objects.exists() and not OutboxMessage.objects.exists()


def test_a_failed_mirror_quotes_the_carts_lines_at_full_price(
    unwatched: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cart = espresso_cart(2)
    services.apply_coupon(cart, "WELCOME10")
    CartItem.objects.filter(cart=cart).update(quantity=5)

    def broken(cart: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(quotes, "update_cart", broken)
    quote = services.quote_for_cart(cart)
    assert quote.status is QuoteStatus.UNAVAILABLE and "full price" in quote.message
    assert lines(quote) == [(ESPRESSO[0], 5)] and quote.total == Decimal("42.50")
    assert quote.coupon_codes == () and quote.discount_total == Decimal("0.00")
    assert quote.fingerprint != CustomerSession.objects.get().fingerprint  # not the mirror's
    problem = SyncProblem.objects.get(stage="cart")
    assert "database went away" in problem.error


def test_an_adapter_that_cannot_read_the_cart_gives_an_unconfirmed_quote(
    unwatched: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shop's hook raises: the page still renders, nothing is charged as confirmed."""
    cart = espresso_cart(2)

    def cart_attributes(self: Any, cart: Any) -> dict[str, Any]:
        raise ValueError("no loyalty tier")

    monkeypatch.setattr(ShopAdapter, "cart_attributes", cart_attributes, raising=False)
    with transaction.atomic():  # the failure is rolled back to a savepoint
        quote = services.quote_for_cart(cart)
        assert CustomerSession.objects.count() == 1  # the transaction is still usable
    assert quote.status is QuoteStatus.UNAVAILABLE
    assert lines(quote) == [(ESPRESSO[0], 2)] and quote.total == Decimal("17.00")
    assert SyncProblem.objects.filter(stage="cart", error__contains="no loyalty tier").exists()


# -- a watched cart whose change could not be mirrored ----------------------------------------
def _failing_attributes(monkeypatch: pytest.MonkeyPatch) -> None:
    def cart_attributes(self: Any, cart: Any) -> dict[str, Any]:
        raise ValueError("no price for this currency")

    monkeypatch.setattr(ShopAdapter, "cart_attributes", cart_attributes, raising=False)


def test_a_watched_cart_whose_change_failed_to_mirror_is_never_quoted_confirmed(
    shop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shop's hook raises while a line changes: the receiver's work is rolled back and
    recorded, and the mirror still holds the old lines. The quote used to be ``confirmed``
    for those lines (and the order was charged, closed and booked on them)."""
    cart = make_cart(items=[ESPRESSO])
    services.apply_coupon(cart, "WELCOME10")
    assert services.quote_for_cart(cart).confirmed
    with monkeypatch.context() as patched:
        _failing_attributes(patched)
        CartItem.objects.filter(cart=cart).get().delete()  # the receiver fails
        assert SyncProblem.objects.filter(stage="cart").exists()
        quote = services.quote_for_cart(cart)  # the hook still fails: the cart is unreadable
    assert quote.status is QuoteStatus.UNAVAILABLE and "full price" in quote.message
    assert quote.discount_total == Decimal("0.00") and quote.coupon_codes == ()


def test_once_the_hook_works_again_the_quote_mirrors_the_cart_first(
    shop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cart = make_cart(items=[ESPRESSO, GRINDER])
    with monkeypatch.context() as patched:
        _failing_attributes(patched)
        CartItem.objects.filter(cart=cart, sku=GRINDER[0]).get().delete()
    mirrored = [item["sku"] for item in CustomerSession.objects.get().cart_items]
    assert mirrored == [ESPRESSO[0], GRINDER[0]]  # the mirror missed the delete
    quote = services.quote_for_cart(cart)  # read through the adapter, mirrored, answered
    assert lines(quote) == [(ESPRESSO[0], 2)]
    assert quote.confirmed and quote.total == Decimal("15.00")
    session = CustomerSession.objects.get()
    assert session.fingerprint == session.pushed_fingerprint  # the mark is gone
    with count_queries() as sql:
        assert services.quote_for_cart(cart).confirmed
    assert len(sql) == WATCHED_QUOTE_QUERIES, sql  # back to the mirror's cost


def test_a_first_line_that_failed_to_mirror_leaves_a_marked_session(
    shop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No session yet: one is created, marked, so the quote does not say ``confirmed`` 0.00
    for a cart that holds an item."""
    with monkeypatch.context() as patched:
        _failing_attributes(patched)
        cart = make_cart(items=[ESPRESSO])
        assert services.quote_for_cart(cart).status is QuoteStatus.UNAVAILABLE
    quote = services.quote_for_cart(cart)
    assert quote.confirmed and lines(quote) == [(ESPRESSO[0], 2)]
