"""A free item's quantity, through the emulator: the demo's "Free tote over 100" (campaign 2)
is loaded with the ``desiredQuantity`` under test. A quantity outside 1..10,000, or one the
cart has no room for under the API's 10,000 units per session, is refused: nothing is added,
a SyncProblem of the cart says why, the delivery succeeds and later cart changes still reach
Talon.One. A usable quantity reaches the adapter as checked, and an adapter hook that raises
is recorded instead of failing the delivery.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from django_talon import services
from django_talon.emulator import DEMO_CAMPAIGNS
from django_talon.models import CustomerSession, OutboxMessage, SyncProblem
from django_talon.services.quotes import quote_for_cart
from tests.core.conftest import ESPRESSO, GRINDER, KETTLE, make_cart
from tests.shopapp.adapters import ShopAdapter
from tests.shopapp.models import CartItem

pytestmark = pytest.mark.django_db(transaction=True)

TOTE = "FREE-TOTE"


class CheckedQuantityAdapter(ShopAdapter):
    """Adds the free line with ``effect.desired_quantity`` as given: it relies on the
    library's check, as the example shop's adapter does."""

    quantities: list[Any] = []

    def add_free_item(self, cart: Any, effect: Any) -> bool:
        self.quantities.append(effect.desired_quantity)
        CartItem.objects.create(
            cart=cart,
            sku=effect.sku,
            name=effect.name,
            price=Decimal("0.00"),
            quantity=effect.desired_quantity,
            category="gift",
        )
        return True

    def remove_free_item(self, cart: Any, sku: str) -> bool:
        return bool(CartItem.objects.filter(cart=cart, sku=sku, price=0).delete()[0])


class BrokenAdapter(CheckedQuantityAdapter):
    def add_free_item(self, cart: Any, effect: Any) -> bool:
        raise RuntimeError("the shop's free-item hook is broken")


def _campaigns(quantity: Any) -> dict[str, Any]:
    """The demo campaigns with the tote's quantity set (``None``: not sent at all)."""
    data: dict[str, Any] = json.loads(DEMO_CAMPAIGNS.read_text())
    (tote,) = [c for c in data["campaigns"] if c["id"] == 2]
    (spec,) = tote["effects"]
    if quantity is None:
        spec.pop("quantity", None)
    else:
        spec["quantity"] = quantity
    return data


def _free_shop(
    shop: Any, settings: Any, quantity: Any, adapter: type = CheckedQuantityAdapter
) -> Any:
    settings.TALON = {
        **settings.TALON,
        "ADAPTER": f"{__name__}.{adapter.__name__}",
        "ADD_FREE_ITEMS": True,
    }
    CheckedQuantityAdapter.quantities = []
    shop.load_campaigns(_campaigns(quantity))
    return shop


def _session(cart: Any) -> CustomerSession:
    session = services.session_for_cart(cart, create=False)
    assert session is not None
    return session


def _assert_refused(cart: Any, shop: Any, *texts: str) -> None:
    """No tote, no grant remembered, one open cart problem naming why, every write sent."""
    assert not CartItem.objects.filter(cart=cart, sku=TOTE).exists()
    assert CheckedQuantityAdapter.quantities == []
    session = _session(cart)
    assert session.free_items_added == []
    (problem,) = SyncProblem.objects.filter(resolved=False)
    assert (problem.stage, problem.subject) == ("cart", session.cart_key)
    assert problem.error.startswith(
        "FreeItemRefusedError: addFreeItem of campaign 2 for 'FREE-TOTE'"
    )
    for text in texts:
        assert text in problem.error
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"done"}
    assert session.last_error == ""


def test_a_huge_quantity_is_refused_and_the_cart_keeps_syncing(shop: Any, settings: Any) -> None:
    _free_shop(shop, settings, 10**12)
    cart = make_cart(items=[ESPRESSO, GRINDER])  # 106.00: the tote is granted
    _assert_refused(cart, shop, "1000000000000", "outside 1..10000")
    # The next change still reaches Talon.One (before the fix: 10**12 totes in the cart, and
    # every later update dead-lettered on the client's 10,000-unit limit).
    CartItem.objects.create(
        cart=cart, sku=KETTLE[0], name=KETTLE[1], price=Decimal(KETTLE[2]), quantity=1
    )
    session = _session(cart)
    remote = shop.control.state()["sessions"][session.integration_id]
    assert sorted(i["sku"] for i in remote["cartItems"]) == sorted(
        [ESPRESSO[0], GRINDER[0], KETTLE[0]]
    )
    assert session.fingerprint == session.pushed_fingerprint
    assert not OutboxMessage.objects.exclude(state="done").exists()
    assert SyncProblem.objects.get().count >= 2  # refused again per answer, one row
    # Neither shown nor charged: the quote lists the grant as unusable.
    quote = quote_for_cart(cart)
    assert quote.confirmed and quote.free_items == ()
    assert len(quote.unusable_effects) == 1
    assert (quote.subtotal, quote.total) == (Decimal("151.00"), Decimal("149.00"))  # coffee 2 off


@pytest.mark.parametrize("quantity", [0, -3], ids=["zero", "negative"])
def test_zero_or_negative_quantity_is_refused_without_raising(
    shop: Any, settings: Any, quantity: int
) -> None:
    """Before the fix, -3 reached the adapter and its CHECK constraint raised an
    IntegrityError inside the delivery (and 0 became 1)."""
    _free_shop(shop, settings, quantity)
    cart = make_cart(items=[ESPRESSO, GRINDER])
    _assert_refused(cart, shop, f"{quantity} is outside 1..10000")
    assert quote_for_cart(cart).free_items == ()


def test_a_quantity_the_cart_has_no_room_for_is_refused(shop: Any, settings: Any) -> None:
    """10,000 totes are a usable quantity, but with the 3 units already in the cart the
    session would hold more than the API allows."""
    _free_shop(shop, settings, 10_000)
    cart = make_cart(items=[ESPRESSO, GRINDER])  # 2 + 1 units
    _assert_refused(cart, shop, "10000 more units would take the cart (3 units) past")


@pytest.mark.parametrize(("quantity", "expected"), [(3, 3), (None, 1)], ids=["three", "unsent"])
def test_a_usable_quantity_is_added_as_checked(
    shop: Any, settings: Any, quantity: Any, expected: int
) -> None:
    _free_shop(shop, settings, quantity)
    cart = make_cart(items=[ESPRESSO, GRINDER])
    assert CheckedQuantityAdapter.quantities == [expected]
    assert CartItem.objects.get(cart=cart, sku=TOTE).quantity == expected
    session = _session(cart)
    assert session.free_items_added == [f"2:{TOTE}"]
    assert not SyncProblem.objects.exists()
    remote = shop.control.state()["sessions"][session.integration_id]
    assert [(i["sku"], i["quantity"]) for i in remote["cartItems"] if i["sku"] == TOTE] == [
        (TOTE, expected)
    ]
    (free,) = quote_for_cart(cart).free_items
    assert (free.desired_quantity, free.in_cart) == (expected, True)


def test_an_adapter_hook_that_raises_is_recorded_not_raised(shop: Any, settings: Any) -> None:
    _free_shop(shop, settings, 1, adapter=BrokenAdapter)
    cart = make_cart(items=[ESPRESSO, GRINDER])
    assert not CartItem.objects.filter(cart=cart, sku=TOTE).exists()
    session = _session(cart)
    assert session.free_items_added == []  # not added: tried again with the next answer
    (problem,) = SyncProblem.objects.all()
    assert problem.error == "RuntimeError: the shop's free-item hook is broken"
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"done"}
    assert session.fingerprint == session.pushed_fingerprint
