"""The emulator's loyalty ledger over HTTP, through the client: points earned when a session
closes, pending until their start date or their activation, expiring, spent at checkout
(``deductLoyaltyPoints`` with a discount per point), and given back when the session is
cancelled or items are returned. Every answer is checked against the spec (conftest).

Expiry and pending periods are read with the balances' ``endDate`` ("balances as they will
be at that moment", which the spec allows in the future) instead of waiting.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from django_talon.client import TalonClient, TalonValidationError
from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import COFFEE, FILTER, props_of, types

LOYALTY_FILE: dict[str, Any] = {
    "loyaltyPrograms": [
        {"id": 1, "name": "coffee_club", "title": "Coffee Club", "expiryDuration": "30D"},
        {"id": 2, "name": "later", "title": "Later", "pendingDuration": "7D"},
        {
            "id": 3,
            "name": "on_delivery",
            "title": "On delivery",
            "awaitsActivation": True,
            "expiryDuration": "10D",
        },
    ],
    "campaigns": [
        {
            "id": 1,
            "name": "Earn",
            "effects": [{"type": "addLoyaltyPoints", "programId": 1, "pointsPerAmount": 1}],
        },
        {
            "id": 2,
            "name": "Earn later",
            "effects": [{"type": "addLoyaltyPoints", "programId": 2, "points": 10}],
        },
        {
            "id": 3,
            "name": "Earn on delivery",
            "effects": [{"type": "addLoyaltyPoints", "programId": 3, "points": 5}],
        },
        {
            "id": 4,
            "name": "Pay with points",
            "effects": [
                {
                    "type": "deductLoyaltyPoints",
                    "programId": 1,
                    "pointsAttribute": "pointsToSpend",
                    "discountPerPoint": 0.1,
                    "name": "Paid with points",
                }
            ],
        },
    ],
}
NOW = dt.datetime.now(dt.timezone.utc)


@pytest.fixture
def loyalty(emulator: EmulatorHandle, client: TalonClient) -> TalonClient:
    emulator.load_campaigns(LOYALTY_FILE)
    return client


def _buy(client: TalonClient, session: str, items: list[dict[str, Any]], **attrs: Any) -> Any:
    client.update_customer_session_v2(
        session, {"profileId": "ada", "cartItems": items, "attributes": attrs}
    )
    return client.update_customer_session_v2(session, {"state": "closed"})


def _active(client: TalonClient, program: int, at: dt.datetime | None = None) -> Decimal:
    return client.get_loyalty_balances(program, "ada", end_date=at).balance.active_points


def test_points_are_earned_when_the_session_closes(loyalty: TalonClient) -> None:
    loyalty.update_customer_session_v2("s1", {"profileId": "ada", "cartItems": [COFFEE]})
    assert _active(loyalty, 1) == 0  # an open session books nothing
    _buy(loyalty, "s1", [COFFEE])
    assert _active(loyalty, 1) == Decimal(17)
    (entry,) = loyalty.get_loyalty_program_profile_transactions(1, "ada").data
    assert (entry.type, entry.amount, entry.customer_session_id) == ("addition", Decimal(17), "s1")
    (points,) = loyalty.get_loyalty_program_profile_points(1, "ada").data
    assert points.start_date == "immediate" and points.expiry_date not in (None, "unlimited")


def test_points_expire_after_the_programs_expiry_duration(loyalty: TalonClient) -> None:
    _buy(loyalty, "s1", [COFFEE])
    later = loyalty.get_loyalty_balances(1, "ada", end_date=NOW + dt.timedelta(days=31))
    assert later.balance.active_points == 0 and later.balance.expired_points == 17
    assert _active(loyalty, 1, NOW + dt.timedelta(days=29)) == 17
    assert loyalty.get_loyalty_program_profile_points(1, "ada", status="expired").data == []


def test_pending_points_become_active_after_the_pending_duration(loyalty: TalonClient) -> None:
    _buy(loyalty, "s1", [COFFEE])
    now = loyalty.get_loyalty_balances(2, "ada").balance
    assert (now.active_points, now.pending_points) == (Decimal(0), Decimal(10))
    assert _active(loyalty, 2, NOW + dt.timedelta(days=8)) == 10
    (pending,) = loyalty.get_loyalty_program_profile_points(2, "ada", status="pending").data
    assert pending.start_date not in ("immediate", "on_action")


def test_points_awaiting_activation_become_active_on_activation(loyalty: TalonClient) -> None:
    closed = _buy(loyalty, "s1", [COFFEE])
    (earned,) = [p for p in props_of(closed, "addLoyaltyPoints") if p["programId"] == 3]
    assert earned["awaitsActivation"] is True
    assert _active(loyalty, 3, NOW + dt.timedelta(days=365)) == 0  # waits for the action
    activated = loyalty.activate_loyalty_points(3, transaction_uuids=[earned["transactionUUID"]])
    (entry,) = activated.ledger_entries
    assert (entry.amount, entry.customer_profile_id, entry.type) == (Decimal(5), "ada", "addition")
    assert _active(loyalty, 3) == 5
    assert _active(loyalty, 3, NOW + dt.timedelta(days=11)) == 0  # validity from activation
    again = loyalty.activate_loyalty_points(3, session_id="s1")
    assert again.ledger_entries == []  # already active: nothing to do, nothing changes


def test_spending_points_discounts_the_cart_and_books_at_close(loyalty: TalonClient) -> None:
    _buy(loyalty, "s1", [COFFEE, FILTER])  # 41 points
    quote = loyalty.update_customer_session_v2(
        "s2",
        {"profileId": "ada", "cartItems": [COFFEE], "attributes": {"pointsToSpend": 30}},
        response_content=["loyalty"],
    )
    assert props_of(quote, "deductLoyaltyPoints")[0]["value"] == 30
    assert {"name": "Paid with points", "value": 3.0} in props_of(quote, "setDiscount")
    assert quote.raw["loyalty"]["programs"]["1"]["ledger"]["tentativeCurrentBalance"] == 28
    assert _active(loyalty, 1) == 41  # not spent before the close
    loyalty.update_customer_session_v2("s2", {"state": "closed"})
    balance = loyalty.get_loyalty_balances(1, "ada").balance
    assert (balance.active_points, balance.spent_points) == (
        Decimal(28),
        Decimal(30),
    )  # 41 + 17 - 30
    kinds = [t.type for t in loyalty.get_loyalty_program_profile_transactions(1, "ada").data]
    assert kinds == ["subtraction", "addition", "addition"]  # newest first


def test_spending_is_capped_by_the_balance_and_the_cart(loyalty: TalonClient) -> None:
    _buy(loyalty, "s1", [COFFEE])  # 17 points
    quote = loyalty.update_customer_session_v2(
        "s2", {"profileId": "ada", "cartItems": [COFFEE], "attributes": {"pointsToSpend": 500}}
    )
    assert props_of(quote, "deductLoyaltyPoints")[0]["value"] == 17
    broke = loyalty.update_customer_session_v2(
        "s3", {"profileId": "bob", "cartItems": [COFFEE], "attributes": {"pointsToSpend": 5}}
    )
    assert "deductLoyaltyPoints" not in types(broke)


def test_cancel_gives_spent_points_back_and_takes_earned_ones(loyalty: TalonClient) -> None:
    _buy(loyalty, "s1", [COFFEE, FILTER])  # 41
    _buy(loyalty, "s2", [COFFEE], pointsToSpend=20)  # +17 -20
    assert _active(loyalty, 1) == 38
    cancelled = loyalty.update_customer_session_v2("s2", {"state": "cancelled"})
    assert "rollbackDeductedLoyaltyPoints" in types(cancelled)
    assert "rollbackAddedLoyaltyPoints" in types(cancelled)
    balance = loyalty.get_loyalty_balances(1, "ada").balance
    assert (balance.active_points, balance.spent_points) == (Decimal(41), Decimal(0))
    # the session's remaining effects no longer carry the rolled-back loyalty effects
    left = types(loyalty.get_customer_session("s2").raw["effects"])
    assert "deductLoyaltyPoints" not in left and "addLoyaltyPoints" not in left


def test_a_return_rolls_back_its_share_of_earned_and_spent_points(loyalty: TalonClient) -> None:
    _buy(loyalty, "s1", [FILTER])  # 24 points
    _buy(loyalty, "s2", [COFFEE, FILTER], pointsToSpend=10)  # 41 items: +41, -10
    assert _active(loyalty, 1) == 55
    returned = loyalty.return_cart_items("s2", [{"position": 1, "quantity": 1}])  # 24 of 41
    (taken,) = [p for p in props_of(returned, "rollbackAddedLoyaltyPoints") if p["programId"] == 1]
    (given,) = props_of(returned, "rollbackDeductedLoyaltyPoints")
    # the returned filter is 24 of the 41.00: int(41 * 24/41) points and 10 * 24/41 spent
    assert taken["value"] == 24.0 and given["value"] == 5.85
    balance = loyalty.get_loyalty_balances(1, "ada").balance
    assert balance.active_points == Decimal("36.85")  # 55 - 24 + 5.85
    assert balance.spent_points == Decimal("4.15")


def test_rolling_back_spent_earned_points_takes_them_from_other_active_points(
    loyalty: TalonClient,
) -> None:
    _buy(loyalty, "s1", [COFFEE])  # 17
    _buy(loyalty, "s2", [FILTER], pointsToSpend=17)  # +24 -17 (the soonest expiring first)
    loyalty.update_customer_session_v2("s1", {"state": "cancelled"})  # the 17 were spent
    balance = loyalty.get_loyalty_balances(1, "ada").balance
    assert balance.active_points == 7 and balance.negative_points == 0  # taken from the 24
    (rollback, *_) = loyalty.get_loyalty_program_profile_transactions(1, "ada").data
    assert rollback.type == "subtraction" and not rollback.creates_negative_balance
    # (tests/emulator/test_loyalty_rollback_balance.py: the negative balance nothing covers)


def test_delete_transactions_empties_the_ledger(loyalty: TalonClient) -> None:
    _buy(loyalty, "s1", [COFFEE])
    loyalty.delete_loyalty_transactions_from_ledgers(1, "ada")
    assert _active(loyalty, 1) == 0
    assert loyalty.get_loyalty_program_profile_transactions(1, "ada").data == []


def test_join_sets_the_join_date_and_paging_has_more(loyalty: TalonClient) -> None:
    loyalty.update_customer_profile_v2("ada")
    loyalty.join_loyalty_program(1, "ada")
    loyalty.join_loyalty_program(1, "ada")  # twice: still a member, no error
    inventory = loyalty.get_customer_inventory("ada", loyalty=True)
    assert inventory.raw["loyalty"]["programs"]["1"]["joinDate"]
    for session in ("s1", "s2", "s3"):
        _buy(loyalty, session, [COFFEE])
    first = loyalty.get_loyalty_program_profile_transactions(1, "ada", page_size=2)
    rest = loyalty.get_loyalty_program_profile_transactions(1, "ada", page_size=2, skip=2)
    assert first.has_more and not rest.has_more and len(rest.data) == 1


def test_loyalty_errors(loyalty: TalonClient, raw: Any) -> None:
    from django_talon.client import TalonBadRequestError, TalonNotFoundError

    with pytest.raises(TalonNotFoundError):
        loyalty.get_loyalty_balances(99, "ada")
    with pytest.raises(TalonNotFoundError):
        loyalty.get_loyalty_balances(1, "nobody")
    loyalty.update_customer_profile_v2("ada")
    with pytest.raises(TalonBadRequestError):
        loyalty.get_loyalty_card_balances(1, "CARD-0001")  # not a card-based program
    with pytest.raises(TalonValidationError):
        loyalty.get_loyalty_balances(-1, "ada")
    answer = raw("GET", "/v1/loyalty_programs/x/profile/ada/balances")
    assert answer.status_code == 400
    answer = raw("POST", "/v1/loyalty_programs/1/activate_points", json={})
    assert answer.status_code == 400
    answer = raw(
        "POST", "/v1/loyalty_programs/1/profile/ada/delete_transactions", json={"scope": "x"}
    )
    assert answer.status_code == 400
