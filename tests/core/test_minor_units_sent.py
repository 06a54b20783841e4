"""The prices sent to Talon.One are rounded as the quote rounds them: to the minor unit of the
cart's Application currency, half up.

Item prices (``cart_items``) and additional costs used to be rounded to 2 decimals whatever
the currency: a KWD cart of 1.235 plus 0.995 shipping was sent, quoted and charged as 2.240
instead of 2.230 (and the ledger, comparing Talon.One's answer with a quote built from the
same rounded prices, saw no difference). Additional costs also rounded half to even (4.985
shipping went as 4.98 while a 4.985 item went as 4.99). Through the emulator over HTTP.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from django_talon import services
from django_talon.adapters import _money, get_adapter, json_cart_items
from django_talon.services.quotes import quote_for_cart
from django_talon.services.sessions import additional_costs_payload
from tests.core.conftest import make_cart
from tests.shopapp.adapters import ShopAdapter

pytestmark = pytest.mark.django_db(transaction=True)

#: The test shop stores prices with 2 decimals: the adapter gives these SKUs their own price.
PRICES: dict[str, Decimal] = {"DATES": Decimal("1.235"), "TIE": Decimal("4.985")}
SHIPPING: dict[str, Decimal] = {"value": Decimal("0.995")}


class PricedAdapter(ShopAdapter):
    """The test shop with its own unit prices for some SKUs and a flat shipping cost."""

    def cart_items(self, cart: Any) -> list[dict[str, Any]]:
        items = super().cart_items(cart)
        for item in items:
            if item["sku"] in PRICES:
                item["price"] = PRICES[item["sku"]]
        return items

    def additional_costs(self, cart: Any) -> dict[str, Decimal]:
        return {"shipping": SHIPPING["value"]} if cart.items.exists() else {}


class KwdApplicationAdapter(PricedAdapter):
    def application_for_cart(self, cart: Any) -> str:
        return "kwd"


class YenAdapter(ShopAdapter):
    """The default ``cart_items`` and a shipping cost of half a yen."""

    def additional_costs(self, cart: Any) -> dict[str, Decimal]:
        return {"shipping": Decimal("499.5")}


def _campaigns(currency: str) -> dict[str, Any]:
    return {"application": {"id": 1, "name": "shop", "currency": currency}, "campaigns": []}


@pytest.fixture
def priced(shop: Any, settings: Any) -> Any:
    settings.TALON = {**settings.TALON, "ADAPTER": f"{__name__}.PricedAdapter"}
    SHIPPING["value"] = Decimal("0.995")
    return shop


def _remote(shop: Any, cart: Any) -> dict[str, Any]:
    session = services.session_for_cart(cart, create=False)
    assert session is not None
    remote: dict[str, Any] = shop.control.state()["sessions"][session.integration_id]
    return remote


def test_a_kwd_cart_is_sent_and_quoted_with_three_decimals(priced: Any, settings: Any) -> None:
    settings.TALON = {**settings.TALON, "CURRENCY": "KWD"}
    priced.load_campaigns(_campaigns("KWD"))

    cart = make_cart(items=[("DATES", "Dates", "1.24", 1, "food")])

    remote = _remote(priced, cart)
    assert [item["price"] for item in remote["cartItems"]] == [1.235]
    assert remote["additionalCosts"] == {"shipping": {"price": 0.995}}
    quote = quote_for_cart(cart)
    assert quote.confirmed and quote.currency == "KWD"
    assert quote.subtotal == Decimal("1.235")
    assert quote.additional_cost_total == Decimal("0.995")
    assert quote.total == Decimal("2.230")


def test_an_applications_own_currency_sets_the_minor_unit(priced: Any, settings: Any) -> None:
    """The currency is the cart's Application's (``application_for_cart``), not the top-level
    ``CURRENCY``: an ``APPLICATIONS`` entry in KWD next to the default EUR one."""
    app = {"BASE_URL": priced.url, "API_KEY": priced.api_key}
    settings.TALON = {
        **settings.TALON,
        "ADAPTER": f"{__name__}.KwdApplicationAdapter",
        "APPLICATIONS": {"eur": {**app, "CURRENCY": "EUR"}, "kwd": {**app, "CURRENCY": "KWD"}},
    }
    priced.load_campaigns(_campaigns("KWD"))

    cart = make_cart(items=[("DATES", "Dates", "1.24", 1, "food")])

    session = services.session_for_cart(cart, create=False)
    assert session is not None and session.application == "kwd"
    remote = _remote(priced, cart)
    assert [item["price"] for item in remote["cartItems"]] == [1.235]
    assert remote["additionalCosts"] == {"shipping": {"price": 0.995}}
    assert quote_for_cart(cart).total == Decimal("2.230")


def test_an_additional_cost_rounds_half_up_as_an_item_price_does(priced: Any) -> None:
    priced.load_campaigns(_campaigns("EUR"))
    SHIPPING["value"] = Decimal("4.985")

    cart = make_cart(items=[("TIE", "Tie", "4.99", 1, "clothes")])

    remote = _remote(priced, cart)
    assert [item["price"] for item in remote["cartItems"]] == [4.99]
    assert remote["additionalCosts"] == {"shipping": {"price": 4.99}}
    quote = quote_for_cart(cart)
    assert quote.additional_cost_total == Decimal("4.99")
    assert quote.total == Decimal("9.98")
    assert additional_costs_payload({"shipping": "0.125"}) == {"shipping": {"price": 0.13}}


def test_a_jpy_cart_is_sent_in_whole_yen_as_the_quote_charges_it(shop: Any, settings: Any) -> None:
    """The default ``cart_items`` (no override) and a cost: 1234.50 and 499.5 JPY go as 1235
    and 500, the whole yen the quote rounds them to (half up)."""
    settings.TALON = {**settings.TALON, "CURRENCY": "JPY", "ADAPTER": f"{__name__}.YenAdapter"}
    shop.load_campaigns(_campaigns("JPY"))

    cart = make_cart(items=[("TEA", "Tea", "1234.50", 2, "tea")])

    assert isinstance(get_adapter(), YenAdapter)
    remote = _remote(shop, cart)
    assert [item["price"] for item in remote["cartItems"]] == [1235]
    assert remote["additionalCosts"] == {"shipping": {"price": 500}}
    quote = quote_for_cart(cart)
    assert quote.subtotal == Decimal("2470")
    assert quote.total == Decimal("2970")


@pytest.mark.parametrize("currency", ["EUR", "USD"])
def test_two_decimal_currencies_send_the_same_floats_as_before(
    settings: Any, currency: str
) -> None:
    """What EUR/USD carts send is byte for byte what it was, so an upgrade does not change
    their fingerprints (no spurious resend of every open session)."""
    settings.TALON = {**settings.TALON, "CURRENCY": currency}
    values = ["8.50", "0.335", "4.90", "17", "0.1", "1234567.891", "-2.345", 8.5, 0.1 + 0.2]
    for value in values:
        before = float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
        assert json.dumps(_money(value)) == json.dumps(before)
        assert json.dumps(_money(value, currency)) == json.dumps(before)
    items = [{"sku": "A", "quantity": 1, "price": Decimal("8.50")}]
    assert json.dumps(json_cart_items(items, currency)) == json.dumps(
        [{"sku": "A", "quantity": 1, "price": 8.5}]
    )
    assert additional_costs_payload({"shipping": Decimal("4.90")}, currency=currency) == {
        "shipping": {"price": 4.9}
    }
