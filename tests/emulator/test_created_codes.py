"""Rules that hand out codes: createCoupon, createReferral, reserveCoupon, awardGiveaway.

Each is handed out when its session closes (an open cart only promises a giveaway with
``willAwardGiveaway``), answers its effect and the full object (``createdCoupons``,
``createdReferrals``, ``awardedGiveaways``), and is a real code afterwards: the created
coupon is accepted in the customer's next session, the reservation listed, the giveaway in
the inventory. A cancel rolls none of them back. Every answer is validated against the spec.
"""

from __future__ import annotations

from typing import Any

import pytest

from django_talon.client import TalonClient
from django_talon.emulator.campaign_file import CampaignFileError, parse_campaigns
from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import COFFEE, GRINDER, props_of, types

CAMPAIGNS: dict[str, Any] = {
    "giveawayPools": [{"id": 3, "name": "Partner gift cards", "codes": ["GIFT-1", "GIFT-2"]}],
    "campaigns": [
        {
            "id": 1,
            "name": "Thank-you coupon",
            "trigger": "coupon",
            "effects": [{"type": "setDiscount", "percent": 10}],
        },
        {"id": 2, "name": "Friends", "trigger": "referral", "effects": []},
        {
            "id": 3,
            "name": "VIP",
            "trigger": "coupon",
            "coupons": [{"value": "VIP20", "isReservationMandatory": True}],
            "effects": [{"type": "setDiscount", "amount": 20}],
        },
        {
            "id": 10,
            "name": "Big spender",
            "conditions": [{"type": "subtotalAtLeast", "amount": 50}],
            "effects": [
                {"type": "createCoupon", "couponCampaignId": 1, "pattern": "THX-####"},
                {"type": "createReferral", "referralCampaignId": 2},
                {"type": "reserveCoupon", "couponValue": "VIP20"},
                {"type": "awardGiveaway", "poolId": 3},
            ],
        },
    ],
}

ALL = ["awardedGiveaways", "customerSession"]


@pytest.fixture
def handouts(emulator: EmulatorHandle) -> EmulatorHandle:
    emulator.load_campaigns(CAMPAIGNS)
    return emulator


def _big_cart(client: TalonClient, session: str, profile: str = "ann", **more: Any) -> Any:
    return client.update_customer_session_v2(
        session,
        {"profileId": profile, "cartItems": [GRINDER], **more},
        response_content=ALL,
    )


def test_an_open_session_only_promises(handouts: EmulatorHandle, client: TalonClient) -> None:
    state = _big_cart(client, "s1")
    assert types(state) == ["willAwardGiveaway"]
    assert props_of(state, "willAwardGiveaway") == [
        {"poolId": 3, "poolName": "Partner gift cards", "recipientIntegrationId": "ann"}
    ]
    assert state.raw["createdCoupons"] == [] and state.raw["createdReferrals"] == []
    assert handouts.state()["referrals"] == {}
    dry = client.update_customer_session_v2(
        "s1", {"cartItems": [GRINDER], "state": "closed"}, dry=True
    )
    assert "couponCreated" not in types(dry)  # a dry close hands out nothing


def test_closing_hands_out_every_code(handouts: EmulatorHandle, client: TalonClient) -> None:
    _big_cart(client, "s1")
    state = _big_cart(client, "s1", state="closed")
    assert types(state) == ["couponCreated", "referralCreated", "reserveCoupon", "awardGiveaway"]
    ((created,),) = [props_of(state, "couponCreated")]
    assert created["profileId"] == "ann" and created["value"].startswith("THX-")
    (coupon,) = state.raw["createdCoupons"]
    assert (coupon["value"], coupon["campaignId"], coupon["recipientIntegrationId"]) == (
        created["value"],
        1,
        "ann",
    )
    (referral,) = state.raw["createdReferrals"]
    assert props_of(state, "referralCreated") == [{"value": referral["code"]}]
    assert referral["advocateProfileIntegrationId"] == "ann" and referral["campaignId"] == 2
    assert props_of(state, "reserveCoupon") == [
        {"couponValue": "VIP20", "profileIntegrationId": "ann", "isNewReservation": True}
    ]
    (award,) = props_of(state, "awardGiveaway")
    assert (award["code"], award["poolId"], award["recipientIntegrationId"]) == ("GIFT-1", 3, "ann")
    assert state.raw["awardedGiveaways"][0]["code"] == "GIFT-1"
    # the session keeps them (GET), and they are the customer's
    assert "awardGiveaway" in types(client.get_customer_session("s1").raw["effects"])
    inventory = client.get_customer_inventory("ann", coupons=True, referrals=True, giveaways=True)
    assert {c["value"] for c in inventory.raw["coupons"]} == {created["value"], "VIP20"}
    assert [r["code"] for r in inventory.raw["referrals"]] == [referral["code"]]
    assert [g["code"] for g in inventory.raw["giveaways"]] == ["GIFT-1"]
    assert [p.integration_id for p in client.get_reserved_customers("VIP20").data] == ["ann"]


def test_the_created_coupon_works_next_time_for_its_owner_only(
    handouts: EmulatorHandle, client: TalonClient
) -> None:
    code = props_of(_big_cart(client, "s1", state="closed"), "couponCreated")[0]["value"]
    mine = client.update_customer_session_v2(
        "s2", {"profileId": "ann", "cartItems": [COFFEE], "couponCodes": [code]}
    )
    assert props_of(mine, "acceptCoupon") == [{"value": code}]
    assert props_of(mine, "setDiscount")[0]["value"] == 1.7  # 10 % of 17.00
    theirs = client.update_customer_session_v2(
        "s3", {"profileId": "bob", "cartItems": [COFFEE], "couponCodes": [code]}
    )
    assert props_of(theirs, "rejectCoupon")[0]["rejectionReason"] == "CouponRecipientDoesNotMatch"
    # the reserved VIP20 (reservation mandatory) is accepted for ann now
    vip = client.update_customer_session_v2("s2", {"couponCodes": ["VIP20"]})
    assert props_of(vip, "acceptCoupon") == [{"value": "VIP20"}]


def test_a_second_close_and_the_pool_running_dry(
    handouts: EmulatorHandle, client: TalonClient
) -> None:
    _big_cart(client, "s1", state="closed")
    second = _big_cart(client, "s2", state="closed")
    assert props_of(second, "reserveCoupon")[0]["isNewReservation"] is False
    assert props_of(second, "awardGiveaway")[0]["code"] == "GIFT-2"
    third = _big_cart(client, "s3", state="closed")
    assert "awardGiveaway" not in types(third)  # the pool is empty: nothing awarded
    assert len(handouts.state()["referrals"]) == 3
    again = client.update_customer_session_v2("s3", {"state": "closed"}, response_content=ALL)
    assert again.raw["createdCoupons"] == []  # a repeated close hands out nothing new


def test_cancel_keeps_what_was_handed_out(handouts: EmulatorHandle, client: TalonClient) -> None:
    code = props_of(_big_cart(client, "s1", state="closed"), "couponCreated")[0]["value"]
    cancel = client.update_customer_session_v2("s1", {"state": "cancelled"})
    assert not {"couponCreated", "awardGiveaway"} & set(types(cancel))  # no rollback for them
    assert "couponCreated" in types(client.get_customer_session("s1").raw["effects"])
    assert code in handouts.state()["coupons"]
    inventory = client.get_customer_inventory("ann", giveaways=True)
    assert [g["code"] for g in inventory.raw["giveaways"]] == ["GIFT-1"]


def test_no_customer_no_codes(handouts: EmulatorHandle, client: TalonClient) -> None:
    state = client.update_customer_session_v2("anon", {"cartItems": [GRINDER], "state": "closed"})
    assert types(state) == []
    assert state.raw["createdCoupons"] == []


@pytest.mark.parametrize(
    ("effect", "message"),
    [
        ({"type": "createCoupon", "couponCampaignId": 2}, "couponCampaignId"),
        ({"type": "createCoupon", "couponCampaignId": 1, "pattern": "NOHASH"}, "pattern"),
        ({"type": "createReferral", "referralCampaignId": 1}, "referralCampaignId"),
        ({"type": "reserveCoupon", "couponValue": "NOPE"}, "couponValue"),
        ({"type": "awardGiveaway", "poolId": 9}, "poolId"),
    ],
)
def test_bad_handouts_fail_at_load(effect: dict[str, Any], message: str) -> None:
    data = {
        **CAMPAIGNS,
        "campaigns": [*CAMPAIGNS["campaigns"][:3], {"id": 11, "name": "Bad", "effects": [effect]}],
    }
    with pytest.raises(CampaignFileError, match=message):
        parse_campaigns(data)


def test_bad_pools_fail_at_load() -> None:
    with pytest.raises(CampaignFileError, match="giveawayPools"):
        parse_campaigns({"giveawayPools": [{"id": 1, "codes": ["A", "A"]}], "campaigns": []})


def test_a_v1_close_hands_out_too(handouts: EmulatorHandle, client: TalonClient) -> None:
    """The deprecated v1 sessions share the close: the effects in their positional form."""
    state = client.update_customer_session_v1(
        "v1", {"profileId": "ann", "cartItems": [GRINDER], "state": "closed"}
    )
    names = [effect[3][0] for effect in state.raw["event"]["effects"]]
    assert names == ["couponCreated", "referralCreated", "reserveCoupon", "awardGiveaway"]
    assert state.raw["event"]["effects"][3][3][-1] == "GIFT-1"
