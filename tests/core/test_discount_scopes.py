"""Cart discounts with a ``scope`` (cascading discounts): what the quote charges, what the
ledger books, through the emulator.

Talon.One names a ``setDiscount``'s scope with cascading discounts on: ``cartItems``,
``additionalCosts`` or ``sessionTotal``. The quote took every cart discount off the items
and capped it at them, so a free-shipping discount on a cart whose items cost less than the
shipping was charged in part (the shop charged more than Talon.One booked: a discrepancy),
and the booked total was capped the same way.

A ``setDiscountPerItem`` has scopes of its own: ``price``, ``additionalCosts`` (the item's
own additional costs) and ``itemTotal`` (the price, then those costs). They were all taken
off the line's price and capped at it: a discount on an item's handling dearer than the
item was charged in part, the customer paid more than Talon.One booked.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from django_talon.emulator import DEMO_CAMPAIGNS
from django_talon.emulator.campaign_file import CampaignFileError, parse_campaigns
from django_talon.models import Discrepancy, LedgerEntry
from django_talon.promotions import summarize
from django_talon.promotions.scopes import take_cart_discounts, take_item_discounts
from django_talon.services.ledger import BookedAmounts
from django_talon.services.quotes import quote_for_cart
from django_talon.templatetags.talon import talon_cart_summary
from tests.core.conftest import ESPRESSO, make_cart
from tests.core.test_additional_costs import SHIPPING, ShippingAdapter
from tests.shopapp.adapters import ShopAdapter
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


HANDLING = Decimal("4.00")  # per unit, dearer than the sticker


class HandlingAdapter(ShopAdapter):
    """The test shop with shipping and a per-unit handling cost on every item."""

    def additional_costs(self, cart: Any) -> dict[str, Decimal]:
        return {"shipping": SHIPPING} if cart.items.exists() else {}

    def cart_items(self, cart: Any) -> list[dict[str, Any]]:
        items = super().cart_items(cart)
        for item in items:
            item["additionalCosts"] = {"handling": {"price": float(HANDLING)}}
        return items


@pytest.fixture
def scoped_shop(shop: Any, settings: Any) -> Any:
    settings.TALON = {**settings.TALON, "ADAPTER": ShippingAdapter.__module__ + ".ShippingAdapter"}
    return shop


@pytest.fixture
def handling_shop(shop: Any, settings: Any) -> Any:
    settings.TALON = {**settings.TALON, "ADAPTER": f"{__name__}.HandlingAdapter"}
    return shop


def _per_item(scope: str, amount: float) -> dict[str, Any]:
    return {
        "type": "setDiscountPerItem",
        "name": f"{scope} off",
        "sku": "STICKER",
        "amount": amount,
        "scope": scope,
    }


def _close(cart: Any) -> tuple[LedgerEntry, LedgerEntry]:
    order = Order.objects.create(cart=cart, status="paid")
    key = f"shopapp.order:{order.pk}"
    return (
        LedgerEntry.objects.get(order_key=key, kind="charged"),
        LedgerEntry.objects.get(order_key=key, kind="booked"),
    )


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


def test_take_item_discounts_by_scope() -> None:
    d = Decimal
    taken = take_item_discounts(
        [
            ("price", d("1.50")),
            ("additionalCosts", d("3.00")),
            ("itemTotal", d("2.00")),
            ("", d("5.00")),  # no scope: the price
            ("somethingNew", d("1.00")),  # an unknown scope: the price only
            ("itemTotal", d("9.00")),
        ],
        price_room=d("2.00"),
        costs_room=d("4.00"),
    )
    assert taken == [
        (d("1.50"), d("0.00")),
        (d("0.00"), d("3.00")),
        (d("0.50"), d("1.00")),
        (d("0.00"), d("0.00")),
        (d("0.00"), d("0.00")),
        (d("0.00"), d("0.00")),
    ]


def test_a_per_item_discount_on_the_items_costs_comes_off_them(handling_shop: Any) -> None:
    handling_shop.load_campaigns(_campaigns(_per_item("additionalCosts", 10)))
    cart = make_cart(items=[STICKER])  # 2.00, handling 4.00, shipping 4.90
    quote = quote_for_cart(cart)
    assert quote.confirmed
    (line,) = quote.lines
    (discount,) = line.discounts
    assert (discount.scope, discount.amount) == ("additionalCosts", HANDLING)  # all there is
    assert (line.discount, line.discount_on_costs, line.total) == (0, HANDLING, Decimal("2.00"))
    assert quote.item_discount_on_costs == HANDLING
    assert quote.total == Decimal("6.90")  # was 8.90: the 4.00 capped at the 2.00 sticker
    assert quote.discounts_by_campaign() == {95: HANDLING}
    assert quote.to_dict()["lines"][0]["discount_on_costs"] == "4.00"

    html = str(talon_cart_summary({}, quote))
    assert "-4.00 EUR off its additional costs" in html
    assert 'class="talon-line-discount"> <span' in html  # nothing off the price

    charged, booked = _close(cart)
    assert charged.total == booked.total == Decimal("6.90")
    assert charged.discounts_by_campaign == booked.discounts_by_campaign == {"95": "4.00"}
    assert not Discrepancy.objects.exists()


def test_an_item_total_discount_takes_the_price_then_the_items_costs(
    handling_shop: Any,
) -> None:
    handling_shop.load_campaigns(_campaigns(_per_item("itemTotal", 5)))
    cart = make_cart(items=[STICKER])
    quote = quote_for_cart(cart)
    (line,) = quote.lines
    (discount,) = line.discounts
    assert (discount.scope, discount.amount) == ("itemTotal", Decimal("5.00"))
    assert (line.discount, line.discount_on_costs) == (Decimal("2.00"), Decimal("3.00"))
    assert quote.total == Decimal("5.90")  # 2.00 + 4.00 + 4.90 - 5.00; was 6.90 (capped)

    charged, booked = _close(cart)
    assert charged.total == booked.total == Decimal("5.90")
    assert not Discrepancy.objects.exists()


def test_a_price_scope_stays_on_the_price_and_leaves_the_shipping(handling_shop: Any) -> None:
    handling_shop.load_campaigns(_campaigns(_per_item("price", 10)))
    cart = make_cart(items=[STICKER])
    quote = quote_for_cart(cart)
    (line,) = quote.lines
    assert line.discounts[0].scope == "price"
    assert (line.discount, line.discount_on_costs) == (Decimal("2.00"), 0)
    assert quote.total == HANDLING + SHIPPING

    charged, booked = _close(cart)
    assert charged.total == booked.total == HANDLING + SHIPPING
    assert not Discrepancy.objects.exists()


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


@pytest.mark.parametrize("effect_type", ["setDiscount", "setDiscountPerItem"])
def test_the_campaign_file_refuses_an_unknown_scope(effect_type: str) -> None:
    with pytest.raises(CampaignFileError, match="scope must be"):
        parse_campaigns(
            {
                "campaigns": [
                    {
                        "id": 1,
                        "name": "x",
                        "effects": [{"type": effect_type, "amount": 1, "scope": "shipping"}],
                    }
                ]
            }
        )


def _booked_total(effects: list[dict[str, Any]]) -> Decimal:
    items = [
        {
            "sku": "STICKER",
            "name": "Sticker",
            "price": 2.0,
            "quantity": 1,
            "additionalCosts": {"handling": {"price": 4.0}},
        }
    ]
    raw = [
        {"campaignId": 95, "rulesetId": 1, "ruleIndex": 0, "ruleName": "r", **e} for e in effects
    ]
    summary = summarize(raw, items, "EUR", additional_costs={"shipping": {"price": 4.9}})
    return BookedAmounts(raw, summary).total()


def test_the_booked_total_takes_each_discount_where_its_scope_reaches() -> None:
    """Without the emulator: amounts Talon.One might send, beyond what there is to take."""
    per_item = {"effectType": "setDiscountPerItem", "props": {"name": "x#0", "position": 0}}

    def item(scope: str, value: float) -> dict[str, Any]:
        return {**per_item, "props": {**per_item["props"], "value": value, "scope": scope}}

    # 2.00 sticker + 4.00 handling + 4.90 shipping = 10.90
    assert _booked_total([item("additionalCosts", 6)]) == Decimal("6.90")  # at most 4.00
    assert _booked_total([item("itemTotal", 5)]) == Decimal("5.90")
    assert _booked_total([item("price", 1), item("itemTotal", 3)]) == Decimal("6.90")
    assert _booked_total([item("", 1)]) == Decimal("9.90")
    free_shipping = {
        "effectType": "setDiscount",
        "props": {"name": "ship", "value": 12.0, "scope": "additionalCosts"},
    }
    # a cart discount scoped to the costs beyond them never takes its excess off the items
    assert _booked_total([free_shipping]) == Decimal("2.00")
