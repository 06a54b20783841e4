"""Behaviours the official spec's text describes (issue 10): what a session reports after a
cancel, a reopen and a return, updates of closed sessions, ``now=`` and a profile's ``dry``.

Every answer is validated against the spec by the ``emulator`` fixture, errors included.
"""

from __future__ import annotations

from typing import Any

import pytest

from django_talon.client import TalonBadRequest, TalonClient
from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import COFFEE, GRINDER, Raw, props_of, types

ROLLBACKS = {
    "rollbackCoupon",
    "rollbackReferral",
    "rollbackDiscount",
    "rollbackAddedLoyaltyPoints",
    "rollbackDeductedLoyaltyPoints",
}
#: what closing redeems and cancel/reopen roll back in the emulator's campaigns
REDEEMED = {
    "acceptCoupon",
    "acceptReferral",
    "setDiscount",
    "setDiscountPerItem",
    "addLoyaltyPoints",
}


def close_small_order(client: TalonClient, session_id: str = "s1") -> list[str]:
    """17.00 of coffee with WELCOME10, closed; the effect types at close."""
    closed = client.update_customer_session_v2(
        session_id,
        {
            "profileId": "pat",
            "cartItems": [COFFEE],
            "couponCodes": ["WELCOME10"],
            "state": "closed",
        },
    )
    return types(closed)


def session_effects(client: TalonClient, session_id: str = "s1") -> list[dict[str, Any]]:
    effects: list[dict[str, Any]] = client.get_customer_session(session_id).raw["effects"]
    return effects


# -- 1. GET after cancel / reopen: only the effects still valid after the rollbacks ----------


def test_get_after_cancel_reports_only_effects_the_rollbacks_left(client: TalonClient) -> None:
    at_close = close_small_order(client)
    assert REDEEMED - {"acceptReferral"} <= set(at_close)
    assert "showNotification" in at_close
    cancelled = client.update_customer_session_v2("s1", {"state": "cancelled"})
    # the cancel's own answer is the rollbacks (what it undid) ...
    assert set(types(cancelled)) <= ROLLBACKS and "rollbackCoupon" in types(cancelled)
    # ... while the session reports what is still valid: not what was rolled back, and not
    # the rollbacks either (the spec: rollback effects "and their corresponding non-rollback
    # effects are removed")
    after = types(session_effects(client))
    assert after == ["showNotification"]


def test_get_after_reopen_reports_only_effects_the_rollbacks_left(client: TalonClient) -> None:
    close_small_order(client)
    reopened = client.reopen_customer_session("s1")
    assert "rollbackCoupon" in types(reopened.raw["effects"])
    assert types(session_effects(client)) == ["showNotification"]


def test_cancel_of_a_returned_session_leaves_no_redeemed_effect(client: TalonClient) -> None:
    close_small_order(client)
    client.return_cart_items("s1", [{"position": 0, "quantity": 1}])
    client.update_customer_session_v2("s1", {"state": "cancelled"})
    assert not set(types(session_effects(client))) & (REDEEMED | ROLLBACKS)


# -- 2. returns update the session's effects -----------------------------------------------


def test_a_return_updates_the_effects_the_session_reports(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    client.update_customer_session_v2(
        "s1",
        {
            "profileId": "ray",
            "cartItems": [COFFEE, GRINDER],  # 17.00 + 89.00
            "couponCodes": ["WELCOME10"],
            "state": "closed",
        },
    )
    before = session_effects(client)
    assert props_of(before, "setDiscount") == [{"name": "Welcome 10%", "value": 10.6}]
    assert [p["subPosition"] for p in props_of(before, "setDiscountPerItem")] == [0, 1]
    assert props_of(before, "addLoyaltyPoints")[0]["value"] == 106.0

    returned = client.return_cart_items("s1", [{"position": 0, "quantity": 1}])  # 8.50 back
    cart_rollback = [
        p for p in props_of(returned, "rollbackDiscount") if "cartItemPosition" not in p
    ]
    assert cart_rollback == [{"name": "Welcome 10%", "value": 0.85}]
    points_back = props_of(returned, "rollbackAddedLoyaltyPoints")[0]["value"]
    assert points_back == 8.0

    after = session_effects(client)
    # the returned unit's per-item discount is gone, the cart discount and the points shrink
    assert [p["subPosition"] for p in props_of(after, "setDiscountPerItem")] == [0]
    assert props_of(after, "setDiscount") == [{"name": "Welcome 10%", "value": 9.75}]
    assert props_of(after, "addLoyaltyPoints")[0]["value"] == 98.0
    assert "acceptCoupon" in types(after) and "addFreeItem" in types(after)
    assert not set(types(after)) & ROLLBACKS
    assert emulator.state()["sessions"]["s1"]["effects"] == after

    # a second return of the last coffee unit takes its per-item discount too
    client.return_cart_items("s1", [{"position": 0, "quantity": 1}])
    assert props_of(session_effects(client), "setDiscountPerItem") == []


def test_a_dry_return_changes_no_effects(client: TalonClient) -> None:
    close_small_order(client)
    before = session_effects(client)
    client.return_cart_items("s1", [{"position": 0, "quantity": 1}], dry=True)
    assert session_effects(client) == before


# -- 3. updates of closed sessions that are not a state change -------------------------------


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"cartItems": [COFFEE, GRINDER]}, "/customerSession/cartItems"),
        ({"couponCodes": []}, "/customerSession/couponCodes"),
        ({"referralCode": "FRIEND-1"}, "/customerSession/referralCode"),
        ({"profileId": "someone-else"}, "/customerSession/profileId"),
        ({"attributes": {"giftWrap": True}}, "/customerSession/attributes"),
        ({"identifiers": ["device-1"]}, "/customerSession/identifiers"),
    ],
)
@pytest.mark.parametrize("dry", [False, True])
def test_a_closed_session_cannot_be_modified(
    client: TalonClient,
    emulator: EmulatorHandle,
    change: dict[str, Any],
    pointer: str,
    dry: bool,
) -> None:
    close_small_order(client)
    before = emulator.state()
    with pytest.raises(TalonBadRequest) as info:
        client.update_customer_session_v2("s1", {**change, "state": "closed"}, dry=dry)
    assert info.value.errors[0]["source"] == {"pointer": pointer}
    with pytest.raises(TalonBadRequest):  # leaving the state out keeps it: the same answer
        client.update_customer_session_v2("s1", change, dry=dry)
    assert emulator.state() == before


def test_a_retried_close_that_changes_nothing_is_a_no_op(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    body = {
        "profileId": "pat",
        "cartItems": [COFFEE],
        "couponCodes": ["WELCOME10"],
        "referralCode": "",
        "state": "closed",
    }
    first = client.update_customer_session_v2("s1", body)
    before = emulator.state()
    again = client.update_customer_session_v2("s1", body)
    assert again.raw["effects"] == first.raw["effects"]
    assert emulator.state() == before


@pytest.mark.parametrize("settled", ["partially_returned", "cancelled"])
def test_returned_and_cancelled_sessions_cannot_be_modified(
    client: TalonClient, settled: str
) -> None:
    close_small_order(client)
    if settled == "partially_returned":
        client.return_cart_items("s1", [{"position": 0, "quantity": 1}])
    else:
        client.update_customer_session_v2("s1", {"state": "cancelled"})
    with pytest.raises(TalonBadRequest) as info:
        client.update_customer_session_v2("s1", {"cartItems": [GRINDER]})
    assert info.value.errors[0]["source"] == {"pointer": "/customerSession/cartItems"}
    same = client.update_customer_session_v2("s1", {"state": settled})
    assert same.raw["customerSession"]["state"] == settled
    assert same.raw["effects"] == session_effects(client)


def test_a_reopened_session_can_be_modified_again(client: TalonClient) -> None:
    close_small_order(client)
    client.reopen_customer_session("s1")
    state = client.update_customer_session_v2("s1", {"cartItems": [COFFEE, GRINDER]})
    assert state.raw["customerSession"]["cartItemTotal"] == 106.0


# -- 4. now= in the past -------------------------------------------------------------------


@pytest.mark.parametrize("moment", ["2000-01-01T00:00:00Z", "2020-06-01T12:00:00+02:00"])
def test_now_in_the_past_is_refused(raw: Raw, emulator: EmulatorHandle, moment: str) -> None:
    answer = raw(
        "PUT",
        "/v2/customer_sessions/s1",
        params={"dry": "true", "now": moment},
        json={"customerSession": {"cartItems": [COFFEE]}},
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["StatusCode"] == 400 and "future" in body["message"]
    assert body["errors"][0]["source"] == {"parameter": "now"}
    assert emulator.state()["sessions"] == {}


def test_now_in_the_future_is_accepted(client: TalonClient) -> None:
    state = client.update_customer_session_v2(
        "s1", {"cartItems": [COFFEE]}, dry=True, now="2999-01-01T00:00:00Z"
    )
    assert "setDiscountPerItem" in types(state)


# -- 5. a profile update's dry needs runRuleEngine -----------------------------------------


def test_profile_dry_without_the_rule_engine_persists(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    answer = client.update_customer_profile_v2("quinn", {"tier": "gold"}, dry=True)
    assert answer.raw["effects"] == []
    assert answer.raw["customerProfile"]["id"] > 0
    assert emulator.state()["profiles"]["quinn"]["attributes"] == {"tier": "gold"}


def test_profile_dry_with_the_rule_engine_persists_nothing(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    client.update_customer_profile_v2("quinn", {"tier": "gold"})
    before = emulator.state()
    client.update_customer_profile_v2("quinn", {"tier": "silver"}, run_rule_engine=True, dry=True)
    assert emulator.state() == before
