"""The emulator's balances after a cancel takes back earned points that were already spent.

The spec's ``LedgerInfo.negativeBalance`` (and ``LoyaltyBalance.negativePoints``): "Sum of
negative points. This implies that currentBalance is 0". A rollback of earned points takes
them from what is left of them, then from the customer's other active points; only what no
active point covers is a negative balance, and later points pay it off first. Before, the
spent part always became a negative balance next to the other active points (17 current and
5 negative where 12 were spendable). Over HTTP; every answer is checked against the spec
(conftest).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from django_talon.client import TalonClient
from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import props_of

#: sku "A" earns a point per unit of money (sku "B" earns nothing); "pts" spends points
CAMPAIGNS: dict[str, Any] = {
    "loyaltyPrograms": [{"id": 1, "name": "club", "title": "Club"}],
    "campaigns": [
        {
            "id": 1,
            "name": "Earn",
            "conditions": [{"type": "containsSku", "sku": "A"}],
            "effects": [{"type": "addLoyaltyPoints", "programId": 1, "pointsPerAmount": 1}],
        },
        {
            "id": 2,
            "name": "Pay",
            "effects": [
                {
                    "type": "deductLoyaltyPoints",
                    "programId": 1,
                    "pointsAttribute": "pts",
                    "discountPerPoint": 0.01,
                }
            ],
        },
    ],
}


@pytest.fixture
def club(emulator: EmulatorHandle, client: TalonClient) -> TalonClient:
    emulator.load_campaigns(CAMPAIGNS)
    return client


def _cart(sku: str, price: int) -> list[dict[str, Any]]:
    return [{"sku": sku, "price": Decimal(price), "quantity": 1}]


def _close(client: TalonClient, session: str, sku: str, price: int, pts: int = 0) -> None:
    attrs = {"pts": pts} if pts else {}
    client.update_customer_session_v2(
        session, {"profileId": "p1", "cartItems": _cart(sku, price), "attributes": attrs}
    )
    client.update_customer_session_v2(session, {"state": "closed"})


def _ledger(client: TalonClient) -> tuple[Any, Any]:
    """(currentBalance, negativeBalance) of the inventory, checked against the balances."""
    info = client.get_customer_inventory("p1", loyalty=True).loyalty["programs"]["1"]["ledger"]
    balance = client.get_loyalty_balances(1, "p1").balance
    assert (balance.active_points, balance.negative_points) == (
        info["currentBalance"],
        info["negativeBalance"],
    )
    return info["currentBalance"], info["negativeBalance"]


def _dry_spend(client: TalonClient, pts: int) -> list[Any]:
    quote = client.update_customer_session_v2(
        "dry",
        {"profileId": "p1", "cartItems": _cart("B", 17), "attributes": {"pts": pts}},
        dry=True,
    )
    return [p["value"] for p in props_of(quote, "deductLoyaltyPoints")]


def test_a_rollback_takes_spent_points_from_the_other_active_points(club: TalonClient) -> None:
    _close(club, "s1", "A", 17)  # +17 -> 17
    _close(club, "s2", "A", 17, pts=5)  # +17 -5 -> 29
    cancelled = club.update_customer_session_v2(
        "s1", {"state": "cancelled"}, response_content=["loyalty"]
    )  # -17 -> 12
    session_ledger = cancelled.raw["loyalty"]["programs"]["1"]["ledger"]
    assert (session_ledger["currentBalance"], session_ledger["negativeBalance"]) == (12, 0)
    assert _ledger(club) == (12, 0)
    assert _dry_spend(club, 17) == [12]
    (rollback, *_) = club.get_loyalty_program_profile_transactions(1, "p1").data
    assert rollback.type == "subtraction" and rollback.amount == 17
    assert not rollback.creates_negative_balance
    club.update_customer_session_v2("s2", {"state": "cancelled"})  # its +17 and -5 undone
    assert _ledger(club) == (0, 0)


def test_a_rollback_nothing_else_covers_leaves_a_negative_balance(club: TalonClient) -> None:
    _close(club, "s1", "A", 17)  # +17
    _close(club, "s2", "B", 17, pts=17)  # -17, earns nothing
    club.update_customer_session_v2("s1", {"state": "cancelled"})
    assert _ledger(club) == (0, 17)
    assert _dry_spend(club, 5) == []
    (rollback, *_) = club.get_loyalty_program_profile_transactions(1, "p1").data
    assert rollback.creates_negative_balance
    club.update_customer_session_v2("s2", {"state": "cancelled"})  # the 17 spent come back
    assert _ledger(club) == (0, 0)


def test_later_earnings_pay_off_the_negative_balance_first(club: TalonClient) -> None:
    _close(club, "s1", "A", 17)
    _close(club, "s2", "B", 17, pts=17)
    club.update_customer_session_v2("s1", {"state": "cancelled"})  # negative 17
    _close(club, "s3", "A", 10)  # pays off 10 of it
    assert _ledger(club) == (0, 7)
    quote = club.update_customer_session_v2(
        "s4", {"profileId": "p1", "cartItems": _cart("A", 17)}, response_content=["loyalty"]
    )
    tentative = quote.raw["loyalty"]["programs"]["1"]["ledger"]
    assert (tentative["currentBalance"], tentative["tentativeCurrentBalance"]) == (0, 10)
    club.update_customer_session_v2("s4", {"state": "closed"})
    assert _ledger(club) == (10, 0)
    assert _dry_spend(club, 17) == [10]
