"""Referrals, profiles, audiences, loyalty, search, inventory and customer-data erasure."""

from __future__ import annotations

import time

import pytest

from django_talon.client import TalonBadRequest, TalonClient, TalonNotFound
from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import COFFEE, props_of


def referral_reason(client: TalonClient, code: str, profile: str, session: str = "s") -> str | None:
    state = client.update_customer_session_v2(
        session, {"profileId": profile, "cartItems": [COFFEE], "referralCode": code}
    )
    rejected = props_of(state, "rejectReferral")
    if rejected:
        return str(rejected[0]["rejectionReason"])
    assert props_of(state, "acceptReferral") == [{"value": code}]
    assert {"name": "Refer a friend", "value": 5.0} in props_of(state, "setDiscount")
    return None


def test_referral_create_accept_and_redeem(client: TalonClient, emulator: EmulatorHandle) -> None:
    referral = client.create_referral(5, "adam", usage_limit=1, attributes={"src": "mail"})
    raw = referral.raw
    assert raw["campaignId"] == 5 and raw["advocateProfileIntegrationId"] == "adam"
    assert len(raw["code"]) >= 4 and raw["usageCounter"] == 0
    code = raw["code"]
    assert referral_reason(client, code, "adam") == "ReferralRecipientIdSameAsAdvocate"
    assert referral_reason(client, code, "") == "ProfileRequired"
    assert referral_reason(client, code, "beth", "s1") is None
    client.update_customer_session_v2("s1", {"state": "closed"})
    assert referral_reason(client, code, "carl", "s2") == "ReferralLimitReached"
    inventory = client.get_customer_inventory("adam", referrals=True)
    assert inventory.raw["referrals"][0]["referredCustomers"] == ["beth"]
    assert inventory.raw["referrals"][0]["usageCounter"] == 1


def test_referral_rejection_reasons(client: TalonClient) -> None:
    assert referral_reason(client, "NOPE-1234", "x") == "ReferralNotFound"
    future = client.create_referral(5, "a1", start_date="2999-01-01T00:00:00Z").raw["code"]
    assert referral_reason(client, future, "x") == "ReferralStartDateInFuture"
    old = client.create_referral(5, "a2", expiry_date="2000-01-01T00:00:00Z").raw["code"]
    assert referral_reason(client, old, "x") == "ReferralExpired"
    personal = client.create_referral(5, "a3", friend_profile_integration_id="fran").raw["code"]
    assert referral_reason(client, personal, "x") == "ReferralRecipientDoesNotMatch"
    assert referral_reason(client, personal, "fran") is None
    first = client.create_referral(5, "a4").raw["code"]
    second = client.create_referral(5, "a5").raw["code"]
    client.update_customer_session_v2(
        "closed-one",
        {"profileId": "gus", "cartItems": [COFFEE], "referralCode": first, "state": "closed"},
    )
    assert referral_reason(client, second, "gus", "s9") == "ReferralCustomerAlreadyReferred"


def test_referral_for_a_non_referral_campaign_is_400(client: TalonClient) -> None:
    with pytest.raises(TalonBadRequest) as info:
        client.create_referral(1, "adam")
    assert info.value.errors[0]["source"] == {"pointer": "/campaignId"}


def test_profile_update_audiences_and_rule_engine(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    result = client.update_customer_profile_v2(
        "pat", {"name": "Pat", "tier": "gold"}, audiences_changes={"adds": [1, 2], "deletes": []}
    )
    profile = result.raw["customerProfile"]
    assert profile["attributes"] == {"name": "Pat", "tier": "gold"}
    assert [a["id"] for a in profile["audienceMemberships"]] == [1, 2]
    assert result.raw["effects"] == []
    result = client.update_customer_profile_v2(
        "pat",
        {"tier": "silver"},
        audiences_changes={"adds": [], "deletes": [2]},
        run_rule_engine=True,
        response_content=["customerProfile", "loyalty", "triggeredCampaigns", "ruleFailureReasons"],
    )
    assert result.raw["customerProfile"]["attributes"] == {"name": "Pat", "tier": "silver"}
    assert [a["name"] for a in result.raw["customerProfile"]["audienceMemberships"]] == [
        "VIP customers"
    ]
    dry = client.update_customer_profile_v2("pat", {"tier": "x"}, run_rule_engine=True, dry=True)
    assert dry.raw["customerProfile"]["attributes"]["tier"] == "x"
    assert emulator.state()["profiles"]["pat"]["attributes"]["tier"] == "silver"
    with pytest.raises(TalonBadRequest):
        client.update_customer_profile_v2("pat", audiences_changes={"adds": [99], "deletes": []})


def test_profile_attribute_condition(client: TalonClient, emulator: EmulatorHandle) -> None:
    emulator.load_campaigns(
        {
            "campaigns": [
                {
                    "id": 1,
                    "name": "Gold",
                    "conditions": [
                        {"type": "profileAttributeEquals", "attribute": "tier", "value": "gold"}
                    ],
                    "effects": [{"type": "setDiscount", "percent": 50}],
                }
            ]
        }
    )
    client.update_customer_profile_v2("pat", {"tier": "gold"})
    state = client.update_customer_session_v2("s", {"profileId": "pat", "cartItems": [COFFEE]})
    assert props_of(state, "setDiscount") == [{"name": "Gold", "value": 8.5}]


def test_bulk_profiles_silent_and_verbose(client: TalonClient, emulator: EmulatorHandle) -> None:
    client.update_customer_profiles_v2(
        [{"integrationId": f"u{i}", "attributes": {"n": i}} for i in range(3)]
    )
    assert sorted(emulator.state()["profiles"]) == ["u0", "u1", "u2"]
    result = client.update_customer_profiles_v2(
        [{"integrationId": "u1", "attributes": {"m": 1}}], silent=False
    )
    assert result is not None


def test_audience_actions(client: TalonClient, emulator: EmulatorHandle) -> None:
    client.update_customer_profile_audiences(
        [
            {"action": "add", "profileIntegrationId": "new-one", "audienceId": 1},
            {"action": "add", "profileIntegrationId": "new-one", "audienceId": 2},
            {"action": "delete", "profileIntegrationId": "new-one", "audienceId": 1},
        ]
    )
    assert [a["id"] for a in emulator.state()["profiles"]["new-one"]["audienceMemberships"]] == [2]
    with pytest.raises(TalonNotFound):
        client.update_customer_profile_audiences(
            [{"action": "add", "profileIntegrationId": "x", "audienceId": 42}]
        )


def test_search_by_attributes(client: TalonClient) -> None:
    client.update_customer_profile_v2("a", {"email": "a@example.com", "city": "Berlin"})
    client.update_customer_profile_v2("b", {"email": "b@example.com", "city": "Berlin"})
    found = client.get_customer_profiles_by_attributes({"city": "Berlin"})
    assert sorted(p["integrationId"] for p in found.raw["data"]) == ["a", "b"]
    found = client.get_customer_profiles_by_attributes({"email": "a@example.com", "city": "Berlin"})
    assert found.raw["totalResultSize"] == 1


def test_loyalty_balance_after_close(client: TalonClient) -> None:
    client.update_customer_session_v2(
        "s", {"profileId": "lo", "cartItems": [COFFEE], "state": "closed"}
    )
    inventory = client.get_customer_inventory("lo", loyalty=True, profile=True)
    assert inventory.raw["loyalty"]["programs"]["1"]["ledger"]["currentBalance"] == 17.0
    assert inventory.raw["profile"]["closedSessions"] == 1


def test_customer_data_deletion_removes_everything(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    code = client.create_referral(5, "gone").raw["code"]
    client.update_customer_session_v2(
        "s1", {"profileId": "gone", "cartItems": [COFFEE], "state": "closed"}
    )
    client.update_customer_session_v2(
        "s2", {"profileId": "friend", "cartItems": [COFFEE], "referralCode": code}
    )
    client.create_coupon_reservation("VIP20", ["gone", "stay"])
    client.update_customer_profile_v2("gone", {"email": "gone@example.com"})
    client.delete_customer_data("gone")
    state = emulator.state()
    assert "gone" not in state["profiles"]
    assert "s1" not in state["sessions"] and "s2" in state["sessions"]
    assert state["coupons"]["VIP20"]["reservedFor"] == ["stay"]
    assert state["referrals"] == {}
    assert "gone@example.com" not in str(state)
    with pytest.raises(TalonNotFound):
        client.get_customer_inventory("gone", profile=True)
    with pytest.raises(TalonNotFound):
        client.delete_customer_data("gone")
    assert (
        client.get_customer_profiles_by_attributes({"email": "gone@example.com"}).raw["data"] == []
    )


def test_batched_bulk_profile_helper(client: TalonClient, emulator: EmulatorHandle) -> None:
    profiles = [{"integrationId": f"b{i}", "attributes": {"i": i}} for i in range(2500)]
    client.update_customer_profiles_v2_batched(profiles)
    calls = emulator.requests("/v2/customer_profiles")
    assert [len(c["body"]["customerProfiles"]) for c in calls] == [1000, 1000, 500]
    assert len(emulator.state()["profiles"]) == 2500


def test_referral_rejected_by_condition_and_by_a_paused_campaign(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    emulator.load_campaigns(
        [
            {
                "id": 5,
                "name": "Big first orders",
                "trigger": "referral",
                "conditions": [{"type": "subtotalAtLeast", "amount": 50}],
                "effects": [{"type": "setDiscount", "name": "Refer a friend", "amount": 5.0}],
            },
            {
                "id": 8,
                "name": "Paused referrals",
                "trigger": "referral",
                "state": "disabled",
                "effects": [{"type": "setDiscount", "amount": 1}],
            },
        ]
    )
    code = client.create_referral(5, "adv").raw["code"]
    state = client.update_customer_session_v2(
        "small", {"profileId": "f1", "cartItems": [COFFEE], "referralCode": code}
    )
    assert props_of(state, "rejectReferral") == [
        {"value": code, "rejectionReason": "ReferralRejectedByCondition", "conditionIndex": 0}
    ]
    paused = client.create_referral(8, "adv").raw["code"]
    assert referral_reason(client, paused, "f2", "paused") == "ReferralPartOfNotRunningCampaign"


@pytest.mark.parametrize(
    "flag", ["profile", "referrals", "coupons", "loyalty", "giveaways", "achievements"]
)
def test_each_inventory_flag_adds_exactly_its_part(client: TalonClient, flag: str) -> None:
    client.update_customer_profile_v2("inv", {"name": "Inv"})
    assert client.get_customer_inventory("inv").raw == {}
    answer = client.get_customer_inventory("inv", **{flag: True}).raw
    assert list(answer) == [flag]


def test_last_activity_moves_with_sessions_and_profile_updates(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    def last_activity() -> str:
        return str(emulator.state()["profiles"]["act"]["lastActivity"])

    created = client.update_customer_profile_v2("act", {"name": "Act"})
    first = last_activity()
    assert created.raw["customerProfile"]["lastActivity"] == first
    time.sleep(0.002)  # timestamps have millisecond resolution
    client.update_customer_session_v2("act-s", {"profileId": "act", "cartItems": [COFFEE]})
    second = last_activity()
    assert second > first  # RFC 3339 UTC strings of one format sort by time
    time.sleep(0.002)
    client.update_customer_profile_v2("act", {"name": "Act 2"})
    assert last_activity() > second


@pytest.mark.parametrize("undo", ["cancel", "reopen"])
def test_undoing_a_closed_session_gives_the_referral_back(client: TalonClient, undo: str) -> None:
    code = client.create_referral(5, "adv", usage_limit=1).raw["code"]
    client.update_customer_session_v2(
        "s1", {"profileId": "friend", "cartItems": [COFFEE], "referralCode": code}
    )
    client.update_customer_session_v2("s1", {"state": "closed"})
    used = client.get_customer_inventory("adv", referrals=True).raw["referrals"][0]
    assert (used["usageCounter"], used["referredCustomers"]) == (1, ["friend"])
    assert referral_reason(client, code, "other", "s2") == "ReferralLimitReached"
    if undo == "cancel":
        rolled = client.update_customer_session_v2("s1", {"state": "cancelled"}).raw["effects"]
    else:
        rolled = client.reopen_customer_session("s1").raw["effects"]
    assert {"value": code} in props_of(rolled, "rollbackReferral")
    freed = client.get_customer_inventory("adv", referrals=True).raw["referrals"][0]
    assert (freed["usageCounter"], freed["referredCustomers"]) == (0, [])
    assert referral_reason(client, code, "other", "s3") is None
