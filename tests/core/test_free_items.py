"""Free items through the emulator: with ``TALON["ADD_FREE_ITEMS"]`` the demo's "Free tote
over 100" (campaign 2) puts the tote into the cart at price 0 through the adapter, once; a
tote the shopper removes is not added again in that session; the quote and the ledger carry
the line. Off (the default), nothing is added.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from django_talon import services
from django_talon.models import CustomerSession, Discrepancy, LedgerEntry
from django_talon.services.quotes import quote_for_cart
from tests.core.conftest import ESPRESSO, GRINDER, make_cart
from tests.shopapp.adapters import ShopAdapter
from tests.shopapp.models import CartItem, Order

pytestmark = pytest.mark.django_db(transaction=True)

TOTE = "FREE-TOTE"


class FreeItemAdapter(ShopAdapter):
    """The test shop, adding and removing the free line itself (as a shop would)."""

    added: list[str] = []

    def add_free_item(self, cart: Any, effect: Any) -> bool:
        CartItem.objects.create(
            cart=cart,
            sku=effect.sku,
            name=effect.name,
            price=Decimal("0.00"),
            quantity=effect.desired_quantity or 1,
            category="gift",
        )
        self.added.append(effect.sku)
        return True

    def remove_free_item(self, cart: Any, sku: str) -> bool:
        return bool(CartItem.objects.filter(cart=cart, sku=sku, price=0).delete()[0])


@pytest.fixture
def free_shop(shop: Any, settings: Any) -> Any:
    settings.TALON = {
        **settings.TALON,
        "ADAPTER": f"{__name__}.FreeItemAdapter",
        "ADD_FREE_ITEMS": True,
    }
    FreeItemAdapter.added = []
    return shop


def _session(cart: Any) -> CustomerSession:
    session = services.session_for_cart(cart, create=False)
    assert session is not None
    return session


def test_the_free_tote_is_added_once_and_quoted_at_zero(free_shop: Any) -> None:
    cart = make_cart(items=[ESPRESSO, GRINDER])  # 106.00 >= 100
    assert FreeItemAdapter.added == [TOTE]
    tote = CartItem.objects.get(cart=cart, sku=TOTE)
    assert tote.price == 0
    session = _session(cart)
    assert session.free_items_added == [f"2:{TOTE}"]
    assert [i["sku"] for i in session.cart_items][-1] == TOTE
    remote = free_shop.control.state()["sessions"][session.integration_id]
    assert TOTE in [i["sku"] for i in remote["cartItems"]]
    quote = quote_for_cart(cart)
    assert quote.confirmed
    (free,) = quote.free_items
    assert free.in_cart
    assert [line.total for line in quote.lines if line.sku == TOTE] == [Decimal("0.00")]
    assert quote.total == Decimal("104.00")  # the tote costs nothing


def test_a_removed_tote_is_not_added_again(free_shop: Any) -> None:
    cart = make_cart(items=[ESPRESSO, GRINDER])
    CartItem.objects.filter(cart=cart, sku=TOTE).delete()
    cart.items.filter(sku="ESPRESSO-250").update(quantity=3)
    CartItem.objects.get(cart=cart, sku="ESPRESSO-250").save()  # a change: a new answer
    assert FreeItemAdapter.added == [TOTE]
    assert not CartItem.objects.filter(cart=cart, sku=TOTE).exists()
    quote = quote_for_cart(cart)
    assert [f.sku for f in quote.free_items] == [TOTE]  # still granted, not in the cart
    assert not quote.free_items[0].in_cart


def test_the_tote_leaves_with_the_threshold_and_comes_back(free_shop: Any) -> None:
    cart = make_cart(items=[ESPRESSO, GRINDER])
    CartItem.objects.get(cart=cart, sku="GRINDER-X").delete()  # 17.00: no tote any more
    assert not CartItem.objects.filter(cart=cart, sku=TOTE).exists()
    assert _session(cart).free_items_added == []
    CartItem.objects.create(
        cart=cart, sku="GRINDER-X", name="Grinder X", price=Decimal("89.00"), quantity=1
    )
    assert FreeItemAdapter.added == [TOTE, TOTE]
    assert CartItem.objects.filter(cart=cart, sku=TOTE).count() == 1


def test_the_ledger_carries_the_free_line(free_shop: Any) -> None:
    cart = make_cart(items=[ESPRESSO, GRINDER])
    order = Order.objects.create(cart=cart, status="paid")
    session = services.session_for_order(order)
    assert session is not None and session.state == "closed"
    charged = LedgerEntry.objects.get(session_id=session.integration_id, kind="charged")
    booked = LedgerEntry.objects.get(session_id=session.integration_id, kind="booked")
    assert [(i["sku"], i["price"]) for i in charged.cart_items if i["sku"] == TOTE] == [(TOTE, 0.0)]
    assert charged.total == booked.total == Decimal("104.00")
    assert not Discrepancy.objects.exists()
    order.status = "cancelled"
    order.save()
    assert LedgerEntry.objects.filter(session_id=session.integration_id, kind="cancelled")
    assert not Discrepancy.objects.exists()


def test_off_by_default_nothing_is_added(shop: Any, settings: Any) -> None:
    settings.TALON = {**settings.TALON, "ADAPTER": f"{__name__}.FreeItemAdapter"}
    FreeItemAdapter.added = []
    cart = make_cart(items=[ESPRESSO, GRINDER])
    assert FreeItemAdapter.added == []
    assert not CartItem.objects.filter(cart=cart, sku=TOTE).exists()
