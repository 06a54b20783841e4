"""A second witness for the emulator's loyalty and achievement answers: Talon.One's official
Python SDK (``talon-one-sdk``, generated from the same OpenAPI document by another
generator, with pydantic models) must read each one, and read the same values our client
does. The per-test spec validation (conftest) is the first witness.
"""

from __future__ import annotations

from typing import Any

import pytest
from talon_one import models

from django_talon.client import TalonClient
from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import COFFEE, props_of

#: the SDK's models module re-exports its classes implicitly (mypy strict would refuse them)
sdk: Any = models

FILE: dict[str, Any] = {
    "loyaltyPrograms": [
        {"id": 1, "name": "club", "title": "Club", "expiryDuration": "30D"},
        {"id": 2, "name": "later", "title": "Later", "awaitsActivation": True},
        {"id": 3, "name": "cards", "title": "Cards", "cardBased": True, "cards": ["CARD-0001"]},
    ],
    "achievements": [
        {
            "id": 1,
            "name": "Regular",
            "title": "Regular",
            "description": "2",
            "campaignId": 1,
            "target": 2,
        }
    ],
    "campaigns": [
        {
            "id": 1,
            "name": "Earn",
            "effects": [
                {"type": "addLoyaltyPoints", "programId": 1, "pointsPerAmount": 1},
                {"type": "addLoyaltyPoints", "programId": 2, "points": 3},
                {"type": "addLoyaltyPoints", "programId": 3, "points": 4},
                {"type": "increaseAchievementProgress", "achievementId": 1},
            ],
        }
    ],
}


@pytest.fixture
def closed(emulator: EmulatorHandle, client: TalonClient) -> Any:
    emulator.load_campaigns(FILE)
    client.update_customer_session_v2(
        "s1", {"profileId": "ada", "cartItems": [COFFEE], "loyaltyCards": ["CARD-0001"]}
    )
    return client.update_customer_session_v2("s1", {"state": "closed"})


def test_the_sdk_reads_the_ledger_answers(client: TalonClient, closed: Any) -> None:
    ours = client.get_loyalty_balances(1, "ada")
    theirs = sdk.LoyaltyBalancesWithTiers.from_dict(ours.raw)
    assert theirs is not None and theirs.balance is not None
    assert theirs.balance.active_points == float(ours.balance.active_points) == 17

    points = client.get_loyalty_program_profile_points(1, "ada")
    page = sdk.GetLoyaltyProgramProfilePoints200Response.from_dict(points.raw)
    assert page is not None and [p.amount for p in page.data or []] == [17]

    history = client.get_loyalty_program_profile_transactions(1, "ada")
    log = sdk.GetLoyaltyProgramProfileTransactions200Response.from_dict(history.raw)
    assert log is not None and [(t.type, t.amount) for t in log.data or []] == [("addition", 17)]


def test_the_sdk_reads_the_card_answers(client: TalonClient, closed: Any) -> None:
    card = client.link_loyalty_card_to_profile(3, "CARD-0001", "ada")
    theirs = sdk.LoyaltyCard.from_dict(card.raw)
    assert theirs is not None and theirs.identifier == card.identifier == "CARD-0001"
    assert theirs.ledger is not None and theirs.ledger.current_balance == 4

    balances = sdk.LoyaltyCardBalances.from_dict(
        client.get_loyalty_card_balances(3, "CARD-0001").raw
    )
    assert balances is not None and [p.integration_id for p in balances.profiles or []] == ["ada"]
    lines = client.get_loyalty_card_transactions(3, "CARD-0001")
    log = sdk.GetLoyaltyCardTransactions200Response.from_dict(lines.raw)
    assert log is not None and [t.card_identifier for t in log.data or []] == ["CARD-0001"]
    points = client.get_loyalty_card_points(3, "CARD-0001")
    assert sdk.GetLoyaltyCardPoints200Response.from_dict(points.raw) is not None


def test_the_sdk_reads_activation_and_achievements(client: TalonClient, closed: Any) -> None:
    (pending,) = [p for p in props_of(closed, "addLoyaltyPoints") if p["programId"] == 2]
    activated = client.activate_loyalty_points(2, transaction_uuids=[pending["transactionUUID"]])
    theirs = sdk.ActivateLoyaltyPointsResponse.from_dict(activated.raw)
    assert theirs is not None and [e.amount for e in theirs.ledger_entries or []] == [3]

    achievements = client.get_customer_achievements("ada")
    page = sdk.GetCustomerAchievements200Response.from_dict(achievements.raw)
    assert page is not None and page.total_result_size == 1
    (entry,) = page.data or []
    assert entry.current_progress is not None and entry.current_progress.progress == 1
    history = client.get_customer_achievement_history("ada", 1)
    runs = sdk.GetCustomerAchievementHistory200Response.from_dict(history.raw)
    assert runs is not None and [r.status for r in runs.data or []] == ["inprogress"]
