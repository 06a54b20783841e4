"""Coupons: every rejection reason, usage limits, reservations hard and soft, inventory."""

from __future__ import annotations

from typing import Any

import pytest

from django_talon.client import TalonClient, TalonNotFound
from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import COFFEE, GRINDER, props_of, types

CAMPAIGNS: dict[str, Any] = {
    "audiences": [{"id": 1, "name": "VIP"}],
    "campaigns": [
        {
            "id": 1,
            "name": "Limited",
            "trigger": "coupon",
            "coupons": [
                {"value": "ONCE", "usageLimit": 1},
                {"value": "FUTURE", "startDate": "2999-01-01T00:00:00Z"},
                {"value": "OLD1", "expiryDate": "2000-01-01T00:00:00Z"},
                {"value": "MINE", "recipientIntegrationId": "alice"},
                {"value": "PERPROFILE", "profileLimit": 1},
            ],
            "effects": [{"type": "setDiscount", "amount": 1}],
        },
        {
            "id": 2,
            "name": "Big carts",
            "trigger": "coupon",
            "coupons": ["BIGCART"],
            "conditions": [{"type": "subtotalAtLeast", "amount": 50}],
            "effects": [{"type": "setDiscount", "percent": 5}],
        },
        {
            "id": 3,
            "name": "Paused",
            "trigger": "coupon",
            "state": "disabled",
            "coupons": ["PAUSED"],
            "effects": [{"type": "setDiscount", "amount": 1}],
        },
        {
            "id": 4,
            "name": "Reserved",
            "trigger": "coupon",
            "coupons": [{"value": "HARD", "isReservationMandatory": True}, "SOFT"],
            "effects": [{"type": "setDiscount", "amount": 3}],
        },
        {
            "id": 5,
            "name": "Campaign cap",
            "trigger": "coupon",
            "redemptionLimit": 1,
            "coupons": ["CAP1", "CAP2"],
            "effects": [{"type": "setDiscount", "amount": 1}],
        },
        {
            "id": 6,
            "name": "VIP only",
            "trigger": "coupon",
            "coupons": ["VIPONLY"],
            "conditions": [{"type": "audienceMember", "audienceId": 1}],
            "effects": [{"type": "setDiscount", "amount": 1}],
        },
    ],
}


@pytest.fixture
def coupons(emulator: EmulatorHandle) -> EmulatorHandle:
    emulator.load_campaigns(CAMPAIGNS)
    return emulator


def reason(client: TalonClient, code: str, profile: str = "bob", session: str = "s") -> str | None:
    state = client.update_customer_session_v2(
        session, {"profileId": profile, "cartItems": [COFFEE], "couponCodes": [code]}
    )
    rejected = props_of(state, "rejectCoupon")
    if rejected:
        return str(rejected[0]["rejectionReason"])
    assert props_of(state, "acceptCoupon") == [{"value": code}]
    return None


@pytest.mark.parametrize(
    ("code", "profile", "expected"),
    [
        ("NOPE", "bob", "CouponNotFound"),
        ("FUTURE", "bob", "CouponStartDateInFuture"),
        ("OLD1", "bob", "CouponExpired"),
        ("MINE", "bob", "CouponRecipientDoesNotMatch"),
        ("MINE", "", "ProfileRequired"),
        ("HARD", "bob", "CouponReservationRequired"),
        ("HARD", "", "ProfileRequired"),
        ("BIGCART", "bob", "CouponRejectedByCondition"),
        ("PAUSED", "bob", "CouponPartOfNotRunningCampaign"),
        ("VIPONLY", "bob", "CouponRejectedByCondition"),
        ("MINE", "alice", None),
        ("SOFT", "bob", None),
        ("ONCE", "bob", None),
    ],
)
def test_rejection_reasons(
    coupons: EmulatorHandle, client: TalonClient, code: str, profile: str, expected: str | None
) -> None:
    assert reason(client, code, profile) == expected


def test_condition_rejection_names_the_condition(
    coupons: EmulatorHandle, client: TalonClient
) -> None:
    state = client.update_customer_session_v2(
        "s", {"cartItems": [COFFEE], "couponCodes": ["BIGCART"]}
    )
    effect = next(e for e in state.raw["effects"] if e["effectType"] == "rejectCoupon")
    assert effect["campaignId"] == 2 and effect["props"]["conditionIndex"] == 0
    state = client.update_customer_session_v2("s", {"cartItems": [COFFEE, GRINDER]})
    assert props_of(state, "acceptCoupon") == [{"value": "BIGCART"}]


def test_usage_limit_counts_closed_sessions_only(
    coupons: EmulatorHandle, client: TalonClient
) -> None:
    assert reason(client, "ONCE", "a", "s1") is None
    assert reason(client, "ONCE", "b", "s2") is None  # s1 is still open: nothing redeemed yet
    client.update_customer_session_v2("s1", {"state": "closed"})
    assert coupons.state()["coupons"]["ONCE"]["usageCounter"] == 1
    assert reason(client, "ONCE", "b", "s2") == "CouponLimitReached"
    client.update_customer_session_v2("s1", {"state": "cancelled"})  # rollback frees the use
    assert reason(client, "ONCE", "b", "s2") is None


def test_profile_limit(coupons: EmulatorHandle, client: TalonClient) -> None:
    client.update_customer_session_v2(
        "s1",
        {"profileId": "p", "cartItems": [COFFEE], "couponCodes": ["PERPROFILE"], "state": "closed"},
    )
    assert reason(client, "PERPROFILE", "p", "s2") == "ProfileLimitReached"
    assert reason(client, "PERPROFILE", "q", "s3") is None


def test_campaign_redemption_limit(coupons: EmulatorHandle, client: TalonClient) -> None:
    client.update_customer_session_v2(
        "s1", {"profileId": "p", "cartItems": [COFFEE], "couponCodes": ["CAP1"], "state": "closed"}
    )
    assert reason(client, "CAP2", "q", "s2") == "CampaignLimitReached"
    client.update_customer_session_v2("s1", {"state": "cancelled"})  # gives the redemption back
    assert reason(client, "CAP2", "q", "s3") is None


def test_audience_condition_passes_after_joining(
    coupons: EmulatorHandle, client: TalonClient
) -> None:
    client.update_customer_profile_audiences(
        [{"action": "add", "profileIntegrationId": "bob", "audienceId": 1}]
    )
    assert reason(client, "VIPONLY", "bob") is None


def test_hard_reservation(coupons: EmulatorHandle, client: TalonClient) -> None:
    coupon = client.create_coupon_reservation("HARD", ["alice"])
    assert coupon.raw["value"] == "HARD" and coupon.raw["isReservationMandatory"] is True
    assert reason(client, "HARD", "alice", "s1") is None
    assert reason(client, "HARD", "bob", "s2") == "CouponReservationRequired"
    customers = client.get_reserved_customers("HARD")
    assert [p["integrationId"] for p in customers.raw["data"]] == ["alice"]
    client.delete_coupon_reservation("HARD", ["alice"])
    assert reason(client, "HARD", "alice", "s3") == "CouponReservationRequired"
    assert client.get_reserved_customers("HARD").raw == {"totalResultSize": 0, "data": []}


def test_soft_reservation_shows_in_inventory_but_anyone_may_redeem(
    coupons: EmulatorHandle, client: TalonClient
) -> None:
    client.create_coupon_reservation("SOFT", ["alice", "carl"])
    assert reason(client, "SOFT", "bob") is None
    inventory = client.get_customer_inventory(
        "alice",
        profile=True,
        coupons=True,
        loyalty=True,
        referrals=True,
        giveaways=True,
        achievements=True,
    )
    by_value = {c["value"]: c for c in inventory.raw["coupons"]}
    assert sorted(by_value) == ["MINE", "SOFT"]  # MINE: alice is its recipient
    coupon = by_value["SOFT"]
    assert coupon["state"] == "active"
    assert coupon["profileRedemptionCount"] == 0
    reserved = client.get_reserved_coupons("alice")
    assert sorted(c["value"] for c in reserved.raw["data"]) == ["MINE", "SOFT"]


def test_inventory_coupon_states(coupons: EmulatorHandle, client: TalonClient) -> None:
    for code in ("FUTURE", "OLD1", "ONCE", "PAUSED"):
        client.create_coupon_reservation(code, ["zed"])
    client.update_customer_session_v2(
        "s1",
        {"profileId": "zed", "cartItems": [COFFEE], "couponCodes": ["ONCE"], "state": "closed"},
    )
    inventory = client.get_customer_inventory("zed", coupons=True)
    states = {
        c["value"]: (c["state"], c["profileRedemptionCount"]) for c in inventory.raw["coupons"]
    }
    assert states == {
        "FUTURE": ("pending", 0),
        "OLD1": ("expired", 0),
        "ONCE": ("used", 1),
        "PAUSED": ("disabled", 0),
    }
    assert client.get_reserved_coupons("zed").raw == {"totalResultSize": 0, "data": []}


def test_reservation_of_unknown_coupon_is_404(coupons: EmulatorHandle, client: TalonClient) -> None:
    with pytest.raises(TalonNotFound):
        client.create_coupon_reservation("MISSING", ["alice"])
    with pytest.raises(TalonNotFound):
        client.get_reserved_customers("MISSING")


def test_codes_with_special_characters_round_trip(
    emulator: EmulatorHandle, client: TalonClient
) -> None:
    emulator.load_campaigns(
        {
            "campaigns": [
                {
                    "id": 1,
                    "name": "Odd",
                    "trigger": "coupon",
                    "coupons": ["SUMMER25%OFF", "A/B C"],
                    "effects": [{"type": "setDiscount", "amount": 1}],
                }
            ]
        }
    )
    for code in ("SUMMER25%OFF", "A/B C"):
        assert client.create_coupon_reservation(code, ["x y"]).raw["value"] == code
        assert client.get_reserved_customers(code).raw["data"][0]["integrationId"] == "x y"


def test_several_codes_of_one_campaign(coupons: EmulatorHandle, client: TalonClient) -> None:
    state = client.update_customer_session_v2(
        "s", {"profileId": "p", "cartItems": [COFFEE], "couponCodes": ["CAP1", "CAP2", "NOPE"]}
    )
    assert types(state).count("acceptCoupon") == 1
    assert {p["rejectionReason"] for p in props_of(state, "rejectCoupon")} == {
        "CouponNotFound",
        "EffectCouldNotBeApplied",  # CAP2: campaign 5 fired with CAP1 (it did trigger)
    }
