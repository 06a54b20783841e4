"""A discount below zero is unusable: neither shown nor charged (a surcharge Talon.One never
meant), and no quote's discount or total goes below zero.

The emulator never answers a negative discount, so the quote is built from effect dicts,
and the shop flow gets its answer from a small local server (as in test_broken_answers).
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import pytest

from django_talon import services
from django_talon.models import LedgerEntry
from django_talon.promotions.building import summarize
from django_talon.promotions.money import UnusableAmountError, discount_amount
from django_talon.promotions.quote import QuoteStatus
from django_talon.promotions.quoting import build_quote
from django_talon.promotions.summary import Discount
from tests.client.support import serve_http
from tests.core.conftest import ESPRESSO, make_cart
from tests.core.test_broken_answers import serving
from tests.shopapp.models import Order

CART = [
    {"sku": "ESPRESSO-250", "name": "Espresso", "quantity": 2, "price": 8.5, "position": 0},
    {"sku": "GRINDER-X", "name": "Grinder", "quantity": 1, "price": 89.0, "position": 1},
]
COSTS = {"shipping": {"price": 4.9}}


def effect(effect_type: str, campaign_id: int, **props: Any) -> dict[str, Any]:
    return {
        "effectType": effect_type,
        "campaignId": campaign_id,
        "rulesetId": 1,
        "ruleIndex": 0,
        "ruleName": props.get("name", effect_type),
        "props": props,
    }


GOOD = effect("setDiscount", 1, name="Welcome 10%", value=10.6)


def negative(value: float) -> list[dict[str, Any]]:
    """Every discount effect type with ``value`` (as the fault-injection proxy sent them)."""
    return [
        effect("setDiscount", 9, name="Minus", value=value),
        effect("setDiscountPerItem", 9, name="Minus#0", value=value, position=0),
        effect(
            "setDiscountPerAdditionalCost", 9, name="Minus", value=value, additionalCost="shipping"
        ),
        effect(
            "setDiscountPerAdditionalCostPerItem",
            9,
            name="Minus#1",
            value=value,
            position=1,
            additionalCost="handling",
        ),
    ]


@pytest.mark.parametrize("value", [-50, -0.01, "-250.00"], ids=repr)
def test_negative_discounts_are_unusable_and_the_quote_charges_the_cart(
    value: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="django_talon.promotions"):
        summary = summarize(
            [GOOD, *negative(value)], CART, "EUR", coupon_codes=[], additional_costs=COSTS
        )
    assert len(summary.unusable_effects) == 4
    assert "Unusable setDiscount effect" in caplog.text
    assert summary.discounts == [summary.cart_discounts[0]]  # only the good one is shown
    quote = build_quote(summary, session_id="s", fingerprint="f", status=QuoteStatus.CONFIRMED)
    assert quote.subtotal == Decimal("106.00")
    assert quote.discount_total == Decimal("10.60")
    assert quote.additional_cost_discount_total == Decimal("0.00")
    assert quote.total == Decimal("106.00") - Decimal("10.60") + Decimal("4.90")
    assert [amount for _d, amount in quote.charged_discounts()] == [Decimal("10.60")]
    assert quote.to_dict()["unusable_effects"] == 4


def test_only_negative_discounts_leave_the_full_price() -> None:
    summary = summarize(negative(-50), CART, "EUR", additional_costs=COSTS)
    quote = build_quote(summary, session_id="s", fingerprint="f", status=QuoteStatus.CONFIRMED)
    assert (quote.discount_total, quote.total) == (Decimal("0.00"), Decimal("110.90"))
    assert all(line.discount == 0 for line in quote.lines)
    assert summary.total_discount == Decimal("0.00") and summary.total == Decimal("110.90")


def test_a_discount_rounding_to_zero_from_below_is_zero_not_minus_zero() -> None:
    assert str(discount_amount("-0.001", "EUR")) == "0.00"
    assert discount_amount(3.335, "EUR") == Decimal("3.34")
    with pytest.raises(UnusableAmountError, match="negative"):
        discount_amount(-0.005, "EUR")  # rounds to -0.01: a surcharge


def test_a_discount_object_cannot_be_negative() -> None:
    """However a Discount is made, it cannot add to what the shop charges."""
    with pytest.raises(UnusableAmountError, match="negative"):
        Discount(name="x", amount=Decimal("-1.00"), effect_type="setDiscount")


# --------------------------------------------------------------------------- the shop flow


@pytest.mark.django_db(transaction=True)
def test_a_negative_discount_from_talon_one_is_not_charged(
    settings: Any, shop_settings: Any
) -> None:
    """The answer holds a good discount and two negative ones: the cart page, the quote and
    the order's charge carry only the good one (before the fix: 17.00 + 50 + 2 charged)."""
    good = effect("setDiscount", 1, name="Welcome 10%", value=1.7)
    bad = [
        effect("setDiscount", 9, name="Minus", value=-50),
        effect("setDiscountPerItem", 9, name="Minus#0", value=-1.0, position=0),
    ]
    body = json.dumps({"effects": [good, *bad]}).encode()
    with serve_http(serving(body)) as url:
        settings.TALON = {**settings.TALON, "BASE_URL": url, "API_KEY": "k"}
        cart = make_cart(items=[ESPRESSO])  # 2 x 8.50
        quote = services.quote_for_cart(cart)
        assert quote.confirmed
        assert len(quote.unusable_effects) == 2
        assert (quote.subtotal, quote.discount_total, quote.total) == (
            Decimal("17.00"),
            Decimal("1.70"),
            Decimal("15.30"),
        )
        summary = services.get_promotions(cart).summary()
        assert [d.name for d in summary.discounts] == ["Welcome 10%"]
        assert summary.total == Decimal("15.30")
        order = Order.objects.create(cart=cart, status="paid")
    session = services.session_for_order(order)
    assert session is not None
    charged = LedgerEntry.objects.get(session_id=session.integration_id, kind="charged")
    assert charged.total == Decimal("15.30") and charged.discount_total == Decimal("1.70")
