"""Several codes of one coupon campaign in a session: each code is judged on its own first.

Before, only the first code of a campaign was evaluated and every other code of it was refused
with ``CouponPartOfNotTriggeredCampaign`` ("the campaign was not triggered"), even when the
campaign did fire; and an invalid code listed first cost the shopper the valid code's discount.
"""

from __future__ import annotations

from typing import Any

import pytest

from django_talon.client import TalonClient
from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import COFFEE, GRINDER, props_of, types

CAMPAIGNS: dict[str, Any] = {
    "application": {"id": 1, "name": "x", "currency": "EUR"},
    "campaigns": [
        {
            "id": 1,
            "name": "Welcome",
            "trigger": "coupon",
            "coupons": [
                {"value": "WELCOME10", "usageLimit": 0},
                {"value": "EXPIRED1", "expiryDate": "2020-01-01T00:00:00Z"},
                {"value": "FUTURE1", "startDate": "2999-01-01T00:00:00Z"},
                {"value": "SECOND", "usageLimit": 0},
            ],
            "effects": [{"type": "setDiscount", "name": "W", "percent": 10}],
        },
        {
            "id": 2,
            "name": "Big carts",
            "trigger": "coupon",
            "coupons": ["BIG1", "BIG2"],
            "conditions": [{"type": "subtotalAtLeast", "amount": 50}],
            "effects": [{"type": "setDiscount", "name": "B", "amount": 5}],
        },
    ],
}

FAILURES = ["ruleFailureReasons"]


@pytest.fixture
def loaded(emulator: EmulatorHandle) -> EmulatorHandle:
    emulator.load_campaigns(CAMPAIGNS)
    return emulator


def rejections(state: Any) -> dict[str, str]:
    return {p["value"]: p["rejectionReason"] for p in props_of(state, "rejectCoupon")}


def send(client: TalonClient, codes: list[str], session: str = "s", **extra: Any) -> Any:
    return client.update_customer_session_v2(
        session,
        {"profileId": "p", "cartItems": [COFFEE], "couponCodes": codes, **extra},
        response_content=FAILURES,
    )


@pytest.mark.parametrize("codes", [["WELCOME10", "EXPIRED1"], ["EXPIRED1", "WELCOME10"]])
def test_an_expired_code_gets_its_own_reason_in_either_order(
    loaded: EmulatorHandle, client: TalonClient, codes: list[str]
) -> None:
    state = send(client, codes)
    assert props_of(state, "acceptCoupon") == [{"value": "WELCOME10"}]
    assert rejections(state) == {"EXPIRED1": "CouponExpired"}
    assert [p["name"] for p in props_of(state, "setDiscount")] == ["W"]
    failures = state.raw["ruleFailureReasons"]
    assert [(f["couponValue"], f["details"]) for f in failures if f["campaignID"] == 1] == [
        ("EXPIRED1", "CouponExpired")
    ]


def test_every_invalid_code_before_the_valid_one_gets_its_own_reason(
    loaded: EmulatorHandle, client: TalonClient
) -> None:
    state = send(client, ["FUTURE1", "EXPIRED1", "NOPE", "WELCOME10"])
    assert props_of(state, "acceptCoupon") == [{"value": "WELCOME10"}]
    assert rejections(state) == {
        "FUTURE1": "CouponStartDateInFuture",
        "EXPIRED1": "CouponExpired",
        "NOPE": "CouponNotFound",
    }
    assert types(state).count("setDiscount") == 1


@pytest.mark.parametrize(("first", "second"), [("WELCOME10", "SECOND"), ("SECOND", "WELCOME10")])
def test_a_surplus_valid_code_does_not_claim_the_campaign_did_not_fire(
    loaded: EmulatorHandle, client: TalonClient, first: str, second: str
) -> None:
    state = send(client, [first, second])
    assert props_of(state, "acceptCoupon") == [{"value": first}]
    (rejected,) = props_of(state, "rejectCoupon")
    assert rejected["value"] == second
    assert rejected["rejectionReason"] == "EffectCouldNotBeApplied"
    assert first in rejected["details"]
    assert types(state).count("setDiscount") == 1
    assert not [f for f in state.raw["ruleFailureReasons"] if f["campaignID"] == 1]


def test_closing_redeems_only_the_accepted_code(
    loaded: EmulatorHandle, client: TalonClient
) -> None:
    send(client, ["EXPIRED1", "WELCOME10", "SECOND"], state="closed")
    coupons = loaded.state()["coupons"]
    assert coupons["WELCOME10"]["usageCounter"] == 1
    assert coupons["SECOND"]["usageCounter"] == 0
    assert coupons["EXPIRED1"]["usageCounter"] == 0


def test_valid_codes_of_a_campaign_whose_condition_fails(
    loaded: EmulatorHandle, client: TalonClient
) -> None:
    state = send(client, ["BIG1", "BIG2"])
    assert rejections(state) == {
        "BIG1": "CouponRejectedByCondition",
        "BIG2": "CouponRejectedByCondition",
    }
    assert {p["conditionIndex"] for p in props_of(state, "rejectCoupon")} == {0}
    assert "setDiscount" not in types(state)
    state = client.update_customer_session_v2(
        "s", {"cartItems": [COFFEE, GRINDER], "couponCodes": ["BIG1", "BIG2"]}
    )
    assert props_of(state, "acceptCoupon") == [{"value": "BIG1"}]
    assert rejections(state) == {"BIG2": "EffectCouldNotBeApplied"}


@pytest.mark.parametrize(
    ("code", "expected"),
    [("EXPIRED1", "CouponExpired"), ("FUTURE1", "CouponStartDateInFuture"), ("WELCOME10", None)],
)
def test_a_lone_code_is_unchanged(
    loaded: EmulatorHandle, client: TalonClient, code: str, expected: str | None
) -> None:
    state = send(client, [code])
    if expected is None:
        assert props_of(state, "acceptCoupon") == [{"value": code}]
        assert "rejectCoupon" not in types(state)
    else:
        assert rejections(state) == {code: expected}
        assert "acceptCoupon" not in types(state)
        (failure,) = [f for f in state.raw["ruleFailureReasons"] if f["campaignID"] == 1]
        assert (failure["couponValue"], failure["details"]) == (code, expected)
