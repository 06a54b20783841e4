"""Additional costs (shipping, per-item handling) through the emulator: the payload sends them,
the quote charges them net of their own discounts (never off the items), the ledger books
them, and a cancel or return reconciles.

The demo campaigns' "Free shipping over 50" (campaign 8) takes 100 % off ``shipping`` from a
subtotal of 50.00; the test campaign 90 takes 50 % off every equipment item's ``handling``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from django_talon import services
from django_talon.api.serializers import PromotionsSerializer
from django_talon.emulator import DEMO_CAMPAIGNS
from django_talon.models import CustomerSession, Discrepancy, LedgerEntry
from django_talon.services.quotes import quote_for_cart
from django_talon.templatetags.talon import talon_cart_summary
from tests.core.conftest import ESPRESSO, GRINDER, make_cart
from tests.shopapp.adapters import ShopAdapter
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

SHIPPING = Decimal("4.90")
HANDLING = 1.5


class ShippingAdapter(ShopAdapter):
    """The test shop plus a flat shipping cost and a per-unit handling cost on equipment."""

    def additional_costs(self, cart: Any) -> dict[str, Decimal]:
        return {"shipping": SHIPPING} if cart.items.exists() else {}

    def cart_items(self, cart: Any) -> list[dict[str, Any]]:
        items = super().cart_items(cart)
        for item in items:
            if item.get("category") == "equipment":
                item["additionalCosts"] = {"handling": {"price": HANDLING}}
        return items


def _campaigns() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEMO_CAMPAIGNS.read_text())
    data["campaigns"].append(
        {
            "id": 90,
            "name": "Half handling",
            "conditions": [{"type": "containsCategory", "category": "equipment"}],
            "effects": [
                {
                    "type": "setDiscountPerAdditionalCostPerItem",
                    "name": "Half handling",
                    "additionalCost": "handling",
                    "additionalCostId": 2,
                    "category": "equipment",
                    "percent": 50,
                }
            ],
        }
    )
    return data


@pytest.fixture
def shipping_shop(shop: Any, settings: Any) -> Any:
    settings.TALON = {**settings.TALON, "ADAPTER": f"{__name__}.ShippingAdapter"}
    shop.load_campaigns(_campaigns())
    return shop


def test_payload_sends_cart_and_item_costs_and_the_emulator_adds_them_up(
    shipping_shop: Any,
) -> None:
    cart = make_cart(items=[ESPRESSO, GRINDER])
    session = services.session_for_cart(cart, create=False)
    assert session is not None
    assert session.additional_costs == {"shipping": {"price": 4.9}}
    remote = shipping_shop.control.state()["sessions"][session.integration_id]
    assert remote["additionalCosts"] == {"shipping": {"price": 4.9}}
    grinder = next(i for i in remote["cartItems"] if i["sku"] == "GRINDER-X")
    assert grinder["additionalCosts"] == {"handling": {"price": 1.5}}
    answer = shipping_shop.client().get_customer_session(session.integration_id)
    rendered = answer.raw["customerSession"]
    assert rendered["additionalCostTotal"] == 4.9
    assert rendered["cartItemAdditionalCostTotal"] == 1.5
    assert rendered["total"] == 106.0 + 4.9 + 1.5


def test_free_shipping_comes_off_the_shipping_never_off_the_items(shipping_shop: Any) -> None:
    cart = make_cart(items=[ESPRESSO, GRINDER])  # 17.00 + 89.00 = 106.00 >= 50
    quote = quote_for_cart(cart)
    assert quote.confirmed
    assert quote.subtotal == Decimal("106.00")
    assert quote.discount_total == Decimal("2.00")  # coffee 1 off each: the items only
    (shipping,) = quote.additional_costs
    assert (shipping.name, shipping.price, shipping.discount) == ("shipping", SHIPPING, SHIPPING)
    assert shipping.discounts[0].campaign_id == 8
    grinder = next(line for line in quote.lines if line.sku == "GRINDER-X")
    assert grinder.total == Decimal("89.00")  # handling is not taken off the grinder
    (handling,) = grinder.additional_costs
    assert (handling.price, handling.discount, handling.total) == (
        Decimal("1.50"),
        Decimal("0.75"),
        Decimal("0.75"),
    )
    assert quote.additional_cost_total == Decimal("0.75")
    assert quote.total == Decimal("104.00") + Decimal("0.75")
    assert quote.discounts_by_campaign() == {
        4: Decimal("2.00"),
        8: SHIPPING,
        90: Decimal("0.75"),
    }
    data = PromotionsSerializer(quote.summary).data
    assert data["additional_cost_total"] == "0.75"
    (api_shipping,) = data["additional_costs"]
    assert (api_shipping["name"], api_shipping["price"], api_shipping["total"]) == (
        "shipping",
        "4.90",
        "0.00",
    )
    assert [d["campaign_id"] for d in data["additional_cost_discounts"]] == [8, 90]
    html = str(talon_cart_summary({}, quote))
    assert 'Shipping</span> <span class="talon-discount-amount">-4.90 EUR' in html
    assert 'class="talon-total">104.75 EUR' in html


def test_below_the_threshold_shipping_is_charged(shipping_shop: Any) -> None:
    cart = make_cart(items=[ESPRESSO])  # 17.00 < 50
    quote = quote_for_cart(cart)
    assert quote.confirmed and quote.additional_costs[0].discounts == ()
    assert quote.total == Decimal("15.00") + SHIPPING
    summary = quote.summary
    assert summary is not None and summary.total == quote.total
    html = str(talon_cart_summary({}, quote))
    assert 'data-cost="shipping"' in html and "4.90 EUR" in html
    assert "talon-cost-discount" not in html


def test_a_dropped_cost_is_sent_at_zero_once(shipping_shop: Any) -> None:
    cart = make_cart(items=[ESPRESSO])
    for item in cart.items.all():
        item.delete()
    session = CustomerSession.objects.get(cart_key=f"shopapp.cart:{cart.pk}")
    assert session.additional_costs == {"shipping": {"price": 0.0}}
    remote = shipping_shop.control.state()["sessions"][session.integration_id]
    assert remote["additionalCosts"] == {"shipping": {"price": 0.0}}


def test_checkout_close_cancel_books_what_was_charged(shipping_shop: Any) -> None:
    cart = make_cart(items=[ESPRESSO, GRINDER])
    order = Order.objects.create(cart=cart, status="paid")
    session = services.session_for_order(order)
    assert session is not None and session.state == "closed"
    charged = LedgerEntry.objects.get(session_id=session.integration_id, kind="charged")
    booked = LedgerEntry.objects.get(session_id=session.integration_id, kind="booked")
    assert charged.total == Decimal("104.75")
    assert charged.quote["additional_costs"][0]["discounts"][0]["campaign_id"] == 8
    assert charged.discounts_by_campaign == {"4": "2.00", "8": "4.90", "90": "0.75"}
    assert booked.discounts_by_campaign == charged.discounts_by_campaign
    assert booked.total == charged.total
    assert not Discrepancy.objects.exists()

    order.status = "cancelled"
    order.save()
    cancelled = LedgerEntry.objects.get(session_id=session.integration_id, kind="cancelled")
    rolled = {
        e["props"].get("additionalCost")
        for e in cancelled.effects
        if e["effectType"] == "rollbackDiscount"
    }
    assert {"shipping", "handling"} <= rolled
    assert cancelled.discounts_by_campaign == charged.discounts_by_campaign
    assert not Discrepancy.objects.exists()


def test_a_return_keeps_the_shipping_discount_booked(shipping_shop: Any) -> None:
    cart = make_cart(items=[ESPRESSO, GRINDER])
    order = Order.objects.create(cart=cart, status="paid")
    session = services.session_for_order(order)
    assert session is not None
    services.return_items(session, [{"position": 0, "quantity": 1}])
    returned = LedgerEntry.objects.get(session_id=session.integration_id, kind="returned")
    assert "8" not in returned.discounts_by_campaign  # only the returned unit's share
    assert returned.discount_total > 0
