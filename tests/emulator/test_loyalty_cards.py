"""Loyalty cards and achievements in the emulator, over HTTP through the client: cards
declared in the campaign file or generated, linked and unlinked (with the per-card limit),
points booked on the session's card; achievement progress from closed sessions, rolled back
by a cancel, completed at the target, and its history. Every answer is checked against
the spec (conftest).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from django_talon.client import TalonBadRequestError, TalonClient, TalonNotFoundError
from django_talon.emulator.campaign_file import CampaignFileError, parse_campaigns
from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import COFFEE, props_of, types

CARDS_FILE: dict[str, Any] = {
    "loyaltyPrograms": [
        {
            "id": 4,
            "name": "card_club",
            "title": "Card club",
            "cardBased": True,
            "usersPerCardLimit": 2,
            "cards": ["CARD-0001", {"identifier": "CARD-0002", "profiles": ["ann"]}],
        }
    ],
    "achievements": [
        {
            "id": 1,
            "name": "CoffeeLover",
            "title": "Coffee lover",
            "description": "Three coffee orders",
            "campaignId": 5,
            "target": 3,
        }
    ],
    "campaigns": [
        {
            "id": 5,
            "name": "Card points and progress",
            "effects": [
                {"type": "addLoyaltyPoints", "programId": 4, "points": 7},
                {"type": "increaseAchievementProgress", "achievementId": 1},
            ],
        }
    ],
}


@pytest.fixture
def cards(emulator: EmulatorHandle, client: TalonClient) -> TalonClient:
    emulator.load_campaigns(CARDS_FILE)
    return client


def _close(client: TalonClient, session: str, card: str | None = None) -> Any:
    body: dict[str, Any] = {"profileId": "ada", "cartItems": [COFFEE]}
    if card:
        body["loyaltyCards"] = [card]
    client.update_customer_session_v2(session, body)
    return client.update_customer_session_v2(session, {"state": "closed"})


def test_points_go_to_the_sessions_card(cards: TalonClient) -> None:
    closed = _close(cards, "s1", "CARD-0001")
    (earned,) = props_of(closed, "addLoyaltyPoints")
    assert earned["cardIdentifier"] == "CARD-0001"
    assert cards.get_loyalty_card_balances(4, "CARD-0001").balance.active_points == 7
    (line,) = cards.get_loyalty_card_transactions(4, "CARD-0001").data
    assert line.card_identifier == "CARD-0001" and line.amount == 7
    (points,) = cards.get_loyalty_card_points(4, "CARD-0001").data
    assert (points.customer_profile_id, points.amount) == ("ada", Decimal(7))
    no_card = _close(cards, "s2")
    assert "addLoyaltyPoints" not in types(no_card)  # a card-based program needs the card


def test_link_unlink_and_the_per_card_limit(cards: TalonClient) -> None:
    card = cards.link_loyalty_card_to_profile(4, "CARD-0002", "bob")
    assert [p.integration_id for p in card.profiles] == ["ann", "bob"]
    again = cards.link_loyalty_card_to_profile(4, "CARD-0002", "bob")  # a repeat: no-op
    assert len(again.profiles) == 2
    with pytest.raises(TalonBadRequestError):
        cards.link_loyalty_card_to_profile(4, "CARD-0002", "cy")  # limit 2
    card = cards.unlink_loyalty_card_from_profile(4, "CARD-0002", "ann")
    assert [p.integration_id for p in card.profiles] == ["bob"]
    balances = cards.get_loyalty_card_balances(4, "CARD-0002")
    assert [p.integration_id for p in balances.profiles] == ["bob"]
    inventory = cards.get_customer_inventory("bob", loyalty=True)
    assert [c["identifier"] for c in inventory.raw["loyalty"]["cards"]] == ["CARD-0002"]
    with pytest.raises(TalonNotFoundError):
        cards.link_loyalty_card_to_profile(4, "CARD-9999", "bob")


def test_generate_cards(cards: TalonClient) -> None:
    made = cards.generate_loyalty_card(4, customer_profile_ids=["ada"])
    assert made.identifier and made.status == "active" and made.users_per_card_limit == 2
    named = cards.generate_loyalty_card(4, card_identifier="MY-CARD-1", status="inactive")
    assert named.identifier == "MY-CARD-1" and named.status == "inactive"
    with pytest.raises(TalonBadRequestError):
        cards.generate_loyalty_card(4, card_identifier="MY-CARD-1")  # exists
    with pytest.raises(TalonBadRequestError):
        cards.generate_loyalty_card(4, customer_profile_ids=["a", "b", "c"])  # limit 2
    assert cards.get_loyalty_card_balances(4, made.identifier).profiles[0].integration_id == "ada"


def test_achievement_progress_counts_closed_sessions(cards: TalonClient) -> None:
    open_quote = cards.update_customer_session_v2("s1", {"profileId": "ada", "cartItems": [COFFEE]})
    assert props_of(open_quote, "increaseAchievementProgress")[0]["value"] == 1
    (achievement,) = cards.get_customer_achievements("ada").data
    assert achievement.current_progress is not None
    assert achievement.current_progress.status == "not_started"  # open sessions do not count
    for session in ("s1", "s2"):
        _close(cards, session)
    (achievement,) = cards.get_customer_achievements("ada").data
    assert achievement.current_progress is not None
    assert (achievement.current_progress.status, achievement.current_progress.progress) == (
        "inprogress",
        Decimal(2),
    )
    cancelled = cards.update_customer_session_v2("s2", {"state": "cancelled"})
    (undo,) = props_of(cancelled, "rollbackIncreasedAchievementProgress")
    assert undo["currentProgress"] == 1
    for session in ("s3", "s4"):
        last = _close(cards, session)
    assert props_of(last, "increaseAchievementProgress")[0]["isJustCompleted"] is True
    done = cards.get_customer_achievements("ada", current_progress_status=["completed"]).data
    assert [a.name for a in done] == ["CoffeeLover"]
    (run,) = cards.get_customer_achievement_history("ada", 1).data
    assert run.status == "completed" and run.completion_date
    after = cards.update_customer_session_v2("s5", {"profileId": "ada", "cartItems": [COFFEE]})
    assert "increaseAchievementProgress" not in types(after)  # done: no more progress
    inventory = cards.get_customer_inventory("ada", achievements=True)
    assert inventory.achievements[0]["status"] == "completed"
    with pytest.raises(TalonNotFoundError):
        cards.get_customer_achievement_history("ada", 99)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"campaigns": [{"id": 1, "name": "x", "effects": [{"type": "deductLoyaltyPoints"}]}]},
            "programId",
        ),
        (
            {
                "campaigns": [
                    {
                        "id": 1,
                        "name": "x",
                        "effects": [{"type": "deductLoyaltyPoints", "programId": 1}],
                    }
                ]
            },
            "points or pointsAttribute",
        ),
        ({"loyaltyPrograms": [{"id": 1, "expiryDuration": "soon"}], "campaigns": []}, "duration"),
        ({"loyaltyPrograms": [{"id": 1, "cards": ["CARD-1"]}], "campaigns": []}, "cardBased"),
        (
            {
                "achievements": [{"id": 1, "name": "A1", "campaignId": 9, "target": 1}],
                "campaigns": [],
            },
            "campaignId",
        ),
        (
            {
                "campaigns": [
                    {
                        "id": 1,
                        "name": "x",
                        "effects": [{"type": "increaseAchievementProgress", "achievementId": 3}],
                    }
                ]
            },
            "achievement 3",
        ),
    ],
)
def test_campaign_file_loyalty_errors(change: dict[str, Any], message: str) -> None:
    with pytest.raises(CampaignFileError, match=message):
        parse_campaigns(change)


def test_a_deduct_campaign_loads() -> None:
    parsed = parse_campaigns(
        {
            "campaigns": [
                {
                    "id": 1,
                    "name": "Pay with points",
                    "effects": [{"type": "deductLoyaltyPoints", "programId": 1, "points": 10}],
                }
            ]
        }
    )
    assert parsed.loyalty_programs[1].name == "program_1"
