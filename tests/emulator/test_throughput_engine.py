"""The rule engine's fast paths (issue 13) give the answers the plain rules give.

The per-unit discount loop is written out for speed (no ``money``/``matches_item`` calls,
a unit's value reused while the cart amount left to discount covers it), and campaigns
without a code share one trigger object. These tests compute the expected effects with the
plain money rules in the test and compare them with what the emulator answers over HTTP,
including the cases where the cart amount runs out in the middle of an item.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from django_talon.emulator.util import money
from django_talon.testing.plugin import EmulatorHandle

CART: list[dict[str, Any]] = [
    {"sku": "BEANS", "name": "Beans", "price": 7.35, "quantity": 3, "category": "coffee"},
    {"sku": "MUG", "name": "Mug", "price": 12.0, "quantity": 1, "category": "equipment"},
    {"sku": "DRIP", "name": "Drip", "price": 0.35, "quantity": 4, "category": "coffee"},
    {"sku": "GIFT", "name": "Gift", "price": 3, "quantity": 2},
]


def _campaigns(per_item: dict[str, Any], cart_discount: float | None) -> dict[str, Any]:
    campaigns: list[dict[str, Any]] = []
    if cart_discount is not None:
        campaigns.append(
            {
                "id": 1,
                "name": "Most of the cart",
                "effects": [{"type": "setDiscount", "percent": cart_discount}],
            }
        )
    campaigns.append(
        {"id": 2, "name": "Per unit", "effects": [{"type": "setDiscountPerItem", **per_item}]}
    )
    campaigns.append(
        {
            "id": 3,
            "name": "Never",
            "conditions": [{"type": "subtotalAtLeast", "amount": 10_000}],
            "effects": [{"type": "setDiscount", "amount": 1}],
        }
    )
    return {"application": {"id": 1, "currency": "EUR"}, "campaigns": campaigns}


def _expected(
    per_item: dict[str, Any], cart_discount: float | None
) -> list[tuple[int, int, float]]:
    """(position, subPosition, value) of each per-unit effect, by the plain money rules."""
    remaining = money(sum(float(i["price"]) * int(i["quantity"]) for i in CART))
    if cart_discount is not None:
        remaining = money(remaining - money(remaining * cart_discount / 100))
    out = []
    for position, item in enumerate(CART):
        if any(k in per_item and item.get(k) != per_item[k] for k in ("sku", "category")):
            continue
        price = float(item["price"])
        if "percent" in per_item:
            per_unit = money(price * per_item["percent"] / 100)
        else:
            per_unit = money(min(float(per_item["amount"]), price))
        for sub in range(int(item["quantity"])):
            value = money(min(per_unit, remaining))
            if value <= 0:
                break
            remaining = money(remaining - value)
            out.append((position, sub, value))
    return out


@pytest.mark.parametrize(
    ("per_item", "cart_discount"),
    [
        ({"category": "coffee", "amount": 1}, None),
        ({"category": "coffee", "percent": 15}, None),
        ({"sku": "BEANS", "percent": 33.3}, None),
        ({"amount": 0.5}, None),  # every item (one without a category)
        ({"amount": 2.5}, 93),  # the cart amount left runs out mid-item
        ({"category": "coffee", "percent": 50}, 99.5),
        ({"amount": 5}, 100),  # nothing left: no per-unit effect at all
    ],
)
def test_per_unit_discounts_follow_the_money_rules(
    emulator: EmulatorHandle, per_item: dict[str, Any], cart_discount: float | None
) -> None:
    emulator.load_campaigns(_campaigns(per_item, cart_discount))
    answer = requests.put(
        f"{emulator.url}/v2/customer_sessions/engine-1",
        json={"customerSession": {"cartItems": CART}},
        headers={"Authorization": f"ApiKey-v1 {emulator.api_key}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    effects = answer.json()["effects"]
    per_unit = [
        (e["props"]["position"], e["props"]["subPosition"], e["props"]["value"])
        for e in effects
        if e["effectType"] == "setDiscountPerItem"
    ]
    assert per_unit == _expected(per_item, cart_discount)
    assert [e["campaignId"] for e in effects if e["effectType"] == "setDiscount"] == (
        [1] if cart_discount is not None and cart_discount > 0 else []
    )
    for effect in effects:  # names and the head are unchanged
        assert effect["rulesetId"] == effect["campaignId"] * 100 + 1
        if effect["effectType"] == "setDiscountPerItem":
            assert effect["props"]["name"] == f"Per unit#{effect['props']['position']}"


PREPARED_SPECS: list[dict[str, Any]] = [
    {"type": "setDiscount", "percent": 10},
    {"type": "setDiscount", "percent": 12.5, "name": "Named"},
    {"type": "setDiscount", "amount": 5},
    {"type": "setDiscount", "amount": 0.004},  # rounds to nothing: no effect
    {"type": "setDiscount", "amount": 1000},  # more than the cart: what is left
    {"type": "addFreeItem", "sku": "TOTE"},
    {"type": "addFreeItem", "sku": "TOTE", "name": "Tote", "quantity": 2},
    {"type": "showNotification", "body": "Hi"},
    {"type": "showNotification", "body": {"rich": [1]}, "title": "T", "notificationType": "Warn"},
    {"type": "setDiscountPerItem", "category": "coffee", "amount": 1},
]


@pytest.mark.parametrize("remaining", [120.0, 3.33, 0.0])
@pytest.mark.parametrize("spec", PREPARED_SPECS, ids=range(len(PREPARED_SPECS)))
def test_prepared_effects_give_what_the_makers_give(spec: dict[str, Any], remaining: float) -> None:
    """Each prepared effect (worked out once per campaign) against its plain maker."""
    from datetime import datetime, timezone

    from django_talon.emulator.engine import EvalContext
    from django_talon.emulator.engine.effects import EFFECT_MAKERS, prepare_effects
    from django_talon.emulator.models import Campaign

    campaign = Campaign(id=7, name="Seven", rule_name="Rule 7", effects=[spec])

    def context() -> EvalContext:  # a fresh one per run: item discounts use up its units
        return EvalContext(
            now=datetime(2026, 1, 1, tzinfo=timezone.utc),
            event_type="talon_session_updated",
            profile=None,
            profile_id="",
            cart_items=[dict(item) for item in CART],
            session_attributes={},
            first_session=True,
            coupon_codes=[],
            referral_code="",
        )

    (prepared,) = prepare_effects(campaign)
    lookups: Any = None
    plain = EFFECT_MAKERS[spec["type"]](campaign, spec, context(), lookups, remaining)
    for _ in range(2):  # a prepared effect hands out fresh objects every time
        got = prepared(context(), lookups, remaining)
        assert repr(got) == repr(plain)
        for effect in got[0]:
            effect["props"]["changed"] = True
            effect["triggeredByCoupon"] = 1


def test_round_cents_is_round_to_two_places() -> None:
    """The fast cents rounding gives ``round(x, 2)``'s float (sign of zero included)."""
    import math
    import random
    import struct

    from django_talon.emulator.util import round_cents

    rng = random.Random(13)
    values = [
        0.0, -0.0, 0.005, -0.005, 0.015, 2.675, 1.005, 0.125, -0.125, 0.001, -0.001,
        999999999.995, -999999999.995, 1e9, -1e9, 5e-324, -5e-324, 0.49999999999999994,
        7.35 * 3 - 1, 1e300, -1e300, math.inf, -math.inf,
    ]  # fmt: skip
    for n in range(200_000):
        kind = n % 5
        if kind == 0:
            values.append(rng.uniform(-1000, 1000))
        elif kind == 1:  # near half cents and whole cents
            base = round(rng.uniform(-1e4, 1e4), rng.randint(0, 3))
            values.append(base + rng.choice([0.0, 0.005, -0.005, 1e-12, -1e-12]))
        elif kind == 2:
            values.append(rng.randint(-(10**7), 10**7) / 1000)
        elif kind == 3:
            values.append(rng.uniform(-1e9, 1e9))
        else:  # any double at all
            bits = struct.unpack("d", rng.getrandbits(64).to_bytes(8, "little"))[0]
            values.append(bits if math.isfinite(bits) else 1.5)
    wrong = [v for v in values if repr(round_cents(v)) != repr(round(v, 2))]
    assert wrong == []
    assert math.isnan(round_cents(math.nan))


def test_a_campaign_whose_effects_are_replaced_answers_the_new_ones(
    emulator: EmulatorHandle,
) -> None:
    """The prepared effects are rebuilt when a live campaign's ``effects`` list is replaced
    (as the Django side's tests do to play "marketing edits the campaign")."""
    emulator.load_campaigns(_campaigns({"amount": 0.5}, 10))

    def cart_discount() -> float:
        answer = requests.put(
            f"{emulator.url}/v2/customer_sessions/engine-edit",
            json={"customerSession": {"cartItems": CART}},
            headers={"Authorization": f"ApiKey-v1 {emulator.api_key}"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        (value,) = [e["props"]["value"] for e in answer.json()["effects"] if e["campaignId"] == 1]
        return float(value)

    before = cart_discount()
    live = emulator.server.app.store.campaign_by_id[1]
    live.effects = [{**live.effects[0], "percent": 5}]
    assert cart_discount() == pytest.approx(before / 2, abs=0.01)


def test_item_discounts_of_several_campaigns_stop_at_the_units_price(
    emulator: EmulatorHandle,
) -> None:
    """As Talon.One: a unit is discounted at most down to zero across campaigns. A discount
    cut to what is left of the unit says what the rule wanted (``desiredValue``); a unit with
    nothing left gets no effect, and the next unit of the line still can."""
    emulator.load_campaigns(
        {
            "application": {"id": 1, "currency": "EUR"},
            "campaigns": [
                {
                    "id": 1,
                    "name": "Most of A",
                    "effects": [{"type": "setDiscountPerItem", "sku": "A", "percent": 60}],
                },
                {
                    "id": 2,
                    "name": "Five off",
                    "effects": [{"type": "setDiscountPerItem", "amount": 5}],
                },
                {
                    "id": 3,
                    "name": "All of B",
                    "effects": [{"type": "setDiscountPerItem", "sku": "B", "percent": 100}],
                },
            ],
        }
    )
    cart = [
        {"sku": "A", "name": "A", "price": 10.0, "quantity": 2},
        {"sku": "B", "name": "B", "price": 4.0, "quantity": 1},
    ]
    answer = requests.put(
        f"{emulator.url}/v2/customer_sessions/engine-stack",
        json={"customerSession": {"cartItems": cart}},
        headers={"Authorization": f"ApiKey-v1 {emulator.api_key}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    per_unit = [
        (
            e["campaignId"],
            e["props"]["position"],
            e["props"]["subPosition"],
            e["props"]["value"],
            e["props"].get("desiredValue"),
        )
        for e in answer.json()["effects"]
        if e["effectType"] == "setDiscountPerItem"
    ]
    assert per_unit == [
        (1, 0, 0, 6.0, None),
        (1, 0, 1, 6.0, None),
        (2, 0, 0, 4.0, 5.0),  # 4.00 was left of the unit
        (2, 0, 1, 4.0, 5.0),
        (2, 1, 0, 4.0, None),  # a fixed amount is cut to the price as before: B costs 4.00
        # campaign 3: nothing is left of B's unit, so no effect
    ]
    total_off: dict[tuple[int, int], float] = {}
    for _campaign, position, sub, value, _desired in per_unit:
        total_off[(position, sub)] = total_off.get((position, sub), 0.0) + value
    assert total_off == {(0, 0): 10.0, (0, 1): 10.0, (1, 0): 4.0}
