"""Talon.One's free items (``ADD_FREE_ITEMS``) in an Oscar basket: only the granted units
are free. The basket formset lets the shopper raise the free line's quantity; the units
above the grant are sent to Talon.One and charged by Oscar at their price."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from oscar.core.loading import get_model
from oscar.test import factories

from django_talon import services
from django_talon.models import LedgerEntry
from tests.oscar.conftest import (
    add_to_basket,
    basket_of,
    check_out,
    make_user,
    sessions_of,
    set_quantities,
)

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal
Order = get_model("order", "Order")


@pytest.fixture
def tote_shop(shop: Any, catalogue: dict[str, Any], settings: Any) -> Client:
    """The demo campaign's free tote over 100, added by django-talon: 8 mugs (100.00)."""
    settings.TALON = {**settings.TALON, "ADD_FREE_ITEMS": True}
    factories.create_product(upc="FREE-TOTE", title="Tote", price=D("15.00"), num_in_stock=10)
    client = Client()
    client.force_login(make_user("ada@example.com"))
    add_to_basket(client, catalogue["mug"], 8)
    basket, _ = basket_of(client)
    assert [(line.product.upc, line.quantity) for line in basket.all_lines()] == [
        ("MUG-1", 8),
        ("FREE-TOTE", 1),
    ]
    assert basket.total_incl_tax == D("100.00")
    return client


def _sent(basket: Any) -> list[tuple[str, int, float]]:
    (session,) = sessions_of(basket)
    return [(i["sku"], i["quantity"], i["price"]) for i in session.cart_items]


def test_units_above_the_grant_are_charged_and_sent_at_their_price(
    tote_shop: Client, shop: Any
) -> None:
    set_quantities(tote_shop, {"FREE-TOTE": 5})  # Talon.One grants 1
    basket, page = basket_of(tote_shop)
    assert _sent(basket) == [("MUG-1", 8, 12.5), ("FREE-TOTE", 1, 0.0), ("FREE-TOTE", 4, 15.0)]
    quote = services.quote_for_cart(basket)
    assert quote.confirmed and [f.desired_quantity for f in quote.free_items] == [1]
    # 100.00 + 4 x 15.00: one tote free, not five (all five were charged 0.00).
    assert basket.total_incl_tax == quote.total == D("160.00")
    assert b"Free: 1" in page.content

    check_out(tote_shop)
    order = Order.objects.get()
    assert order.total_incl_tax == D("160.00")
    tote = order.lines.get(upc="FREE-TOTE")
    assert tote.quantity == 5 and tote.line_price_incl_tax == D("60.00")
    entry = LedgerEntry.objects.get(kind="charged")
    assert entry.total == order.total_incl_tax
    remote = shop.control.state()["sessions"][entry.session_id]
    assert remote["state"] == "closed"
    assert [(i["sku"], i["quantity"], i["price"]) for i in remote["cartItems"]] == [
        ("MUG-1", 8, 12.5),
        ("FREE-TOTE", 1, 0.0),
        ("FREE-TOTE", 4, 15.0),
    ]


def test_back_to_the_granted_quantity_is_free_again(tote_shop: Client) -> None:
    set_quantities(tote_shop, {"FREE-TOTE": 3})
    basket, _ = basket_of(tote_shop)
    assert basket.total_incl_tax == D("130.00")
    set_quantities(tote_shop, {"FREE-TOTE": 1})
    basket, _ = basket_of(tote_shop)
    assert _sent(basket) == [("MUG-1", 8, 12.5), ("FREE-TOTE", 1, 0.0)]
    assert basket.total_incl_tax == services.quote_for_cart(basket).total == D("100.00")


def test_the_paid_units_stay_when_the_grant_ends(tote_shop: Client) -> None:
    """Below the threshold Talon.One no longer grants the tote: its free unit goes, the
    units the shopper added stay, as an ordinary paid line."""
    set_quantities(tote_shop, {"FREE-TOTE": 3})
    set_quantities(tote_shop, {"MUG-1": 1})  # 12.50 + 2 x 15.00 < 100
    basket, _ = basket_of(tote_shop)
    assert [(line.product.upc, line.quantity) for line in basket.all_lines()] == [
        ("MUG-1", 1),
        ("FREE-TOTE", 2),
    ]
    assert _sent(basket) == [("MUG-1", 1, 12.5), ("FREE-TOTE", 2, 15.0)]
    assert basket.total_incl_tax == services.quote_for_cart(basket).total == D("42.50")
