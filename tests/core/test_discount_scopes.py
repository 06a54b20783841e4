"""Cart discounts with a ``scope`` (cascading discounts): what the quote charges, what the
ledger books, through the emulator.

Talon.One names a ``setDiscount``'s scope with cascading discounts on: ``cartItems``,
``additionalCosts`` or ``sessionTotal``. The quote took every cart discount off the items
and capped it at them, so a free-shipping discount on a cart whose items cost less than the
shipping was charged in part (the shop charged more than Talon.One booked: a discrepancy),
and the booked total was capped the same way.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from django_talon.emulator import DEMO_CAMPAIGNS
from django_talon.emulator.campaign_file import CampaignFileError, parse_campaigns
from django_talon.models import Discrepancy, LedgerEntry
from django_talon.promotions.scopes import take_cart_discounts
from django_talon.services.quotes import quote_for_cart
from tests.core.conftest import ESPRESSO, make_cart
from tests.core.test_additional_costs import SHIPPING, ShippingAdapter
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

STICKER = ("STICKER", "Sticker", "2.00", 1, "merch")  # 2.00 of items, shipping 4.90


def _campaigns(*effects: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEMO_CAMPAIGNS.read_text())
    for index, effect in enumerate(effects):
        data["campaigns"].append(
            {"id": 95 + index, "name": effect["name"], "conditions": [], "effects": [effect]}
        )
    return data


@pytest.fixture
def scoped_shop(shop: Any, settings: Any) -> Any:
    settings.TALON = {**settings.TALON, "ADAPTER": ShippingAdapter.__module__ + ".ShippingAdapter"}
    return shop


def test_take_cart_discounts_by_scope() -> None:
    d = Decimal
    taken = take_cart_discounts(
        [
            ("", d("3.00")),
            ("additionalCosts", d("10.00")),
            ("sessionTotal", d("5.00")),
            ("cartItems", d("1.00")),
            ("somethingNew", d("9.00")),  # an unknown scope: the items only
        ],
        items_room=d("8.00"),
        costs_room=d("6.00"),
    )
    assert taken == [
        (d("3.00"), d("0.00")),
        (d("0.00"), d("6.00")),
        (d("5.00"), d("0.00")),
        (d("0.00"), d("0.00")),
        (d("0.00"), d("0.00")),
    ]


def test_free_shipping_scoped_to_additional_costs_comes_off_the_shipping(
    scoped_shop: Any,
) -> None:
    scoped_shop.load_campaigns(
        _campaigns(
            {
                "type": "setDiscount",
                "name": "Shipping on us",
                "percent": 100,
                "scope": "additionalCosts",
            }
        )
    )
    cart = make_cart(items=[STICKER])
    quote = quote_for_cart(cart)
    assert quote.confirmed
    (discount,) = quote.cart_discounts
    assert (discount.scope, discount.amount) == ("additionalCosts", SHIPPING)
    assert quote.cart_discount_on_costs == SHIPPING and quote.cart_discount_on_items == 0
    assert quote.total == Decimal("2.00")  # was 4.90: the discount capped at the items
    assert quote.discounts_by_campaign() == {95: SHIPPING}

    order = Order.objects.create(cart=cart, status="paid")
    key = f"shopapp.order:{order.pk}"
    charged = LedgerEntry.objects.get(order_key=key, kind="charged")
    booked = LedgerEntry.objects.get(order_key=key, kind="booked")
    assert charged.total == booked.total == Decimal("2.00")
    assert charged.discounts_by_campaign == booked.discounts_by_campaign == {"95": "4.90"}
    assert charged.quote["cart_discounts"][0]["scope"] == "additionalCosts"
    assert charged.quote["cart_discount_on_costs"] == "4.90"
    assert not Discrepancy.objects.exists()


def test_a_session_total_discount_takes_the_items_then_the_shipping(scoped_shop: Any) -> None:
    scoped_shop.load_campaigns(
        _campaigns({"type": "setDiscount", "name": "20 off", "amount": 20, "scope": "sessionTotal"})
    )
    cart = make_cart(items=[ESPRESSO])  # 17.00, coffee 1 off each: 15.00 left; shipping 4.90
    quote = quote_for_cart(cart)
    assert quote.confirmed
    (discount,) = quote.cart_discounts
    assert discount.amount == Decimal("19.90")  # Talon.One's value: all there is
    assert quote.cart_discount_on_items == Decimal("15.00")
    assert quote.cart_discount_on_costs == SHIPPING
    assert quote.total == Decimal("0.00")

    order = Order.objects.create(cart=cart, status="paid")
    booked = LedgerEntry.objects.get(order_key=f"shopapp.order:{order.pk}", kind="booked")
    assert booked.total == Decimal("0.00")
    assert not Discrepancy.objects.exists()


def test_a_cart_items_scope_stays_on_the_items(scoped_shop: Any) -> None:
    scoped_shop.load_campaigns(
        _campaigns({"type": "setDiscount", "name": "10 off", "amount": 10, "scope": "cartItems"})
    )
    cart = make_cart(items=[STICKER])
    quote = quote_for_cart(cart)
    (discount,) = quote.cart_discounts
    assert (discount.scope, discount.amount) == ("cartItems", Decimal("2.00"))
    assert quote.total == SHIPPING  # the items are free, the shipping is charged


def test_the_campaign_file_refuses_an_unknown_scope() -> None:
    with pytest.raises(CampaignFileError, match="scope must be"):
        parse_campaigns(
            {
                "campaigns": [
                    {
                        "id": 1,
                        "name": "x",
                        "effects": [{"type": "setDiscount", "amount": 1, "scope": "shipping"}],
                    }
                ]
            }
        )
