"""Bad requests answer 400/401/404/405 with Talon.One's error shape, never a 500 or a traceback."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import COFFEE, Raw


def assert_error(answer: requests.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"] == "application/json"
    body = answer.json()
    assert body["StatusCode"] == status and isinstance(body["message"], str)
    assert "Traceback" not in answer.text
    for error in body["errors"]:
        assert error["title"] and isinstance(error["source"], dict)
    return dict(body)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({}, "/customerSession"),
        ({"customerSession": []}, "/customerSession"),
        ({"customerSession": {"cartItems": "nope"}}, "/customerSession/cartItems"),
        (
            {"customerSession": {"cartItems": [{"sku": "A", "price": 1}]}},
            "/customerSession/cartItems/0/quantity",
        ),
        (
            {"customerSession": {"cartItems": [{"sku": "A", "price": 1, "quantity": 0}]}},
            "/customerSession/cartItems/0/quantity",
        ),
        (
            {"customerSession": {"cartItems": [{"sku": "A", "price": "1", "quantity": 1}]}},
            "/customerSession/cartItems/0/price",
        ),
        (
            {"customerSession": {"cartItems": [{"sku": "", "price": 1, "quantity": 1}]}},
            "/customerSession/cartItems/0/sku",
        ),
        (
            {"customerSession": {"cartItems": [{"sku": "A", "price": 1, "quantity": True}]}},
            "/customerSession/cartItems/0/quantity",
        ),
        ({"customerSession": {"couponCodes": ["X" * 101]}}, "/customerSession/couponCodes/0"),
        ({"customerSession": {"couponCodes": "WELCOME10"}}, "/customerSession/couponCodes"),
        ({"customerSession": {"referralCode": 5}}, "/customerSession/referralCode"),
        ({"customerSession": {"state": "lost"}}, "/customerSession/state"),
        (
            {"customerSession": {"identifiers": ["1", "2", "3", "4", "5", "6"]}},
            "/customerSession/identifiers",
        ),
        ({"customerSession": {"profileId": 12}}, "/customerSession/profileId"),
        (
            {"customerSession": {"cartItems": [dict(COFFEE, quantity=1)] * 1001}},
            "/customerSession/cartItems",
        ),
        (
            {"customerSession": {"cartItems": [dict(COFFEE, quantity=5001)] * 2}},
            "/customerSession/cartItems",
        ),
        ({"customerSession": {}, "responseContent": ["everything"]}, "/responseContent/0"),
        # each price is finite, the cart's total is not (it was a 500 from the loyalty engine)
        (
            {"customerSession": {"cartItems": [dict(COFFEE, price=1e308, quantity=10)]}},
            "/customerSession/cartItems",
        ),
        (
            {
                "customerSession": {
                    "cartItems": [dict(COFFEE, price=1e308, quantity=1, position=0)] * 2
                }
            },
            "/customerSession/cartItems",
        ),
    ],
)
def test_session_payload_errors(raw: Raw, body: Any, pointer: str) -> None:
    error = assert_error(raw("PUT", "/v2/customer_sessions/s", json=body), 400)
    assert error["errors"][0]["source"] == {"pointer": pointer}


def test_invalid_json_and_missing_body(raw: Raw, emulator: EmulatorHandle) -> None:
    headers = {"Content-Type": "application/json"}
    assert_error(raw("PUT", "/v2/customer_sessions/s", data=b"{not json", headers=headers), 400)
    assert_error(raw("PUT", "/v2/customer_sessions/s", data=b"\xff\xfe", headers=headers), 400)
    assert_error(raw("PUT", "/v2/customer_sessions/s"), 400)
    assert_error(raw("POST", "/v2/customer_audiences", json=[1, 2]), 400)
    assert emulator.state()["sessions"] == {}


DEEP = b"[" * 100_000 + b"]" * 100_000  # json.loads raises RecursionError, not ValueError


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/v2/customer_sessions/s"),
        ("PUT", "/v1/customer_profiles/p"),
        ("POST", "/v1/coupon_reservations/WELCOME10"),
        ("POST", "/_emulator/campaigns"),
        ("POST", "/_emulator/faults"),
    ],
)
def test_deeply_nested_json_is_a_400(raw: Raw, method: str, path: str) -> None:
    headers = {"Content-Type": "application/json"}
    error = assert_error(raw(method, path, data=DEEP, headers=headers), 400)
    assert "nested too deeply" in error["message"]


def test_body_on_a_get_is_logged_without_breaking_the_answer(
    raw: Raw, emulator: EmulatorHandle
) -> None:
    answer = raw("GET", "/v1/customer_profiles/nobody/inventory", data=DEEP)
    assert_error(answer, 404)  # the call log keeps the body as text instead of dropping the call
    assert emulator.requests()[-1]["status"] == 404


@pytest.mark.parametrize("path", ["\\ud800", "bad\\u0000name.json"])
def test_unusable_campaign_file_path_is_a_400(raw: Raw, path: str) -> None:
    headers = {"Content-Type": "application/json"}
    data = f'"{path}"'.encode()
    error = assert_error(raw("POST", "/_emulator/campaigns", data=data, headers=headers), 400)
    assert "cannot read campaign file" in error["message"]


def test_bad_query_flags(raw: Raw) -> None:
    error = assert_error(
        raw("PUT", "/v2/customer_sessions/s?dry=maybe", json={"customerSession": {}}), 400
    )
    assert error["errors"][0]["source"] == {"parameter": "dry"}
    assert_error(
        raw("PUT", "/v2/customer_sessions/s?dry=true&now=yesterday", json={"customerSession": {}}),
        400,
    )
    assert_error(
        raw("PUT", "/v2/customer_profiles?silent=perhaps", json={"customerProfiles": []}), 400
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "PUT",
            "/v2/customer_profiles",
            {"customerProfiles": [{"integrationId": f"u{i}"} for i in range(1001)]},
        ),
        ("PUT", "/v2/customer_profiles", {"customerProfiles": [{"attributes": {}}]}),
        (
            "POST",
            "/v2/customer_audiences",
            {"data": [{"action": "move", "profileIntegrationId": "a", "audienceId": 1}]},
        ),
        (
            "POST",
            "/v2/customer_audiences",
            {"data": [{"action": "add", "profileIntegrationId": "a", "audienceId": "one"}]},
        ),
        ("POST", "/v1/coupon_reservations/VIP20", {"integrationIDs": "alice"}),
        (
            "POST",
            "/v1/coupon_reservations/VIP20",
            {"integrationIDs": [f"p{i}" for i in range(1001)]},
        ),
        ("DELETE", "/v1/coupon_reservations/VIP20", None),
        ("POST", "/v1/referrals", {"advocateProfileIntegrationId": "a"}),
        (
            "POST",
            "/v1/referrals",
            {"campaignId": 5, "advocateProfileIntegrationId": "a", "usageLimit": -1},
        ),
        (
            "POST",
            "/v1/referrals",
            {"campaignId": 5, "advocateProfileIntegrationId": "a", "expiryDate": "soon"},
        ),
        ("POST", "/v1/customer_profiles_search", {"attributes": {}}),
        ("POST", "/v1/events", {"type": "", "attributes": {}, "sessionId": "s"}),
        ("POST", "/v1/events", {"type": "x", "sessionId": "s"}),
        (
            "PUT",
            "/v1/customer_sessions/s",
            {"cartItems": [{"sku": "A", "price": 1, "quantity": 1}]},
        ),
        ("PUT", "/v1/customer_sessions/s", {"state": "partially_returned"}),
        ("PUT", "/v2/customer_profiles/p", {"attributes": []}),
        ("PUT", "/v2/customer_profiles/p", {"responseContent": ["customerProfile"]}),
        ("POST", "/v2/customer_sessions/s/returns", {"return": {}}),
    ],
)
def test_other_operations_reject_bad_payloads(raw: Raw, method: str, path: str, body: Any) -> None:
    assert_error(raw(method, path, json=body), 400)


def test_unknown_paths_and_wrong_methods(raw: Raw) -> None:
    assert_error(raw("GET", "/v2/unknown"), 404)
    assert_error(raw("GET", "/"), 404)
    assert_error(raw("PUT", "/v3/customer_sessions/s", json={}), 404)
    error = raw("DELETE", "/v2/customer_sessions/s")
    assert_error(error, 405)
    assert error.headers["Allow"] == "GET, PUT"
    assert_error(raw("PATCH", "/v2/customer_profiles/p", json={}), 405)
    assert_error(raw("GET", "/v1/referrals"), 405)


def test_missing_or_wrong_api_key_is_401(emulator: EmulatorHandle) -> None:
    url = f"{emulator.url}/v2/customer_sessions/s"
    for headers in (
        {},
        {"Authorization": "ApiKey-v1 wrong"},
        {"Authorization": emulator.api_key},
        {"Authorization": f"Bearer {emulator.api_key}"},
    ):
        answer = requests.put(url, json={"customerSession": {}}, headers=headers, timeout=5)
        error = assert_error(answer, 401)
        assert emulator.api_key not in answer.text
        assert error["errors"][0]["title"] == "Unauthorized"
    assert emulator.state()["sessions"] == {}
