"""What the client puts on the wire and how it reads answers (no network)."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from django_talon import __version__
from django_talon.client import (
    Coupon,
    CustomerProfile,
    IntegrationStateV1,
    IntegrationStateV2,
    RetryPolicy,
    TalonClient,
    TalonValidationError,
)
from django_talon.client.effects import AcceptCoupon, SetDiscount, UnknownEffect
from tests.client.support import API_KEY, BASE_URL, Answer, RecordingAdapter, make_client


def test_headers() -> None:
    adapter = RecordingAdapter(Answer(200, {"effects": []}))
    make_client(adapter).update_customer_session_v2("s", {})
    headers = adapter.sent[0].headers
    assert headers["Authorization"] == f"ApiKey-v1 {API_KEY}"
    assert headers["User-Agent"] == f"django-talon/{__version__}"
    assert headers["Content-Type"] == "application/json"
    assert headers["Accept"] == "application/json"
    assert adapter.sent[0].timeout == (3.05, 10.0)


def test_get_sends_no_body_or_content_type() -> None:
    adapter = RecordingAdapter(Answer(200, {"effects": []}))
    make_client(adapter).get_customer_session("s")
    assert adapter.sent[0].body is None
    assert "Content-Type" not in adapter.sent[0].headers


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("SUMMER25%OFF", "SUMMER25%25OFF"),
        ("two words", "two%20words"),
        ("a/b?c#d", "a%2Fb%3Fc%23d"),
        ("café", "caf%C3%A9"),
        ("plus+and&", "plus%2Band%26"),
    ],
)
def test_path_parameters_are_url_encoded(value: str, encoded: str) -> None:
    adapter = RecordingAdapter(Answer(200, {"totalResultSize": 0, "data": []}))
    client = make_client(adapter)
    client.get_reserved_customers(value)
    client.get_customer_session(value)
    client.get_customer_inventory(value)
    paths = [s.url.removeprefix(BASE_URL) for s in adapter.sent]
    assert paths == [
        f"/v1/coupon_reservations/customerprofiles/{encoded}",
        f"/v2/customer_sessions/{encoded}",
        f"/v1/customer_profiles/{encoded}/inventory",
    ]


def test_trailing_slash_in_base_url_is_ignored() -> None:
    adapter = RecordingAdapter(Answer(204))
    client = make_client(adapter)
    slashed = TalonClient(BASE_URL + "/", API_KEY, session=client.session)
    slashed.delete_customer_data("p")
    assert adapter.sent[0].url == f"{BASE_URL}/v1/customer_data/p"


def test_base_url_and_key_are_checked() -> None:
    with pytest.raises(TalonValidationError, match="base_url"):
        TalonClient("talon.example.com", API_KEY)
    with pytest.raises(TalonValidationError, match="api_key"):
        TalonClient(BASE_URL, "")


def test_delete_coupon_reservation_sends_its_json_body() -> None:
    adapter = RecordingAdapter(Answer(204))
    result = make_client(adapter).delete_coupon_reservation("VIP20", ["c7", "c8"])
    assert result is None
    sent = adapter.sent[0]
    assert sent.method == "DELETE" and sent.path == "/v1/coupon_reservations/VIP20"
    assert sent.json() == {"integrationIDs": ["c7", "c8"]}
    assert sent.headers["Content-Type"] == "application/json"


def test_query_flags() -> None:
    adapter = RecordingAdapter(Answer(200, {}))
    client = make_client(adapter)
    client.update_customer_session_v2("s", {}, dry=True, now="2030-01-01T00:00:00Z")
    client.update_customer_session_v2("s", {})
    client.update_customer_profile_v2("p", {}, run_rule_engine=True, dry=True)
    client.update_customer_profiles_v2([{"integrationId": "p"}], silent=False)
    client.update_customer_profiles_v2([{"integrationId": "p"}])
    client.get_customer_inventory("p", coupons=True, achievements=True)
    client.track_event("e", {}, "s", dry=True)
    assert [s.query for s in adapter.sent] == [
        {"dry": "true", "now": "2030-01-01T00:00:00Z"},
        {},
        {"runRuleEngine": "true", "dry": "true"},
        {"silent": "no"},
        {"silent": "yes"},
        {"coupons": "true", "achievements": "true"},
        {"dry": "true"},
    ]


def test_session_update_body_and_typed_answer() -> None:
    answer = {
        "effects": [
            {
                "campaignId": 1,
                "rulesetId": 2,
                "ruleIndex": 0,
                "ruleName": "Welcome",
                "effectType": "setDiscount",
                "props": {"name": "Welcome 10%", "value": 4.9},
            },
            {"effectType": "acceptCoupon", "props": {"value": "WELCOME10"}},
            {"effectType": "somethingNew", "props": {}},
        ],
        "createdCoupons": [{"id": 5, "value": "NEW-1", "campaignId": 1, "usageCounter": 0}],
        "createdReferrals": [],
        "customerSession": {
            "integrationId": "s",
            "profileId": "c7",
            "state": "partially_returned",
            "couponCodes": ["WELCOME10"],
            "cartItems": [{"sku": "A", "quantity": 2, "price": 24.5}],
            "total": 49.0,
            "updateCount": 2,
        },
        "customerProfile": {"integrationId": "c7", "id": 70, "attributes": {"Name": "Ada"}},
        "brandNewField": {"kept": True},
    }
    adapter = RecordingAdapter(Answer(200, answer))
    state = make_client(adapter).update_customer_session_v2(
        "s", {"couponCodes": ["WELCOME10"]}, response_content=["customerSession"]
    )
    assert adapter.sent[0].json() == {
        "customerSession": {"couponCodes": ["WELCOME10"]},
        "responseContent": ["customerSession"],
    }
    assert isinstance(state, IntegrationStateV2)
    assert state.raw == answer and state.raw["brandNewField"] == {"kept": True}
    first, second, third = state.effects
    assert isinstance(first, SetDiscount) and first.value == Decimal("4.9")
    assert isinstance(second, AcceptCoupon) and isinstance(third, UnknownEffect)
    assert state.created_coupons == [Coupon.from_json(answer["createdCoupons"][0])]
    assert state.created_coupons[0].value == "NEW-1"
    assert state.customer_session is not None
    assert state.customer_session.state == "partially_returned"  # open enum passes through
    assert state.customer_session.total == Decimal("49.0")
    assert state.customer_session.coupon_codes == ["WELCOME10"]
    assert isinstance(state.customer_profile, CustomerProfile)
    assert state.customer_profile.attributes == {"Name": "Ada"}


def test_sparse_answers_decode() -> None:
    """Servers omit 'required' fields; decoding must not care."""
    adapter = RecordingAdapter(Answer(200, {}))
    state = make_client(adapter).update_customer_session_v2("s", {})
    assert state.effects == [] and state.created_coupons == [] and state.customer_session is None


def test_v1_answer_decodes_positional_effects() -> None:
    answer = {
        "session": {
            "integrationId": "s",
            "profileId": "c7",
            "coupon": "WELCOME10",
            "state": "open",
        },
        "profile": {"integrationId": "c7"},
        "event": {
            "type": "talon_session_updated",
            "effects": [
                [1, 2, 0, ["setDiscount", "10% off", 2.45]],
                [1, 2, 0, ["acceptCoupon", "WELCOME10"]],
            ],
        },
    }
    adapter = RecordingAdapter(Answer(200, answer))
    state = make_client(adapter).update_customer_session_v1("s", {"coupon": "WELCOME10"})
    assert isinstance(state, IntegrationStateV1)
    assert [e.effect_type for e in state.effects] == ["setDiscount", "acceptCoupon"]
    assert state.session is not None and state.session.coupon_codes == ["WELCOME10"]
    assert state.profile is not None and state.profile.integration_id == "c7"


def test_pages_inventory_referral_and_bulk() -> None:
    profiles = {"totalResultSize": 1, "data": [{"integrationId": "c7", "attributes": {}}]}
    inventory = {
        "profile": {"integrationId": "c7"},
        "coupons": [{"value": "VIP20", "state": "active", "profileRedemptionCount": 0}],
        "referrals": [{"code": "REF-1", "referredCustomers": ["f1"], "campaignId": 5}],
        "loyalty": {"programs": {}},
    }
    referral = {"id": 1, "code": "REF-9", "campaignId": 5, "advocateProfileIntegrationId": "a"}
    adapter = RecordingAdapter(
        Answer(200, profiles),
        Answer(200, inventory),
        Answer(201, referral),
        Answer(200, {"integrationStates": [{"customerProfile": {"integrationId": "c7"}}]}),
        Answer(204),
    )
    client = make_client(adapter)
    page = client.get_customer_profiles_by_attributes({"Email": "a@example.com"})
    assert page.total_result_size == 1 and page.data[0].integration_id == "c7"
    inv = client.get_customer_inventory("c7", coupons=True, referrals=True, profile=True)
    assert inv.coupons[0].state == "active" and inv.referrals[0].referred_customers == ["f1"]
    assert inv.profile is not None and inv.loyalty == {"programs": {}}
    made = client.create_referral(5, "a")
    assert made.code == "REF-9" and made.raw == referral
    bulk = client.update_customer_profiles_v2([{"integrationId": "c7"}], silent=False)
    assert [p.integration_id for p in bulk.customer_profiles] == ["c7"]
    silent = client.update_customer_profiles_v2([{"integrationId": "c7"}])
    assert silent.integration_states == [] and silent.raw == {}


def test_return_cart_items_sends_idempotency_key() -> None:
    adapter = RecordingAdapter(Answer(200, {"effects": []}))
    make_client(adapter).return_cart_items(
        "s", [{"position": 0, "quantity": 1}], idempotency_key="key-1"
    )
    assert adapter.sent[0].headers["Idempotency-Key"] == "key-1"
    assert adapter.sent[0].json() == {
        "return": {"returnedCartItems": [{"position": 0, "quantity": 1}]}
    }


def test_client_is_a_context_manager_and_reprs_safely() -> None:
    adapter = RecordingAdapter()
    with make_client(adapter, retry=RetryPolicy.none()) as client:
        assert "***" in repr(client)


def test_importing_the_client_does_not_import_django() -> None:
    code = (
        "import sys, django_talon.client, django_talon.client.client;"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.strip().replace("'", '"')) == []
