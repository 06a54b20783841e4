"""Custom events v2/v3 and referrals for many advocates in the emulator (issue 15): rules on
the event type and its attributes produce effects, v3 events are registered once and read
back, dry runs store nothing. Over HTTP, answers validated against the spec."""

from __future__ import annotations

from typing import Any

import pytest

from django_talon.client import TalonBadRequest, TalonClient, TalonConflict, TalonNotFound
from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import COFFEE, Raw, props_of

REVIEW_CAMPAIGNS: dict[str, Any] = {
    "campaigns": [
        {
            "id": 1,
            "name": "Thanks for the review",
            "events": ["review_written"],
            "effects": [{"type": "showNotification", "body": "Thanks!"}],
        },
        {
            "id": 2,
            "name": "Five stars",
            "events": ["review_written"],
            "conditions": [{"type": "eventAttributeEquals", "attribute": "stars", "value": 5}],
            "effects": [{"type": "showNotification", "body": "Five stars!"}],
        },
        {
            "id": 3,
            "name": "Big order review",
            "events": ["review_written"],
            "conditions": [{"type": "subtotalAtLeast", "amount": 10}],
            "effects": [{"type": "showNotification", "body": "Big order"}],
        },
        {"id": 4, "name": "Cart", "effects": [{"type": "showNotification", "body": "cart"}]},
    ]
}


def bodies(result: Any) -> list[str]:
    return [p["body"] for p in props_of(result.raw["effects"], "showNotification")]


def test_rules_on_event_type_and_attributes(client: TalonClient, emulator: EmulatorHandle) -> None:
    emulator.load_campaigns(REVIEW_CAMPAIGNS)
    four = client.track_event_v2("review_written", "ada", {"stars": 4})
    assert bodies(four) == ["Thanks!"]
    five = client.track_event_v2(
        "review_written",
        "ada",
        {"stars": 5},
        response_content=["customerProfile", "triggeredCampaigns", "event", "ruleFailureReasons"],
    )
    assert bodies(five) == ["Thanks!", "Five stars!"]
    assert five.customer_profile is not None and five.customer_profile.integration_id == "ada"
    assert [c["id"] for c in five.triggered_campaigns] == [1, 2]
    assert five.event is not None and five.event["type"] == "review_written"
    assert [r["campaignID"] for r in five.rule_failure_reasons] == [3]
    assert client.track_event_v2("unrelated", "ada").effects == []
    assert "ada" in emulator.state()["profiles"]  # created by the event
    logged = [e["type"] for e in emulator.state()["events"]]
    assert logged.count("review_written") == 2


def test_silent_dry_and_evaluable_campaigns(client: TalonClient, emulator: EmulatorHandle) -> None:
    emulator.load_campaigns(REVIEW_CAMPAIGNS)
    silent = client.track_event_v2("review_written", "bob", silent=True)
    assert silent.raw == {} and silent.effects == []
    assert "bob" in emulator.state()["profiles"]
    events_before = len(emulator.state()["events"])
    dry = client.track_event_v2(
        "review_written", "carl", {"stars": 5}, dry=True, evaluable_campaign_ids=[2]
    )
    assert bodies(dry) == ["Five stars!"]
    assert "carl" not in emulator.state()["profiles"]
    assert len(emulator.state()["events"]) == events_before


def test_built_in_types_and_missing_profile_are_refused(raw: Raw) -> None:
    for body in (
        {"type": "talon_session_updated", "profileId": "a"},
        {"type": "review_written"},
        {"type": "", "profileId": "a"},
        {"type": "x", "profileId": "a", "responseContent": ["coupons"]},
    ):
        assert raw("POST", "/v2/events?silent=no", json=body).status_code == 400, body
    assert (
        raw("POST", "/v2/events?silent=maybe", json={"type": "x", "profileId": "a"}).status_code
        == 400
    )


def test_v3_events_are_registered_once_and_read_back(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    emulator.load_campaigns(REVIEW_CAMPAIGNS)
    tracked = client.track_event_v3(
        "review-1",
        "review_written",
        "ada",
        {"stars": 5},
        response_content=["advancedEvent", "customerProfile"],
    )
    assert bodies(tracked) == ["Thanks!", "Five stars!"]
    assert tracked.advanced_event is not None
    assert tracked.advanced_event.integration_id == "review-1"
    event = client.get_event_v3("review-1")
    assert event.type == "review_written" and event.profile_id == "ada"
    assert event.attributes == {"stars": 5} and len(event.effects) == 2
    with pytest.raises(TalonConflict):
        client.track_event_v3("review-1", "review_written", "ada")
    dry = client.track_event_v3("review-2", "review_written", "ada", dry=True)
    assert len(dry.effects) == 1
    with pytest.raises(TalonNotFound):
        client.get_event_v3("review-2")  # dry: not registered


def test_v3_events_see_the_connected_closed_session(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    emulator.load_campaigns(REVIEW_CAMPAIGNS)
    client.update_customer_session_v2("order-1", {"profileId": "ada", "cartItems": [COFFEE]})
    with pytest.raises(TalonBadRequest):  # still open
        client.track_event_v3("r1", "review_written", "ada", connected_session_id="order-1")
    client.update_customer_session_v2("order-1", {"state": "closed"})
    linked = client.track_event_v3("r1", "review_written", "ada", connected_session_id="order-1")
    assert bodies(linked) == ["Thanks!", "Big order"]
    assert client.get_event_v3("r1").connected_session_id == "order-1"
    with pytest.raises(TalonBadRequest):
        client.track_event_v3("r2", "review_written", "ada", connected_session_id="nope")


def test_erasing_a_profile_erases_its_v3_events(client: TalonClient) -> None:
    client.track_event_v3("e1", "review_written", "ada")
    client.delete_customer_data("ada")
    with pytest.raises(TalonNotFound):
        client.get_event_v3("e1")


def test_referrals_for_many_advocates(client: TalonClient, emulator: EmulatorHandle) -> None:
    batch = client.create_referrals_for_multiple_advocates(
        5, ["adam", "beth"], usage_limit=2, referral_pattern="FRIEND-###", attributes={"k": 1}
    )
    assert batch.total_result_size == 2
    assert [r.advocate_profile_integration_id for r in batch.data] == ["adam", "beth"]
    codes = [r.code for r in batch.data]
    assert all(c.startswith("FRIEND-") and len(c) == 10 for c in codes) and len(set(codes)) == 2
    assert all(r.usage_limit == 2 and r.attributes == {"k": 1} for r in batch.data)
    state = client.update_customer_session_v2(
        "s", {"profileId": "carl", "cartItems": [COFFEE], "referralCode": codes[0]}
    )
    assert props_of(state, "acceptReferral") == [{"value": codes[0]}]
    silent = client.create_referrals_for_multiple_advocates(5, ["dora"], silent=True)
    assert silent.data == [] and silent.raw == {}
    assert len(emulator.state()["referrals"]) == 3
    digits = client.create_referrals_for_multiple_advocates(
        5, ["ed"], referral_pattern="####", valid_characters=list("01")
    )
    assert set(digits.data[0].code) <= {"0", "1"}
    with pytest.raises(TalonBadRequest):  # campaign 1 is a coupon campaign
        client.create_referrals_for_multiple_advocates(1, ["x"])


def test_referral_batches_refuse_bad_requests(raw: Raw, emulator: EmulatorHandle) -> None:
    path = "/v1/referrals_for_multiple_advocates?silent=no"
    for body in (
        {"campaignId": 5, "advocateProfileIntegrationIds": []},
        {"campaignId": 5},
        {"campaignId": 5, "advocateProfileIntegrationIds": ["a"], "referralPattern": "ABCD"},
        {"campaignId": 5, "advocateProfileIntegrationIds": ["a"], "validCharacters": []},
        {"campaignId": 5, "advocateProfileIntegrationIds": ["a"], "referralPattern": "###"},
    ):
        assert raw("POST", path, json=body).status_code == 400, body
    assert emulator.state()["referrals"] == {}


def test_dry_profile_updates_evaluate_only_the_chosen_campaigns(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    emulator.load_campaigns(
        [
            {
                "id": n,
                "name": f"Profile note {n}",
                "events": ["talon_profile_updated"],
                "effects": [{"type": "showNotification", "body": f"note {n}"}],
            }
            for n in (1, 2)
        ]
    )
    every = client.update_customer_profile_v2("ada", run_rule_engine=True, dry=True)
    assert bodies(every) == ["note 1", "note 2"]
    chosen = client.update_customer_profile_v2(
        "ada", run_rule_engine=True, dry=True, evaluable_campaign_ids=[2]
    )
    assert bodies(chosen) == ["note 2"]
    session = client.update_customer_session_v2(
        "s", {"cartItems": [COFFEE]}, dry=True, evaluable_campaign_ids=[2]
    )
    assert session.effects == []  # the chosen campaign listens to profile updates only
