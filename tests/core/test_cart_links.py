"""The default adapter finds a line's and an order's cart through their foreign key to a
``CART_MODELS`` model, whatever its name (tests/basketshop: ``Line.basket``, the one-to-one
``Order.basket``); the checks W006/W007 warn when it cannot (docs/adapters.md, Hooks).

Before, the defaults read ``item.cart`` / ``order.cart``: such a shop got no session update
for any line and never closed a session (no ledger, coupons never redeemed), silently.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings

from django_talon import services
from django_talon.adapters import TalonAdapter, get_adapter
from django_talon.cart_links import cart_foreign_keys
from django_talon.checks import check_settings
from django_talon.models import LedgerEntry, SyncProblem
from tests.basketshop.models import Basket, Exchange, Line, Order
from tests.core.test_checks import GOOD, SHARED_CACHE

BASKET_WIRING: dict[str, Any] = {
    "DELIVERY": "sync",
    "SYNC_RELAY_INTERVAL": 0,
    "ADAPTER": "django_talon.adapters.TalonAdapter",
    "CART_MODELS": ["basketshop.Basket"],
    "CART_ITEM_MODELS": ["basketshop.Line"],
    "ORDER_MODELS": ["basketshop.Order"],
}


@pytest.fixture
def basket_shop(settings: Any, talon_settings: dict[str, Any], talon_emulator: Any) -> Any:
    """tests/basketshop wired with the default adapter, delivering to the emulator."""
    settings.TALON = {**settings.TALON, **BASKET_WIRING}
    return talon_emulator


@pytest.mark.django_db(transaction=True)
def test_lines_and_orders_named_basket_sync_with_the_default_adapter(basket_shop: Any) -> None:
    basket = Basket.objects.create()
    line = Line.objects.create(
        basket=basket, sku="ESPRESSO-250", name="Espresso", price=Decimal("8.50"), quantity=2
    )
    session = services.session_for_cart(basket, create=False)
    assert session is not None, "the line's save updated no session"
    assert [(i["sku"], i["quantity"]) for i in session.cart_items] == [("ESPRESSO-250", 2)]
    Line.objects.create(basket=basket, sku="GRINDER-X", name="Grinder", price=Decimal("89"))
    line.delete()  # post_delete goes through cart_for_item too
    session.refresh_from_db()
    assert [i["sku"] for i in session.cart_items] == ["GRINDER-X"]
    services.apply_coupon(basket, "WELCOME10")

    with transaction.atomic():
        order = Order.objects.create(basket=basket, status="paid")
    session.refresh_from_db()
    assert session.state == "closed"
    assert basket_shop.control.state()["sessions"][session.integration_id]["state"] == "closed"
    assert LedgerEntry.objects.filter(session_id=session.integration_id).exists()
    order.status = "cancelled"
    order.save()
    session.refresh_from_db()
    assert session.state == "cancelled"
    assert not SyncProblem.objects.exists()


@pytest.mark.django_db
def test_the_default_hooks_read_the_one_foreign_key_to_a_cart(settings: Any) -> None:
    settings.TALON = {**settings.TALON, **BASKET_WIRING, "ENABLED": False}
    basket = Basket.objects.create()
    line = Line(basket=basket, sku="S", name="S", price=Decimal("1"))
    order = Order(basket=basket)
    assert get_adapter().cart_for_item(line) == basket
    assert get_adapter().order_cart(order) == basket
    # The same link the item receiver watches for moves; a one-to-one field counts.
    assert [f.name for f in cart_foreign_keys(Line)] == ["basket"]
    assert [f.name for f in cart_foreign_keys(Order)] == ["basket"]
    assert [f.name for f in cart_foreign_keys(Exchange)] == ["basket", "replacement"]
    assert cart_foreign_keys(Line, ["shopapp.Cart"]) == []
    # Several links: the default cannot choose and falls back to ``cart`` (None here).
    assert get_adapter().cart_for_item(Exchange(basket=basket, replacement=basket)) is None


def messages(**talon: Any) -> list[tuple[str, str]]:
    with override_settings(TALON={**GOOD, **talon}, CACHES=SHARED_CACHE):
        return [(m.id, m.msg) for m in check_settings()]


def ids(**talon: Any) -> list[str]:
    return [id_ for id_, _ in messages(**talon)]


class BasketAdapter(TalonAdapter):
    def cart_for_item(self, item: Any) -> Any:
        return item.basket

    def order_cart(self, order: Any) -> Any:
        return order.basket


class SessionIdOnOrders(TalonAdapter):
    def order_session_id(self, order: Any) -> str | None:
        return getattr(order, "session_id", None)


WIRED = {k: v for k, v in BASKET_WIRING.items() if k.endswith("_MODELS")}


def test_w006_w007_a_model_without_a_foreign_key_to_a_cart_model() -> None:
    assert ids(**WIRED) == []  # Line.basket and Order.basket are found
    unwired = {**WIRED, "CART_MODELS": ["shopapp.Cart"]}  # no link to it, and no ``cart``
    found = messages(**unwired)
    assert [id_ for id_, _ in found] == ["django_talon.W006", "django_talon.W007"]
    assert "'basketshop.Line', which has no foreign key" in found[0][1]
    assert "never close or cancel" in found[1][1]
    assert ids(**unwired, ADAPTER=f"{__name__}.BasketAdapter") == []
    # An order whose session is found by its stored id needs no order_cart.
    assert ids(**unwired, ADAPTER=f"{__name__}.SessionIdOnOrders") == ["django_talon.W006"]
    # ``cart`` (here a foreign key to a cart the receivers do not watch) is what the
    # default reads when no foreign key matches: a shop wiring only its orders.
    assert ids(ORDER_MODELS=["shopapp.Order"], CART_ITEM_MODELS=["shopapp.CartItem"]) == []
    assert ids(**{**unwired, "CART_ITEM_MODELS": ["nope.Line"]}) == [
        "django_talon.E006",  # said once, not twice
        "django_talon.W007",
    ]


def test_w006_w007_several_foreign_keys_to_cart_models() -> None:
    found = messages(**{**WIRED, "CART_ITEM_MODELS": ["basketshop.Exchange"]})
    assert [id_ for id_, _ in found] == ["django_talon.W006"]
    assert "several foreign keys" in found[0][1] and "'replacement'" in found[0][1]
    assert ids(**{**WIRED, "ORDER_MODELS": ["basketshop.Exchange"]}) == ["django_talon.W007"]
    adapter = f"{__name__}.BasketAdapter"
    exchanges = {**WIRED, "CART_ITEM_MODELS": ["basketshop.Exchange"]}
    assert ids(**exchanges, ADAPTER=adapter) == []
