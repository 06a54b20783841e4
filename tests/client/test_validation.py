"""Input is checked before anything is sent; Decimal and datetime are converted."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from django_talon.client import TalonClient, TalonValidationError, batched, to_jsonable
from tests.client.support import Answer, RecordingAdapter, make_client

LONG_CODE = "C" * 101
MANY = [f"p{i}" for i in range(1001)]

REJECTED: list[tuple[str, Callable[[TalonClient], Any], str]] = [
    (
        "coupon code > 100",
        lambda c: c.update_customer_session_v2("s", {"couponCodes": [LONG_CODE]}),
        "couponCodes[0]",
    ),
    (
        "referral code > 100",
        lambda c: c.update_customer_session_v2("s", {"referralCode": LONG_CODE}),
        "referralCode",
    ),
    (
        "v1 coupon > 100",
        lambda c: c.update_customer_session_v1("s", {"coupon": LONG_CODE}),
        "coupon",
    ),
    (
        "reservation code > 100",
        lambda c: c.create_coupon_reservation(LONG_CODE, ["a"]),
        "coupon_value",
    ),
    ("empty coupon path", lambda c: c.get_reserved_customers(""), "coupon_value"),
    ("integration id > 1000", lambda c: c.delete_customer_data("x" * 1001), "integration_id"),
    ("empty session id", lambda c: c.get_customer_session(""), "session_id"),
    (
        "1001 profiles",
        lambda c: c.update_customer_profiles_v2([{"integrationId": p} for p in MANY]),
        "profiles",
    ),
    (
        "1001 audience actions",
        lambda c: c.update_customer_profile_audiences(
            [{"action": "add", "profileIntegrationId": p, "audienceId": 1} for p in MANY]
        ),
        "actions",
    ),
    (
        "1001 reservation ids",
        lambda c: c.create_coupon_reservation("VIP20", MANY),
        "integration_ids",
    ),
    ("1001 deletion ids", lambda c: c.delete_coupon_reservation("VIP20", MANY), "integration_ids"),
    ("no reservation ids", lambda c: c.create_coupon_reservation("VIP20", []), "integration_ids"),
    (
        "quantity 0",
        lambda c: c.update_customer_session_v2("s", {"cartItems": [{"sku": "A", "quantity": 0}]}),
        "cartItems[0].quantity",
    ),
    (
        "quantity as string",
        lambda c: c.update_customer_session_v2("s", {"cartItems": [{"sku": "A", "quantity": "2"}]}),
        "cartItems[0].quantity",
    ),
    (
        "fractional quantity",
        lambda c: c.update_customer_session_v2("s", {"cartItems": [{"sku": "A", "quantity": 1.5}]}),
        "cartItems[0].quantity",
    ),
    (
        "missing sku",
        lambda c: c.update_customer_session_v2("s", {"cartItems": [{"quantity": 1}]}),
        "cartItems[0].sku",
    ),
    (
        "1001 cart items",
        lambda c: c.update_customer_session_v2(
            "s", {"cartItems": [{"sku": "A", "quantity": 1}] * 1001}
        ),
        "cartItems",
    ),
    (
        "total quantity > 10000",
        lambda c: c.update_customer_session_v2(
            "s", {"cartItems": [{"sku": "A", "quantity": 10001}]}
        ),
        "cartItems",
    ),
    (
        "6 identifiers",
        lambda c: c.update_customer_session_v2("s", {"identifiers": list("abcdef")}),
        "identifiers",
    ),
    (
        "returned quantity 0",
        lambda c: c.return_cart_items("s", [{"position": 0, "quantity": 0}]),
        "returned_items[0].quantity",
    ),
    (
        "object attribute",
        lambda c: c.update_customer_profile_v2("p", {"when": object()}),
        "attributes.when",
    ),
    (
        "NaN attribute",
        lambda c: c.update_customer_profile_v2("p", {"score": float("nan")}),
        "attributes.score",
    ),
    (
        "Decimal NaN",
        lambda c: c.update_customer_profile_v2("p", {"score": Decimal("NaN")}),
        "attributes.score",
    ),
    (
        "now without dry",
        lambda c: c.update_customer_session_v2("s", {}, now="2030-01-01T00:00:00Z"),
        "now",
    ),
    (
        "responseContent without rule engine",
        lambda c: c.update_customer_profile_v2("p", {}, response_content=["customerProfile"]),
        "response_content",
    ),
    (
        "idempotency key > 255",
        lambda c: c.return_cart_items(
            "s", [{"position": 0, "quantity": 1}], idempotency_key="k" * 256
        ),
        "idempotency_key",
    ),
    (
        "bad audience action",
        lambda c: c.update_customer_profile_audiences(
            [{"action": "join", "profileIntegrationId": "p", "audienceId": 1}]
        ),
        "actions[0].action",
    ),
    (
        "usage limit too high",
        lambda c: c.create_referral(5, "a", usage_limit=1_000_000),
        "usage_limit",
    ),
    ("campaign id as str", lambda c: c.create_referral("5", "a"), "campaign_id"),  # type: ignore[arg-type]
    ("session not a dict", lambda c: c.update_customer_session_v2("s", []), "customer_session"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("name", "call", "field"), REJECTED, ids=[n for n, _, _ in REJECTED])
def test_invalid_input_is_rejected_before_sending(
    name: str, call: Callable[[TalonClient], Any], field: str
) -> None:
    adapter = RecordingAdapter()
    with pytest.raises(TalonValidationError) as info:
        call(make_client(adapter))
    assert field in info.value.field, info.value
    assert isinstance(info.value, ValueError)
    assert adapter.sent == []


def test_decimal_datetime_date_uuid_are_converted() -> None:
    adapter = RecordingAdapter(Answer(200, {"effects": []}))
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    berlin = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    uid = uuid.UUID("123e4567-e89b-12d3-a456-426614174000")
    make_client(adapter).update_customer_session_v2(
        "s",
        {
            "cartItems": [{"sku": "A", "quantity": Decimal("2"), "price": Decimal("24.50")}],
            "attributes": {
                "at": when,
                "naive": dt.datetime(2026, 1, 2, 3, 4, 5),
                "local": berlin,
                "day": dt.date(2026, 1, 2),
                "uid": uid,
                "tags": ("a", "b"),
                "set": {"y", "x"},
                "big": Decimal("100"),
            },
        },
    )
    sent = json.loads(adapter.sent[0].body or b"")
    item = sent["customerSession"]["cartItems"][0]
    assert item == {"sku": "A", "quantity": 2, "price": 24.5}
    attrs = sent["customerSession"]["attributes"]
    assert attrs["at"] == "2026-01-02T03:04:05Z"
    assert attrs["naive"] == "2026-01-02T03:04:05Z"
    assert attrs["local"] == "2026-01-02T03:04:05+01:00"
    assert attrs["day"] == "2026-01-02"
    assert attrs["uid"] == str(uid)
    assert attrs["tags"] == ["a", "b"] and attrs["set"] == ["x", "y"]
    assert attrs["big"] == 100 and isinstance(attrs["big"], int)


def test_to_jsonable_rejects_non_string_keys() -> None:
    with pytest.raises(TalonValidationError, match="keys must be strings"):
        to_jsonable({1: "x"})


def test_reference_cycles_and_absurd_nesting_are_rejected_before_sending() -> None:
    cyclic: dict[str, Any] = {"name": "loop"}
    cyclic["self"] = cyclic
    adapter = RecordingAdapter(Answer(200, {}))
    with pytest.raises(TalonValidationError, match="nested deeper than") as info:
        make_client(adapter).update_customer_profile_v2("p", cyclic)
    assert "attributes.self.self" in info.value.field
    assert len(str(info.value)) < 300  # the path is shortened, not 100 levels long
    assert adapter.sent == []
    deep: list[Any] = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(TalonValidationError, match="nested deeper than"):
        to_jsonable({"deep": deep}, "attributes")
    fine: list[Any] = []
    for _ in range(50):
        fine = [fine]
    assert to_jsonable(fine) == fine


def test_empty_codes_clear_and_are_allowed() -> None:
    adapter = RecordingAdapter(Answer(200, {"effects": []}))
    make_client(adapter).update_customer_session_v2("s", {"couponCodes": [], "referralCode": ""})
    assert json.loads(adapter.sent[0].body or b"")["customerSession"] == {
        "couponCodes": [],
        "referralCode": "",
    }


def test_batched_helper() -> None:
    assert [len(chunk) for chunk in batched(range(2500))] == [1000, 1000, 500]
    assert list(batched([], 10)) == []
    assert list(batched("abcde", 2)) == [["a", "b"], ["c", "d"], ["e"]]
    with pytest.raises(ValueError):
        list(batched([1], 0))


def test_profiles_batched_sends_one_request_per_thousand() -> None:
    adapter = RecordingAdapter(Answer(204))
    profiles = ({"integrationId": f"p{i}"} for i in range(2500))
    results = make_client(adapter).update_customer_profiles_v2_batched(profiles)
    assert len(results) == 3 and len(adapter.sent) == 3
    sizes = [len(json.loads(s.body or b"")["customerProfiles"]) for s in adapter.sent]
    assert sizes == [1000, 1000, 500]
    with pytest.raises(TalonValidationError):
        make_client(adapter).update_customer_profiles_v2_batched([], batch_size=1001)


def test_exactly_1000_items_are_accepted() -> None:
    adapter = RecordingAdapter(Answer(201, {"id": 1, "value": "VIP20"}))
    make_client(adapter).create_coupon_reservation("VIP20", MANY[:1000])
    assert len(json.loads(adapter.sent[0].body or b"")["integrationIDs"]) == 1000
