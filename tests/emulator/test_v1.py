"""Legacy v1 operations: positional effects, events, Content-Signature auth."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import requests

from django_talon.client import TalonBadRequest, TalonClient, decode_v1_effect
from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import COFFEE


def test_v1_session_update_carries_positional_effects(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    state = client.update_customer_session_v1(
        "v1-s", {"profileId": "old", "coupon": "WELCOME10", "cartItems": [COFFEE]}
    )
    raw = state.raw
    assert raw["session"]["coupon"] == "WELCOME10"
    assert raw["session"]["discounts"] == {"Welcome 10%": 1.7, "Coffee 1 off each#0": 2.0}
    effects = raw["event"]["effects"]
    assert [e[3][0] for e in effects] == [
        "acceptCoupon",
        "setDiscount",
        "setDiscountPerItem",
        "setDiscountPerItem",
        "addLoyaltyPoints",
        "showNotification",
    ]
    assert effects[0] == [1, 101, 0, ["acceptCoupon", "WELCOME10"]]
    decoded = decode_v1_effect(effects[1])
    assert decoded.effect_type == "setDiscount" and decoded.props["value"] == 1.7
    assert raw["coupon"]["value"] == "WELCOME10"
    # the same session seen through v2
    assert emulator.state()["sessions"]["v1-s"]["couponCodes"] == ["WELCOME10"]
    state = client.update_customer_session_v1("v1-s", {"coupon": ""})
    assert state.raw["session"]["coupon"] == ""
    closed = client.update_customer_session_v1("v1-s", {"state": "closed"})
    assert closed.raw["session"]["state"] == "closed"
    with pytest.raises(TalonBadRequest):
        client.update_customer_session_v1("v1-s", {"state": "open"})


def test_v1_profile_update_and_dry(client: TalonClient, emulator: EmulatorHandle) -> None:
    state = client.update_customer_profile_v1("old", {"name": "Old Timer"})
    assert state.raw["profile"]["attributes"] == {"name": "Old Timer"}
    assert state.raw["event"]["type"] == "talon_profile_updated"
    client.update_customer_profile_v1("old", {"name": "Changed"}, dry=True)
    assert emulator.state()["profiles"]["old"]["attributes"] == {"name": "Old Timer"}


def test_track_event_runs_campaigns_listening_to_it(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    emulator.load_campaigns(
        {
            "campaigns": [
                {
                    "id": 1,
                    "name": "Review thanks",
                    "events": ["review_written"],
                    "effects": [
                        {
                            "type": "showNotification",
                            "title": "Thanks",
                            "body": "Thanks for the review",
                        }
                    ],
                }
            ]
        }
    )
    state = client.track_event("review_written", {"stars": 5}, "ev-s", "rita")
    assert state.raw["event"]["effects"] == [
        [1, 101, 0, ["showNotification", "Info", "Thanks", "Thanks for the review"]]
    ]
    assert state.raw["event"]["type"] == "review_written"
    other = client.track_event("page_viewed", {}, "ev-s", "rita")
    assert other.raw["event"]["effects"] == []
    assert [e["type"] for e in emulator.state()["events"]] == ["review_written", "page_viewed"]
    with pytest.raises(TalonBadRequest):
        client.track_event("page_viewed", {}, "ev-s", "somebody-else")
    client.track_event("page_viewed", {}, "ev-dry", "dry-person", dry=True)
    state_after = emulator.state()
    assert "ev-dry" not in state_after["sessions"] and "dry-person" not in state_after["profiles"]


def _signed(body: bytes, app_id: int, key_hex: str) -> str:
    signature = hmac.new(bytes.fromhex(key_hex), body, hashlib.md5).hexdigest()
    return f"signer={app_id}; signature={signature}"


def test_content_signature_accepted_on_v1_only(emulator: EmulatorHandle) -> None:
    body = json.dumps({"attributes": {"a": 1}}).encode()
    url = emulator.url
    good = _signed(body, emulator.application_id, emulator.application_key)
    headers = {"Content-Type": "application/json", "Content-Signature": good}
    answer = requests.put(f"{url}/v1/customer_profiles/sig", data=body, headers=headers, timeout=5)
    assert answer.status_code == 200, answer.text
    tampered = body.replace(b"1", b"2")
    answer = requests.put(
        f"{url}/v1/customer_profiles/sig", data=tampered, headers=headers, timeout=5
    )
    assert answer.status_code == 401
    wrong_signer = {**headers, "Content-Signature": _signed(body, 999, emulator.application_key)}
    answer = requests.put(
        f"{url}/v1/customer_profiles/sig", data=body, headers=wrong_signer, timeout=5
    )
    assert answer.status_code == 401
    v2 = requests.put(f"{url}/v2/customer_profiles/sig", data=body, headers=headers, timeout=5)
    assert v2.status_code == 401
    assert v2.json()["StatusCode"] == 401


def test_client_signing_works_against_the_emulator(emulator: EmulatorHandle) -> None:
    from django_talon.client import RetryPolicy

    signed = TalonClient(
        emulator.url,
        "not-the-key",
        retry=RetryPolicy.none(),
        sign_v1=True,
        application_id=emulator.application_id,
        application_key=emulator.application_key,
    )
    try:
        state = signed.update_customer_profile_v1("signed", {"x": 1})
        assert state.raw["profile"]["integrationId"] == "signed"
    finally:
        signed.close()
