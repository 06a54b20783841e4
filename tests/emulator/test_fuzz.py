"""Junk in, proper answers out: random payloads never produce a 500 (or a traceback)."""

from __future__ import annotations

import random
from typing import Any

from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import Raw

ROUTES = [
    ("PUT", "/v2/customer_sessions/f1"),
    ("POST", "/v2/customer_sessions/f1/returns"),
    ("PUT", "/v2/customer_profiles/f1"),
    ("PUT", "/v2/customer_profiles"),
    ("POST", "/v2/customer_audiences"),
    ("POST", "/v1/coupon_reservations/VIP20"),
    ("DELETE", "/v1/coupon_reservations/VIP20"),
    ("POST", "/v1/referrals"),
    ("POST", "/v1/customer_profiles_search"),
    ("POST", "/v1/events"),
    ("PUT", "/v1/customer_profiles/f1"),
    ("PUT", "/v1/customer_sessions/f1"),
]
KEYS = [
    "customerSession",
    "cartItems",
    "sku",
    "price",
    "quantity",
    "couponCodes",
    "state",
    "profileId",
    "attributes",
    "return",
    "returnedCartItems",
    "position",
    "customerProfiles",
    "integrationId",
    "data",
    "action",
    "audienceId",
    "profileIntegrationId",
    "integrationIDs",
    "campaignId",
    "advocateProfileIntegrationId",
    "type",
    "sessionId",
    "coupon",
    "referral",
    "referralCode",
    "responseContent",
    "audiencesChanges",
    "adds",
    "deletes",
    "expiryDate",
]


def junk(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 1, 2**70, 3.5, float(rng.randrange(5))])
    if kind == 3:
        return rng.choice(
            ["", "x", "closed", "open", "add", "VIP20", "2999-01-01T00:00:00Z", "é" * 200]
        )
    if kind == 4:
        return rng.choice(["customerSession", "cartItems"])
    if kind == 5:
        return rng.choice(KEYS)
    if kind == 6:
        return [junk(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(KEYS): junk(rng, depth + 1) for _ in range(rng.randrange(5))}


def test_random_payloads_never_500(emulator: EmulatorHandle, raw: Raw) -> None:
    rng = random.Random(1234)
    seen: set[int] = set()
    for _ in range(250):
        method, path = rng.choice(ROUTES)
        query = rng.choice(["", "?dry=true", "?silent=no", "?runRuleEngine=true", "?dry=1&now=x"])
        answer = raw(method, path + query, json=junk(rng))
        seen.add(answer.status_code)
        assert answer.status_code < 500, (method, path, answer.text)
        assert "Traceback" not in answer.text
    assert 400 in seen


ITEM = {
    "sku": "ESPRESSO-250",
    "name": "E",
    "price": 8.5,
    "quantity": 2,
    "category": "coffee",
    "attributes": {"a": 1},
    "weight": 1.0,
}
TEMPLATES: dict[tuple[str, str], Any] = {
    ("PUT", "/v2/customer_sessions/f2"): {
        "customerSession": {
            "profileId": "p",
            "cartItems": [ITEM, ITEM],
            "couponCodes": ["WELCOME10"],
            "referralCode": "",
            "state": "open",
            "attributes": {"x": 1},
            "identifiers": ["i"],
            "additionalCosts": {"shipping": {"price": 4}},
            "loyaltyCards": [],
            "evaluableCampaignIds": [1],
        },
        "responseContent": ["customerSession", "coupons"],
    },
    ("POST", "/v2/customer_sessions/f2/returns"): {
        "return": {"returnedCartItems": [{"position": 0, "quantity": 1, "sku": "ESPRESSO-250"}]}
    },
    ("PUT", "/v2/customer_profiles/f2"): {
        "attributes": {"a": 1},
        "audiencesChanges": {"adds": [1], "deletes": [2]},
    },
    ("PUT", "/v2/customer_profiles"): {
        "customerProfiles": [{"integrationId": "f2", "attributes": {}}]
    },
    ("POST", "/v2/customer_audiences"): {
        "data": [{"action": "add", "profileIntegrationId": "f2", "audienceId": 1}]
    },
    ("POST", "/v1/coupon_reservations/VIP20"): {"integrationIDs": ["f2"]},
    ("POST", "/v1/referrals"): {
        "campaignId": 5,
        "advocateProfileIntegrationId": "f2",
        "usageLimit": 1,
        "expiryDate": "2999-01-01T00:00:00Z",
    },
    ("POST", "/v1/events"): {"type": "t", "attributes": {}, "sessionId": "f3", "profileId": "f2"},
    ("PUT", "/v1/customer_sessions/f4"): {
        "profileId": "f2",
        "coupon": "WELCOME10",
        "cartItems": [ITEM],
        "state": "open",
    },
}


def _mutate(rng: random.Random, value: Any) -> Any:
    """Replace one randomly chosen node of a (copied) JSON value with junk."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(sorted(value))
        copy = dict(value)
        if rng.random() < 0.15:
            del copy[key]
        else:
            copy[key] = _mutate(rng, value[key])
        return copy
    if isinstance(value, list) and value and rng.random() < 0.8:
        index = rng.randrange(len(value))
        copy_list = list(value)
        copy_list[index] = _mutate(rng, value[index])
        return copy_list
    return junk(rng, 2)


def test_mutated_valid_payloads_never_500(emulator: EmulatorHandle, raw: Raw) -> None:
    rng = random.Random(99)
    statuses: dict[int, int] = {}
    routes = sorted(TEMPLATES)
    for _ in range(300):
        method, path = rng.choice(routes)
        body = TEMPLATES[(method, path)]
        if rng.random() < 0.85:
            body = _mutate(rng, body)
        answer = raw(method, path, json=body)
        statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
        assert answer.status_code < 500, (method, path, body, answer.text)
    assert statuses.get(400, 0) > 30 and statuses.get(200, 0) + statuses.get(201, 0) > 30, statuses
