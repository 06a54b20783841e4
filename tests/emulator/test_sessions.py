"""Customer sessions: accumulation, clearing, dry runs, the state machine, redemption, rollback."""

from __future__ import annotations

import pytest

from django_talon.client import TalonBadRequest, TalonClient, TalonNotFound
from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import COFFEE, FILTER, GRINDER, KETTLE, Raw, props_of, types


def test_demo_campaigns_on_a_small_cart(client: TalonClient) -> None:
    state = client.update_customer_session_v2("s1", {"profileId": "alice", "cartItems": [COFFEE]})
    assert types(state) == [
        "setDiscountPerItem",
        "setDiscountPerItem",
        "addLoyaltyPoints",
        "showNotification",
    ]
    assert [p["value"] for p in props_of(state, "setDiscountPerItem")] == [1.0, 1.0]
    assert [p["subPosition"] for p in props_of(state, "setDiscountPerItem")] == [0, 1]
    assert props_of(state, "addLoyaltyPoints")[0]["value"] == 17.0  # floor(17.00)
    note = props_of(state, "showNotification")[0]
    assert note == {
        "notificationType": "Info",
        "title": "Free tote bag",
        "body": "Spend 100 EUR, get a free tote bag",
    }
    assert state.raw["customerSession"]["cartItemTotal"] == 17.0
    assert state.raw["customerProfile"]["integrationId"] == "alice"


def test_free_item_over_threshold_and_welcome_coupon(client: TalonClient) -> None:
    state = client.update_customer_session_v2(
        "s1", {"profileId": "bob", "cartItems": [GRINDER, KETTLE], "couponCodes": ["WELCOME10"]}
    )
    assert "showNotification" not in types(state)
    assert props_of(state, "addFreeItem") == [
        {"sku": "FREE-TOTE", "name": "Canvas tote bag", "desiredQuantity": 1}
    ]
    assert props_of(state, "acceptCoupon") == [{"value": "WELCOME10"}]
    assert props_of(state, "setDiscount") == [{"name": "Welcome 10%", "value": 13.4}]
    accept = next(e for e in state.raw["effects"] if e["effectType"] == "acceptCoupon")
    assert accept["campaignId"] == 1 and accept["triggeredByCoupon"] > 0


def test_unknown_coupon_is_rejected_not_found(client: TalonClient) -> None:
    state = client.update_customer_session_v2(
        "s1", {"cartItems": [COFFEE], "couponCodes": ["NOPE"]}
    )
    assert props_of(state, "rejectCoupon") == [
        {"value": "NOPE", "rejectionReason": "CouponNotFound"}
    ]


def test_updates_accumulate_and_omitted_fields_are_kept(client: TalonClient) -> None:
    client.update_customer_session_v2(
        "s1",
        {
            "profileId": "carol",
            "cartItems": [COFFEE],
            "couponCodes": ["WELCOME10"],
            "attributes": {"channel": "web"},
        },
    )
    state = client.update_customer_session_v2("s1", {"cartItems": [COFFEE, FILTER]})
    session = state.raw["customerSession"]
    assert session["couponCodes"] == ["WELCOME10"]
    assert session["profileId"] == "carol"
    assert session["attributes"] == {"channel": "web"}
    assert session["updateCount"] == 2
    assert "acceptCoupon" in types(state)
    state = client.update_customer_session_v2("s1", {"attributes": {"device": "ios"}})
    assert state.raw["customerSession"]["attributes"] == {"channel": "web", "device": "ios"}
    assert len(state.raw["customerSession"]["cartItems"]) == 2


def test_empty_coupon_list_and_empty_referral_clear(client: TalonClient) -> None:
    referral = client.create_referral(5, "advocate")
    code = referral.raw["code"]
    state = client.update_customer_session_v2(
        "s1",
        {
            "profileId": "friend",
            "cartItems": [COFFEE],
            "couponCodes": ["WELCOME10"],
            "referralCode": code,
        },
    )
    assert {"acceptCoupon", "acceptReferral"} <= set(types(state))
    state = client.update_customer_session_v2("s1", {"couponCodes": []})
    assert state.raw["customerSession"]["couponCodes"] == []
    assert "acceptCoupon" not in types(state) and "acceptReferral" in types(state)
    state = client.update_customer_session_v2("s1", {"referralCode": ""})
    assert state.raw["customerSession"]["referralCode"] == ""
    assert "acceptReferral" not in types(state)


def test_dry_run_changes_nothing(client: TalonClient, emulator: EmulatorHandle) -> None:
    client.update_customer_session_v2("s1", {"profileId": "dave", "cartItems": [COFFEE]})
    before = emulator.state()
    dry = client.update_customer_session_v2(
        "s1",
        {
            "profileId": "dave",
            "cartItems": [GRINDER, KETTLE],
            "couponCodes": ["WELCOME10"],
            "state": "closed",
        },
        dry=True,
    )
    assert "acceptCoupon" in types(dry) and "addFreeItem" in types(dry)
    client.update_customer_session_v2(
        "new-session", {"profileId": "nobody", "cartItems": [COFFEE]}, dry=True
    )
    after = emulator.state()
    assert after == before
    # dry evaluates only the payload: no merge with the stored cart
    dry = client.update_customer_session_v2("s1", {"profileId": "dave"}, dry=True)
    assert dry.raw["customerSession"]["cartItems"] == []


def test_every_dry_operation_changes_nothing(client: TalonClient, emulator: EmulatorHandle) -> None:
    """Not only session updates: returns, v1 updates, profile updates and events, too."""
    client.update_customer_session_v2(
        "s1",
        {
            "profileId": "dee",
            "cartItems": [COFFEE],
            "couponCodes": ["WELCOME10"],
            "state": "closed",
        },
    )
    client.update_customer_session_v2("s2", {"profileId": "dee", "cartItems": [COFFEE]})
    before = emulator.state()
    returned = client.return_cart_items("s1", [{"position": 0, "quantity": 1}], dry=True)
    assert returned.raw["customerSession"]["state"] == "partially_returned"
    assert "rollbackDiscount" in types(returned)
    client.update_customer_session_v1("s2", {"profileId": "dee", "state": "closed"}, dry=True)
    client.update_customer_session_v1("v1-new", {"profileId": "v1-person"}, dry=True)
    client.update_customer_profile_v2(
        "dee",
        {"tier": "gold"},
        audiences_changes={"adds": [], "deletes": []},
        run_rule_engine=True,
        dry=True,
    )
    client.update_customer_profile_v2("new-person", {"tier": "x"}, run_rule_engine=True, dry=True)
    client.update_customer_profile_v1("dee", {"tier": "v1"}, dry=True)
    client.track_event("page_viewed", {}, "s2", "dee", dry=True)
    assert emulator.state() == before


def test_dry_run_at_a_future_time_sees_coupon_expiry(
    client: TalonClient, emulator: EmulatorHandle, raw: Raw
) -> None:
    emulator.load_campaigns(
        {
            "campaigns": [
                {
                    "id": 1,
                    "name": "Ends soon",
                    "trigger": "coupon",
                    "coupons": [{"value": "SOON", "expiryDate": "2999-01-01T00:00:00Z"}],
                    "effects": [{"type": "setDiscount", "amount": 1}],
                }
            ]
        }
    )
    later = client.update_customer_session_v2(
        "s1", {"cartItems": [COFFEE], "couponCodes": ["SOON"]}, dry=True, now="2999-06-01T00:00:00Z"
    )
    assert props_of(later, "rejectCoupon")[0]["rejectionReason"] == "CouponExpired"
    # now= is for dry runs only (the client refuses it itself, so send it raw)
    answer = raw(
        "PUT",
        "/v2/customer_sessions/s1?now=2999-06-01T00:00:00Z",
        json={"customerSession": {"cartItems": [COFFEE]}},
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["source"] == {"parameter": "now"}


def test_closing_redeems_and_cancel_rolls_back(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    client.update_customer_session_v2(
        "s1", {"profileId": "erin", "cartItems": [COFFEE], "couponCodes": ["WELCOME10"]}
    )
    closed = client.update_customer_session_v2("s1", {"state": "closed"})
    assert closed.raw["customerSession"]["state"] == "closed"
    state = emulator.state()
    assert state["coupons"]["WELCOME10"]["usageCounter"] == 1
    profile = state["profiles"]["erin"]
    assert profile["closedSessions"] == 1 and profile["totalSales"] == 17.0
    assert profile["loyalty"] == {"1": 17.0}

    cancelled = client.update_customer_session_v2("s1", {"state": "cancelled"})
    assert types(cancelled) == [
        "rollbackCoupon",
        "rollbackDiscount",
        "rollbackDiscount",
        "rollbackDiscount",
        "rollbackAddedLoyaltyPoints",
    ]
    assert props_of(cancelled, "rollbackCoupon") == [{"value": "WELCOME10"}]
    state = emulator.state()
    assert state["coupons"]["WELCOME10"]["usageCounter"] == 0
    assert state["profiles"]["erin"]["closedSessions"] == 0
    assert state["profiles"]["erin"]["totalSales"] == 0.0
    assert state["profiles"]["erin"]["loyalty"] == {"1": 0.0}
    assert state["sessions"]["s1"]["state"] == "cancelled"


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("closed", "open"),
        ("cancelled", "open"),
        ("cancelled", "closed"),
        ("open", "partially_returned"),
        ("closed", "partially_returned"),
    ],
)
def test_illegal_state_moves_answer_400(client: TalonClient, start: str, target: str) -> None:
    client.update_customer_session_v2("s1", {"cartItems": [COFFEE]})
    if start in ("closed", "cancelled"):
        client.update_customer_session_v2("s1", {"state": "closed"})
    if start == "cancelled":
        client.update_customer_session_v2("s1", {"state": "cancelled"})
    with pytest.raises(TalonBadRequest) as info:
        client.update_customer_session_v2("s1", {"state": target})
    assert info.value.status == 400
    assert info.value.errors[0]["source"] == {"pointer": "/customerSession/state"}


def test_new_session_cannot_start_cancelled(client: TalonClient) -> None:
    with pytest.raises(TalonBadRequest):
        client.update_customer_session_v2("s1", {"state": "cancelled"})
    state = client.update_customer_session_v2("s2", {"cartItems": [COFFEE], "state": "closed"})
    assert state.raw["customerSession"]["state"] == "closed"


def test_repeating_the_current_state_is_a_no_op(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    client.update_customer_session_v2("s1", {"profileId": "f", "cartItems": [COFFEE]})
    first = client.update_customer_session_v2("s1", {"state": "closed"})
    again = client.update_customer_session_v2("s1", {"state": "closed"})
    assert again.raw["effects"] == first.raw["effects"]
    assert emulator.state()["profiles"]["f"]["closedSessions"] == 1


def test_open_session_cancel_has_no_rollbacks(client: TalonClient) -> None:
    client.update_customer_session_v2("s1", {"cartItems": [COFFEE], "couponCodes": ["WELCOME10"]})
    state = client.update_customer_session_v2("s1", {"state": "cancelled"})
    assert state.raw["effects"] == []


def test_reopen_rolls_back_and_allows_changes(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    client.update_customer_session_v2(
        "s1",
        {
            "profileId": "gina",
            "cartItems": [COFFEE],
            "couponCodes": ["WELCOME10"],
            "state": "closed",
        },
    )
    reopened = client.reopen_customer_session("s1")
    assert "rollbackCoupon" in types(reopened.raw["effects"])
    state = emulator.state()
    assert state["sessions"]["s1"]["state"] == "open"
    assert state["coupons"]["WELCOME10"]["usageCounter"] == 0
    assert state["profiles"]["gina"]["closedSessions"] == 0
    client.update_customer_session_v2("s1", {"cartItems": [COFFEE, FILTER], "state": "closed"})
    assert emulator.state()["profiles"]["gina"]["totalSales"] == 41.0
    client.update_customer_session_v2("s2", {"cartItems": [COFFEE]})
    with pytest.raises(TalonBadRequest):
        client.reopen_customer_session("s2")  # only closed sessions reopen


def test_returns_move_to_partially_returned_and_roll_back_items(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    client.update_customer_session_v2(
        "s1", {"profileId": "hank", "cartItems": [COFFEE, GRINDER], "state": "closed"}
    )
    with pytest.raises(TalonBadRequest):
        client.return_cart_items("s1", [{"position": 0, "quantity": 3}])
    result = client.return_cart_items("s1", [{"position": 0, "quantity": 1}], idempotency_key="r-1")
    assert result.raw["customerSession"]["state"] == "partially_returned"
    assert result.raw["return"]["returnedCartItems"] == [
        {"position": 0, "quantity": 1, "sku": "ESPRESSO-250"}
    ]
    rollbacks = [e for e in result.raw["effects"] if e["effectType"] == "rollbackDiscount"]
    assert [r["props"]["cartItemSubPosition"] for r in rollbacks] == [1]
    assert "rollbackAddedLoyaltyPoints" in types(result)
    assert emulator.state()["profiles"]["hank"]["totalSales"] == 97.5
    replay = client.return_cart_items("s1", [{"position": 0, "quantity": 1}], idempotency_key="r-1")
    assert replay.raw == result.raw
    assert emulator.state()["profiles"]["hank"]["totalSales"] == 97.5
    cancelled = client.update_customer_session_v2("s1", {"state": "cancelled"})
    assert "rollbackCoupon" not in types(cancelled)
    assert emulator.state()["profiles"]["hank"]["totalSales"] == 0.0
    with pytest.raises(TalonBadRequest):
        client.return_cart_items("s1", [{"position": 1, "quantity": 1}])


def test_returns_need_a_closed_session(client: TalonClient) -> None:
    client.update_customer_session_v2("s1", {"cartItems": [COFFEE]})
    with pytest.raises(TalonBadRequest):
        client.return_cart_items("s1", [{"position": 0, "quantity": 1}])
    with pytest.raises(TalonNotFound):
        client.return_cart_items("missing", [{"position": 0, "quantity": 1}])


def test_get_session_returns_stored_effects(client: TalonClient) -> None:
    client.update_customer_session_v2("s1", {"cartItems": [COFFEE], "couponCodes": ["WELCOME10"]})
    read = client.get_customer_session("s1")
    assert "acceptCoupon" in types(read.raw["effects"])
    assert read.raw["customerSession"]["integrationId"] == "s1"
    with pytest.raises(TalonNotFound):
        client.get_customer_session("missing")


def test_first_session_flag(client: TalonClient) -> None:
    first = client.update_customer_session_v2("s1", {"profileId": "ivy", "cartItems": [COFFEE]})
    assert first.raw["customerSession"]["firstSession"] is True
    second = client.update_customer_session_v2("s2", {"profileId": "ivy", "cartItems": [COFFEE]})
    assert second.raw["customerSession"]["firstSession"] is False
    anonymous = client.update_customer_session_v2("s3", {"profileId": "", "cartItems": [COFFEE]})
    assert anonymous.raw["customerSession"]["firstSession"] is True
    assert "customerProfile" not in anonymous.raw


def test_response_content_selects_extra_parts(client: TalonClient) -> None:
    state = client.update_customer_session_v2(
        "s1",
        {"profileId": "jo", "cartItems": [COFFEE], "couponCodes": ["WELCOME10"]},
        response_content=[
            "customerSession",
            "coupons",
            "triggeredCampaigns",
            "loyalty",
            "event",
            "ruleFailureReasons",
            "awardedGiveaways",
            "previousReturns",
        ],
    )
    raw = state.raw
    assert "customerProfile" not in raw
    assert raw["coupons"][0]["value"] == "WELCOME10"
    # 9 (pay with points) has no condition: it triggers, and deducts nothing unasked
    assert [c["id"] for c in raw["triggeredCampaigns"]] == [1, 4, 6, 7, 9]
    assert raw["loyalty"]["programs"]["1"]["ledger"]["tentativeCurrentBalance"] == 17.0
    assert raw["event"]["type"] == "talon_session_updated"
    assert {r["campaignID"] for r in raw["ruleFailureReasons"]} == {2, 3, 5, 8}  # 8: < 50


def test_dry_run_on_a_closed_session(client: TalonClient, emulator: EmulatorHandle) -> None:
    client.update_customer_session_v2(
        "s1",
        {
            "profileId": "kim",
            "cartItems": [COFFEE],
            "couponCodes": ["WELCOME10"],
            "state": "closed",
        },
    )
    before = emulator.state()
    same = client.update_customer_session_v2("s1", {"state": "closed"}, dry=True)
    assert same.raw["customerSession"]["cartItems"][0]["sku"] == "ESPRESSO-250"
    cancel = client.update_customer_session_v2("s1", {"state": "cancelled"}, dry=True)
    assert "rollbackCoupon" in types(cancel)
    assert cancel.raw["customerSession"]["state"] == "cancelled"
    assert emulator.state() == before


# start state -> move -> state afterwards, or None for "400, nothing changes" (spec/TALON_API.md
# 3.2: open->closed/cancelled, closed->cancelled, closed->partially_returned via /returns only,
# closed->open via /reopen only, partially_returned->cancelled; repeating a state is a no-op).
STATE_MACHINE: dict[str, dict[str, str | None]] = {
    "open": {
        "open": "open",
        "closed": "closed",
        "cancelled": "cancelled",
        "partially_returned": None,
        "REOPEN": None,
        "RETURN": None,
    },
    "closed": {
        "open": None,
        "closed": "closed",
        "cancelled": "cancelled",
        "partially_returned": None,
        "REOPEN": "open",
        "RETURN": "partially_returned",
    },
    "cancelled": {
        "open": None,
        "closed": None,
        "cancelled": "cancelled",
        "partially_returned": None,
        "REOPEN": None,
        "RETURN": None,
    },
    "partially_returned": {
        "open": None,
        "closed": None,
        "cancelled": "cancelled",
        "partially_returned": "partially_returned",
        "REOPEN": None,
        "RETURN": "partially_returned",
    },
}


@pytest.mark.parametrize("start", sorted(STATE_MACHINE))
def test_every_state_and_move(client: TalonClient, start: str) -> None:
    three_coffees = {**COFFEE, "quantity": 3}
    for move, expected in STATE_MACHINE[start].items():
        sid = f"{start}-{move}"
        client.update_customer_session_v2(sid, {"cartItems": [three_coffees]})
        if start != "open":
            client.update_customer_session_v2(sid, {"state": "closed"})
        if start == "cancelled":
            client.update_customer_session_v2(sid, {"state": "cancelled"})
        if start == "partially_returned":
            client.return_cart_items(sid, [{"position": 0, "quantity": 1}])

        def act(sid: str = sid, move: str = move) -> object:
            if move == "REOPEN":
                return client.reopen_customer_session(sid)
            if move == "RETURN":
                return client.return_cart_items(sid, [{"position": 0, "quantity": 1}])
            return client.update_customer_session_v2(sid, {"state": move})

        if expected is None:
            with pytest.raises(TalonBadRequest):
                act()
            expected = start
        else:
            act()
        session = client.get_customer_session(sid).customer_session
        assert session is not None
        assert (move, session.state) == (move, expected)
