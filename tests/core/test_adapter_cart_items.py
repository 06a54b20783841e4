"""Cart lines as Talon.One takes them, from the default adapter and from overrides.

The default adapter and every override (``json_cart_items`` wraps them) leave out cart
lines with nothing in them (quantity < 1), send whole quantities as integers and prices in
cents, and name a line Talon.One could never take (recorded, nothing queued).

Talon.One (and the client's input check) refuse a quantity of 0, so sending such a line
turned the whole session write into a dead letter: no discount for the rest of the cart.
Shops commonly keep a line at 0 after "set quantity to 0".
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from django_talon import services
from django_talon.adapters import AdapterValueError, TalonAdapter, json_cart_items
from django_talon.models import OutboxMessage, SyncProblem
from tests.core.conftest import ESPRESSO, make_cart
from tests.shopapp.adapters import ShopAdapter
from tests.shopapp.models import CartItem, Order

pytestmark = pytest.mark.django_db(transaction=True)


def test_zero_quantity_line_is_left_out_and_the_rest_is_delivered(shop: Any) -> None:
    cart = make_cart(items=[ESPRESSO])
    CartItem.objects.create(
        cart=cart, sku="GONE-1", name="Removed", price=Decimal("5.00"), quantity=0
    )

    assert [i["sku"] for i in TalonAdapter().cart_items(cart)] == ["ESPRESSO-250"]
    assert not OutboxMessage.objects.filter(state=OutboxMessage.State.DEAD).exists()
    writes = [r for r in shop.control.requests("/v2/customer_sessions/") if r["method"] == "PUT"]
    last = writes[-1]["body"]["customerSession"]["cartItems"]
    assert [i["sku"] for i in last] == ["ESPRESSO-250"]


class ProductLinesAdapter(ShopAdapter):
    """docs/installation.md's adapter shape: every line, as the shop's own fields give it
    (a ``Decimal`` quantity field, a float price with three places)."""

    quantity_as = staticmethod(Decimal)
    price_as = staticmethod(float)

    def cart_items(self, cart: Any) -> list[dict[str, Any]]:
        return [
            {
                "sku": row.sku,
                "name": row.name,
                "price": self.price_as(row.price),
                "quantity": self.quantity_as(row.quantity),
            }
            for row in cart.items.all()
        ]


class FractionalAdapter(ProductLinesAdapter):
    quantity_as = staticmethod(lambda quantity: Decimal(quantity) / 2)


def use_adapter(settings: Any, adapter: type) -> None:
    settings.TALON = {**settings.TALON, "ADAPTER": f"{__name__}.{adapter.__name__}"}


def last_sent_items(shop: Any) -> list[dict[str, Any]]:
    writes = [r for r in shop.control.requests("/v2/customer_sessions/") if r["method"] == "PUT"]
    items: list[dict[str, Any]] = writes[-1]["body"]["customerSession"]["cartItems"]
    return items


def test_an_overrides_zero_quantity_line_is_left_out_too(shop: Any, settings: Any) -> None:
    """The shop sets a line to 0 with ``QuerySet.update()`` and saves the cart: the rest of
    the cart still reaches Talon.One, and the order's close after it too."""
    use_adapter(settings, ProductLinesAdapter)
    cart = make_cart(items=[ESPRESSO])
    CartItem.objects.create(cart=cart, sku="MUG-1", name="Mug", price=Decimal("6.00"), quantity=2)
    CartItem.objects.filter(cart=cart, sku="MUG-1").update(quantity=0)
    cart.save()
    assert [(i["sku"], i["quantity"]) for i in last_sent_items(shop)] == [("ESPRESSO-250", 2)]
    Order.objects.create(cart=cart, status="paid")
    assert not OutboxMessage.objects.filter(state=OutboxMessage.State.DEAD).exists()
    session = services.session_for_cart(cart, create=False, open_only=False)
    assert session is not None and session.state == "closed"
    assert shop.control.state()["sessions"][session.integration_id]["state"] == "closed"


def test_whole_decimal_quantities_go_out_as_integers_and_prices_in_cents(
    shop: Any, settings: Any
) -> None:
    """``Decimal("2")`` was sent as 2.0, which Talon.One refuses (a dead letter); a float
    price of 0.335 went out unrounded while the quote charged 0.34 a unit."""
    use_adapter(settings, ProductLinesAdapter)
    cart = make_cart(items=[("CAP-1", "Capsule", "0.335", 3, "coffee")])
    assert last_sent_items(shop) == [
        {"sku": "CAP-1", "name": "Capsule", "price": 0.34, "quantity": 3}
    ]
    quote = services.quote_for_cart(cart)
    assert quote.lines[0].unit_price == Decimal("0.34") and quote.subtotal == Decimal("1.02")
    assert not OutboxMessage.objects.filter(state=OutboxMessage.State.DEAD).exists()


def test_a_fractional_quantity_is_recorded_and_nothing_is_queued(shop: Any, settings: Any) -> None:
    use_adapter(settings, FractionalAdapter)
    make_cart(items=[("ROAST-1", "Roast", "9.00", 3, "coffee")])
    problem = SyncProblem.objects.get()
    assert problem.error.startswith("AdapterValueError: cart_items[0]: 'quantity' is 1.5")
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    ("item", "error"),
    [
        ({"sku": "", "quantity": 1}, "non-empty 'sku'"),
        ({"quantity": 1, "price": 1}, "non-empty 'sku'"),
        ({"sku": "A"}, "'quantity' must be a whole number, not NoneType"),
        ({"sku": "A", "quantity": True}, "not bool"),
        ({"sku": "A", "quantity": float("inf")}, "'quantity' is inf"),
        ({"sku": "A", "quantity": 1, "price": float("nan")}, "'price' is nan"),
        ({"sku": "A", "quantity": 1, "price": Decimal("NaN")}, "'price' is NaN"),
    ],
)
def test_lines_talon_one_could_never_take_name_the_line(item: dict[str, Any], error: str) -> None:
    with pytest.raises(AdapterValueError, match=r"cart_items\[1\]: .*" + re.escape(error)):
        json_cart_items([{"sku": "OK", "quantity": 1}, item])


def test_json_cart_items_keeps_what_is_already_right() -> None:
    items = [
        {"sku": "A", "quantity": 2, "price": 3, "name": "A"},
        {"sku": "B", "quantity": 2.0, "price": 1.005},
        {"sku": "C", "quantity": -1, "price": 1},
        {"sku": "D", "quantity": Decimal("0"), "price": 1},
    ]
    assert json_cart_items(items) == [
        {"sku": "A", "quantity": 2, "price": 3, "name": "A"},
        {"sku": "B", "quantity": 2, "price": 1.01},
    ]
