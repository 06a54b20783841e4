"""Returns take back the returned items' effects, and an order's returns add up to what was booked.

``POST /v2/customer_sessions/{id}/returns`` "will roll back any effects associated with these
cart items" (the spec). Per-item discounts of the returned units go back whole; a cart discount
and the points go back by the returned units' share of what is still in the cart (what is still
booked after earlier returns), and the return that empties the cart takes all that is left. Before,
every return after the first took its share of the whole cart from what was already reduced
(10.00 and 30.00 with 10% off and 40 points: returning 30.00 took back 3.00 and 30 points, then
returning 10.00 only 0.25 and 2, and 0.75 and 8 points stayed booked after everything came back).
The spec says nothing of a state after the last return: the session stays ``partially_returned``.
Over HTTP; every answer is checked against the spec (conftest).
"""

from __future__ import annotations

from decimal import Decimal
from itertools import permutations
from typing import Any

import pytest

from django_talon.client import TalonClient

Chunk = list[dict[str, int]]

#: position 0: 3 coffee units (1.00 off each); uneven prices so the shares do not divide evenly
CART: list[dict[str, Any]] = [
    {"sku": "ESPRESSO-250", "price": Decimal("8.5"), "quantity": 3, "category": "coffee"},
    {"sku": "GRINDER-S", "price": Decimal("13.33"), "quantity": 1, "category": "equipment"},
    {"sku": "MUG", "price": Decimal("7.77"), "quantity": 2, "category": "equipment"},
]
#: three returns that together return every unit, quantities > 1 returned in parts
CHUNKS: list[Chunk] = [
    [{"position": 0, "quantity": 2}],
    [{"position": 0, "quantity": 1}, {"position": 2, "quantity": 1}],
    [{"position": 1, "quantity": 1}, {"position": 2, "quantity": 1}],
]


def _effects(effects: list[dict[str, Any]], etype: str, name: str = "") -> list[dict[str, Any]]:
    return [
        e["props"]
        for e in effects
        if e["effectType"] == etype and (not name or e["props"]["name"] == name)
    ]


def _total(props: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(str(p["value"])) for p in props), Decimal(0))


def _balance(client: TalonClient, profile: str) -> Any:
    return client.get_loyalty_balances(1, profile).balance.active_points


def _value(chunk: Chunk) -> Decimal:
    return sum((CART[i["position"]]["price"] * i["quantity"] for i in chunk), Decimal(0))


@pytest.mark.parametrize("order", [(1, 0), (0, 1)])
def test_returning_each_item_takes_back_its_share_of_the_cart_discount_and_points(
    client: TalonClient, order: tuple[int, int]
) -> None:
    items = [
        {"sku": "A", "quantity": 1, "price": Decimal(10)},
        {"sku": "B", "quantity": 1, "price": Decimal(30)},
    ]
    client.update_customer_session_v2(
        "s1",
        {"profileId": "p1", "cartItems": items, "couponCodes": ["WELCOME10"], "state": "closed"},
    )
    assert _balance(client, "p1") == 40
    expected = {0: (Decimal("1"), Decimal(10)), 1: (Decimal("3"), Decimal(30))}
    for position in order:
        result = client.return_cart_items("s1", [{"position": position, "quantity": 1}])
        taken = (
            _total(_effects(result.raw["effects"], "rollbackDiscount")),
            _total(_effects(result.raw["effects"], "rollbackAddedLoyaltyPoints")),
        )
        assert taken == expected[position]
    session = client.get_customer_session("s1")
    assert session.raw["customerSession"]["state"] == "partially_returned"
    left = [e["effectType"] for e in session.raw["effects"]]
    assert "setDiscount" not in left and "addLoyaltyPoints" not in left
    assert _balance(client, "p1") == 0


@pytest.mark.parametrize("order", list(permutations(range(3))))
def test_three_partial_returns_in_any_order_add_up_to_what_was_booked(
    client: TalonClient, order: tuple[int, int, int]
) -> None:
    # 500 points to spend first; then an order with 10% off, 1.00 off per coffee unit,
    # points earned on it and 333 points spent on it
    client.update_customer_session_v2(
        "earn",
        {
            "profileId": "p1",
            "cartItems": [{"sku": "X", "price": Decimal(500), "quantity": 1}],
            "state": "closed",
        },
    )
    closed = client.update_customer_session_v2(
        "s1",
        {
            "profileId": "p1",
            "cartItems": CART,
            "couponCodes": ["WELCOME10"],
            "attributes": {"pointsToRedeem": 333},
            "state": "closed",
        },
    )
    booked = closed.raw["effects"]
    welcome = _total(_effects(booked, "setDiscount", "Welcome 10%"))
    earned = _total(_effects(booked, "addLoyaltyPoints"))
    spent = _total(_effects(booked, "deductLoyaltyPoints"))
    assert welcome > 0 and earned == 54 and spent == 333
    assert len(_effects(booked, "setDiscountPerItem")) == 3
    assert _balance(client, "p1") == 500 + 54 - 333
    cart_value = sum((i["price"] * i["quantity"] for i in CART), Decimal(0))
    discounts = _total(_effects(booked, "setDiscount"))  # the points paid for one, too
    taken = dict.fromkeys(("welcome", "earned", "spent", "discounts"), Decimal(0))
    units: list[int] = []
    for index in order:
        effects = client.return_cart_items("s1", CHUNKS[index]).raw["effects"]
        share = _value(CHUNKS[index]) / cart_value
        now = {
            "welcome": _total(_effects(effects, "rollbackDiscount", "Welcome 10%")),
            "earned": _total(_effects(effects, "rollbackAddedLoyaltyPoints")),
            "spent": _total(_effects(effects, "rollbackDeductedLoyaltyPoints")),
            "discounts": _total(
                [p for p in _effects(effects, "rollbackDiscount") if "cartItemPosition" not in p]
            ),
        }
        # each return takes about its share (to the cent, to the point), never the share
        # of a share
        assert abs(now["welcome"] - welcome * share) <= Decimal("0.01")
        assert abs(now["earned"] - earned * share) <= 1
        assert abs(now["spent"] - spent * share) <= Decimal("0.01")
        for key, value in now.items():
            taken[key] += value
        units += [
            p["cartItemSubPosition"]
            for p in _effects(effects, "rollbackDiscount")
            if p.get("cartItemPosition") == 0
        ]
    assert taken == {"welcome": welcome, "earned": earned, "spent": spent, "discounts": discounts}
    assert discounts > welcome
    assert sorted(units) == [0, 1, 2]  # every coffee unit's 1.00 back, once
    session = client.get_customer_session("s1")
    assert session.raw["customerSession"]["state"] == "partially_returned"
    assert all(i["remainingQuantity"] == 0 for i in session.raw["customerSession"]["cartItems"])
    left = {e["effectType"] for e in session.raw["effects"]}
    assert not left & {
        "setDiscount",
        "setDiscountPerItem",
        "addLoyaltyPoints",
        "deductLoyaltyPoints",
    }
    assert _balance(client, "p1") == 500  # only the first session's points are left


def test_a_cancel_after_partial_returns_takes_back_only_what_is_left(client: TalonClient) -> None:
    closed = client.update_customer_session_v2(
        "s1",
        {"profileId": "p1", "cartItems": CART, "couponCodes": ["WELCOME10"], "state": "closed"},
    )
    welcome = _total(_effects(closed.raw["effects"], "setDiscount", "Welcome 10%"))
    taken = Decimal(0)
    for chunk in CHUNKS[:2]:
        effects = client.return_cart_items("s1", chunk).raw["effects"]
        taken += _total(_effects(effects, "rollbackDiscount", "Welcome 10%"))
    cancelled = client.update_customer_session_v2("s1", {"state": "cancelled"})
    rest = _total(_effects(cancelled.raw["effects"], "rollbackDiscount", "Welcome 10%"))
    assert taken + rest == welcome
    # the grinder and one mug were never returned: their share was still booked
    assert rest >= welcome * _value(CHUNKS[2]) / sum(
        (i["price"] * i["quantity"] for i in CART), Decimal(0)
    ) - Decimal("0.01")
    assert _balance(client, "p1") == 0
