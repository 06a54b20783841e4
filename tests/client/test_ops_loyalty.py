"""Loyalty programs, cards and achievements (issues 14 and 15): every request validates
against openapi.yaml (array filters sent once per value), a schema-generated answer decodes
into the typed objects, the input checks refuse what the API would, and each operation's
retry verdict is the one of the table in ``django_talon.client.client``.

``CASES`` joins ``tests/client/test_contract.py``'s coverage check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from django_talon.client import (
    Achievement,
    AchievementProgress,
    ActivatedPoints,
    LoyaltyBalances,
    LoyaltyCard,
    LoyaltyPage,
    LoyaltyPoints,
    LoyaltyTransaction,
    RetryPolicy,
    TalonClient,
    TalonValidationError,
)
from tests import openapi_contract as contract
from tests import openapi_samples as samples
from tests.client.support import Answer, FakeClock, RecordingAdapter, make_client
from tests.client.test_contract import _run, _validate

pytestmark = pytest.mark.spec

Call = Callable[[TalonClient], Any]
WHEN = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
UUID_A = "8f1a8d7c-9c3e-4a5e-9f0d-2c5f7a3b1cde"
UUID_B = "12b3c456-78d9-4e0f-a1b2-3456789abcde"

CASES: list[tuple[str, int, Call]] = [
    ("getLoyaltyBalances", 200, lambda c: c.get_loyalty_balances(1, "customer 7/α")),
    (
        "getLoyaltyBalances",
        200,
        lambda c: c.get_loyalty_balances(
            1,
            "customer-7",
            end_date=WHEN,
            subledger_id="coffee",
            include_tiers=True,
            include_projected_tier=True,
        ),
    ),
    ("getLoyaltyCardBalances", 200, lambda c: c.get_loyalty_card_balances(2, "CARD-0001")),
    (
        "getLoyaltyCardBalances",
        200,
        lambda c: c.get_loyalty_card_balances(
            2, "CARD-0001", end_date="2026-06-01T00:00:00Z", subledger_ids=["a", "b"]
        ),
    ),
    ("getLoyaltyCardPoints", 200, lambda c: c.get_loyalty_card_points(2, "CARD-0001")),
    (
        "getLoyaltyCardPoints",
        200,
        lambda c: c.get_loyalty_card_points(
            2,
            "CARD-0001",
            status="pending",
            subledger_ids=["a"],
            customer_session_ids=["s-1", "s 2"],
            transaction_uuids=[UUID_A],
            page_size=10,
            skip=20,
            sort="expiryDate",
        ),
    ),
    (
        "getLoyaltyProgramProfilePoints",
        200,
        lambda c: c.get_loyalty_program_profile_points(1, "customer-7"),
    ),
    (
        "getLoyaltyProgramProfilePoints",
        200,
        lambda c: c.get_loyalty_program_profile_points(
            1, "customer-7", status="expired", page_size=1000, skip=0, sort="startDate"
        ),
    ),
    (
        "getLoyaltyCardTransactions",
        200,
        lambda c: c.get_loyalty_card_transactions(
            2,
            "CARD-0001",
            subledger_ids=["a", "b"],
            loyalty_transaction_type="session",
            start_date=WHEN,
            end_date=WHEN,
            customer_session_ids=["s-1"],
            transaction_uuids=[UUID_A, UUID_B],
            page_size=5,
            skip=5,
            awaits_activation=False,
        ),
    ),
    (
        "getLoyaltyProgramProfileTransactions",
        200,
        lambda c: c.get_loyalty_program_profile_transactions(1, "customer-7"),
    ),
    (
        "getLoyaltyProgramProfileTransactions",
        200,
        lambda c: c.get_loyalty_program_profile_transactions(
            1,
            "customer-7",
            subledger_id="coffee",
            loyalty_transaction_type="manual",
            start_date="2026-01-01T00:00:00Z",
            awaits_activation=True,
        ),
    ),
    ("joinLoyaltyProgram", 200, lambda c: c.join_loyalty_program(1, "customer 7")),
    ("generateLoyaltyCard", 200, lambda c: c.generate_loyalty_card(2)),
    (
        "generateLoyaltyCard",
        200,
        lambda c: c.generate_loyalty_card(
            2, card_identifier="CARD-0002", status="inactive", customer_profile_ids=["a", "b"]
        ),
    ),
    (
        "linkLoyaltyCardToProfile",
        200,
        lambda c: c.link_loyalty_card_to_profile(2, "CARD-0001", "customer-7"),
    ),
    (
        "unlinkLoyaltyCardFromProfile",
        200,
        lambda c: c.unlink_loyalty_card_from_profile(2, "CARD-0001", "customer-7"),
    ),
    (
        "activateLoyaltyPoints",
        200,
        lambda c: c.activate_loyalty_points(1, transaction_uuids=[UUID_A, UUID_B]),
    ),
    ("activateLoyaltyPoints", 200, lambda c: c.activate_loyalty_points(1, session_id="s-1")),
    (
        "deleteLoyaltyTransactionsFromLedgers",
        204,
        lambda c: c.delete_loyalty_transactions_from_ledgers(1, "customer-7"),
    ),
    (
        "deleteLoyaltyTransactionsFromLedgers",
        204,
        lambda c: c.delete_loyalty_transactions_from_ledgers(
            1, "customer-7", subledger_ids=["coffee"]
        ),
    ),
    ("getCustomerAchievements", 200, lambda c: c.get_customer_achievements("customer-7")),
    (
        "getCustomerAchievements",
        200,
        lambda c: c.get_customer_achievements(
            "customer-7",
            campaign_ids=[1, 2],
            achievement_ids=[3],
            achievement_status=["active", "scheduled"],
            current_progress_status=["inprogress", "not_started"],
            page_size=50,
            skip=0,
        ),
    ),
    (
        "getCustomerAchievementHistory",
        200,
        lambda c: c.get_customer_achievement_history("customer-7", 3),
    ),
    (
        "getCustomerAchievementHistory",
        200,
        lambda c: c.get_customer_achievement_history(
            "customer-7",
            3,
            progress_status=["completed", "expired"],
            start_date=WHEN,
            end_date="2027-01-01T00:00:00Z",
            page_size=10,
            skip=10,
        ),
    ),
]

IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(CASES)]


@pytest.mark.parametrize(("operation", "status", "call"), CASES, ids=IDS)
def test_request_validates_and_sample_response_decodes(
    operation: str, status: int, call: Call
) -> None:
    sent, result = _run(operation, status, call)
    _validate(operation, sent)
    # again with every value of the repeated (array) query parameters
    contract.validate_request(
        operation,
        method=sent.method,
        path=sent.path,
        query=parse_qsl(urlsplit(sent.url).query, keep_blank_values=True),
        headers=sent.headers,
        body=sent.body,
    )
    raw = getattr(result, "raw", None)
    if status == 204 or result is None:
        assert raw in (None, {})
    else:
        assert raw == samples.sample_response(operation, status)


def test_array_filters_repeat_the_key() -> None:
    sent, _ = _run("getLoyaltyCardBalances", 200, CASES[3][2])
    pairs = parse_qsl(urlsplit(sent.url).query)
    assert [v for k, v in pairs if k == "subledgerId"] == ["a", "b"]
    sent, _ = _run("getLoyaltyCardPoints", 200, CASES[5][2])
    pairs = parse_qsl(urlsplit(sent.url).query)
    assert [v for k, v in pairs if k == "customerSessionIDs"] == ["s-1", "s 2"]
    assert sent.path == "/v1/loyalty_programs/2/cards/CARD-0001/points"


def test_answers_are_typed() -> None:
    _, balances = _run("getLoyaltyBalances", 200, CASES[0][2])
    assert isinstance(balances, LoyaltyBalances)
    assert isinstance(balances.balance.active_points, Decimal)
    _, card_balances = _run("getLoyaltyCardBalances", 200, CASES[2][2])
    assert card_balances.profiles and card_balances.profiles[0].integration_id
    _, points = _run("getLoyaltyCardPoints", 200, CASES[4][2])
    assert isinstance(points, LoyaltyPage) and isinstance(points.data[0], LoyaltyPoints)
    _, history = _run("getLoyaltyProgramProfileTransactions", 200, CASES[9][2])
    assert isinstance(history.data[0], LoyaltyTransaction) and history.data[0].type
    _, card = _run("generateLoyaltyCard", 200, CASES[12][2])
    assert isinstance(card, LoyaltyCard) and card.identifier
    _, activated = _run("activateLoyaltyPoints", 200, CASES[16][2])
    assert isinstance(activated, ActivatedPoints)
    _, achievements = _run("getCustomerAchievements", 200, CASES[20][2])
    assert isinstance(achievements.data[0], Achievement)
    _, runs = _run("getCustomerAchievementHistory", 200, CASES[22][2])
    assert isinstance(runs.data[0], AchievementProgress)


def test_odd_answers_decode_to_defaults() -> None:
    """The API has shipped answers missing "required" fields: nothing raises."""
    assert LoyaltyBalances.from_json({}).balance.active_points == 0
    assert LoyaltyPage.decode({"data": "x"}, LoyaltyPoints.from_json).data == []
    assert LoyaltyCard.from_json({"ledger": 3}).ledger is None
    assert Achievement.from_json([]).current_progress is None


REFUSED: list[tuple[Call, str]] = [
    (lambda c: c.get_loyalty_balances(0, "a"), "program_id"),
    (lambda c: c.get_loyalty_balances(True, "a"), "program_id"),
    (lambda c: c.get_loyalty_balances(1, ""), "integration_id"),
    (lambda c: c.get_loyalty_balances(1, "x" * 1001), "integration_id"),
    (lambda c: c.get_loyalty_card_balances(1, "abc"), "card_identifier"),
    (lambda c: c.get_loyalty_card_balances(1, "CARD 0001"), "card_identifier"),
    (lambda c: c.get_loyalty_card_balances(1, "C" * 109), "card_identifier"),
    (lambda c: c.get_loyalty_card_balances(1, "CARD-1", subledger_ids="ab"), "subledger_ids"),
    (lambda c: c.get_loyalty_card_points(1, "CARD-1", status="spent"), "status"),
    (lambda c: c.get_loyalty_card_points(1, "CARD-1", page_size=0), "page_size"),
    (lambda c: c.get_loyalty_card_points(1, "CARD-1", page_size=1001), "page_size"),
    (lambda c: c.get_loyalty_card_points(1, "CARD-1", skip=-1), "skip"),
    (lambda c: c.get_loyalty_card_points(1, "CARD-1", sort="amount"), "sort"),
    (
        lambda c: c.get_loyalty_program_profile_transactions(
            1, "a", loyalty_transaction_type="refund"
        ),
        "loyalty_transaction_type",
    ),
    (lambda c: c.generate_loyalty_card(1, card_identifier="no"), "card_identifier"),
    (lambda c: c.generate_loyalty_card(1, status="blocked"), "status"),
    (lambda c: c.generate_loyalty_card(1, customer_profile_ids=[""]), "customer_profile_ids"),
    (lambda c: c.link_loyalty_card_to_profile(1, "CARD-1", ""), "integration_id"),
    (lambda c: c.activate_loyalty_points(1), "transaction_uuids"),
    (
        lambda c: c.activate_loyalty_points(1, transaction_uuids=[UUID_A], session_id="s"),
        "transaction_uuids",
    ),
    (lambda c: c.activate_loyalty_points(1, transaction_uuids=[]), "transaction_uuids"),
    (
        lambda c: c.activate_loyalty_points(1, transaction_uuids=[UUID_A, UUID_A]),
        "transaction_uuids",
    ),
    (
        lambda c: c.activate_loyalty_points(1, transaction_uuids=[f"u{i}" for i in range(51)]),
        "transaction_uuids",
    ),
    (
        lambda c: c.delete_loyalty_transactions_from_ledgers(1, "a", subledger_ids=[]),
        "subledger_ids",
    ),
    (lambda c: c.get_customer_achievements("a", campaign_ids=[0]), "campaign_ids"),
    (lambda c: c.get_customer_achievements("a", achievement_status=["done"]), "achievement_status"),
    (lambda c: c.get_customer_achievement_history("a", 0), "achievement_id"),
    (
        lambda c: c.get_customer_achievement_history("a", 1, progress_status=["not_started"]),
        "progress_status",
    ),
]


@pytest.mark.parametrize(("call", "field"), REFUSED)
def test_bad_input_is_refused_before_sending(call: Call, field: str) -> None:
    adapter = RecordingAdapter()
    with pytest.raises(TalonValidationError) as caught:
        call(make_client(adapter))
    assert caught.value.field == field
    assert adapter.sent == []


def _attempts(call: Call) -> int:
    """How many requests one call makes when the server answers 503 each time."""
    clock = FakeClock()
    adapter = RecordingAdapter(Answer(503, {"message": "busy"}))
    client = make_client(
        adapter, retry=RetryPolicy(max_attempts=3, sleep=clock.sleep, random=clock.random)
    )
    with pytest.raises(Exception):  # noqa: B017 - TalonServerError; only the count matters
        call(client)
    return len(adapter.sent)


RETRIES: list[tuple[str, Call, int]] = [
    ("balances", CASES[0][2], 3),
    ("card balances", CASES[2][2], 3),
    ("card points", CASES[4][2], 3),
    ("profile points", CASES[6][2], 3),
    ("card transactions", CASES[8][2], 3),
    ("profile transactions", CASES[9][2], 3),
    ("join", CASES[11][2], 3),
    ("generate card", CASES[12][2], 1),
    ("generate named card", CASES[13][2], 1),
    ("link", CASES[14][2], 3),
    ("unlink", CASES[15][2], 3),
    ("activate", CASES[16][2], 3),
    ("delete transactions", CASES[18][2], 3),
    ("achievements", CASES[20][2], 3),
    ("achievement history", CASES[22][2], 3),
]


@pytest.mark.parametrize(("name", "call", "attempts"), RETRIES, ids=[r[0] for r in RETRIES])
def test_retry_verdicts_follow_the_table(name: str, call: Call, attempts: int) -> None:
    assert _attempts(call) == attempts, name
