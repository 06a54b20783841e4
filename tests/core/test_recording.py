"""The core tests' ``fake_client`` is the real client (tests/core/recording.py): its input
checks, error mapping and typed answers apply, and its canned answers are the real API's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from django_talon import resilience
from django_talon.client import IntegrationStateV2, Referral
from django_talon.client.errors import (
    TalonBadRequest,
    TalonConnectionError,
    TalonDecodeError,
    TalonServerError,
    TalonTimeoutError,
    TalonValidationError,
)
from django_talon.exceptions import TalonRequestFailedError, TalonUnavailableError
from django_talon.models import OutboxMessage
from tests.core.conftest import ESPRESSO, FakeClient, make_cart
from tests.core.recording import spec_present
from tests.shopapp.models import CartItem

SESSION = {
    "profileId": "user-1",
    "state": "open",
    "couponCodes": ["BOGUS", "WELCOME10"],
    "cartItems": [{"sku": "A", "name": "a", "quantity": 1, "price": 10.0}],
}


def every_operation(client: Any) -> None:
    """One call of each operation the Django side makes (the answers are canned)."""
    client.update_customer_session_v2(
        "s1", SESSION, response_content=["customerSession", "customerProfile"]
    )
    client.update_customer_session_v2("s1", {**SESSION, "state": "closed"})
    client.return_cart_items("s1", [{"position": 0, "quantity": 1}], idempotency_key="k-1")
    client.reopen_customer_session("s1")
    client.update_customer_profile_v2("user-1", {"Name": "Pat"})
    client.update_customer_profiles_v2([{"integrationId": "user-2", "attributes": {}}])
    client.update_customer_profiles_v2([{"integrationId": "user-2"}], silent=False)
    client.create_coupon_reservation("VIP20", ["user-1"])
    client.delete_coupon_reservation("VIP20", ["user-1"])
    client.create_referral(5, "user-1")
    client.get_customer_inventory("user-1", profile=True, coupons=True, referrals=True)
    client.delete_customer_data("user-1")


def test_answers_are_typed_and_canned(fake_client: FakeClient) -> None:
    state = fake_client.update_customer_session_v2("s1", SESSION)
    assert isinstance(state, IntegrationStateV2)
    assert [(e.effect_type, e.props.get("value")) for e in state.effects] == [
        ("rejectCoupon", "BOGUS")
    ]
    referral = fake_client.create_referral(5, "user-1")
    assert isinstance(referral, Referral) and referral.code == "REF-1234"
    assert fake_client.names() == ["update_customer_session_v2", "create_referral"]
    assert fake_client.calls[0] == ("update_customer_session_v2", ("s1", SESSION), {})
    assert [(s.method, s.path) for s in fake_client.http] == [
        ("PUT", "/v2/customer_sessions/s1"),
        ("POST", "/v1/referrals"),
    ]
    assert fake_client.http[0].body == {"customerSession": SESSION}


def test_input_the_real_client_refuses_is_refused(fake_client: FakeClient) -> None:
    """The bug the old fake hid: a cart line of quantity 0 never leaves the client."""
    line = {"sku": "A", "name": "a", "quantity": 0, "price": 10.0}
    with pytest.raises(TalonValidationError, match=r"cartItems\[0\]\.quantity"):
        fake_client.update_customer_session_v2("s1", {"cartItems": [line]})
    assert fake_client.names() == ["update_customer_session_v2"]  # the call is recorded
    assert fake_client.http == []  # nothing was sent


@pytest.mark.parametrize(
    ("fail", "raised", "status"),
    [
        (TalonConnectionError("down"), TalonConnectionError, None),
        (TalonTimeoutError("slow"), TalonTimeoutError, None),
        (TalonBadRequest(400, "bad cart"), TalonBadRequest, 400),
        (TalonServerError(503, "maintenance"), TalonServerError, 503),
        (TalonDecodeError("garbled"), TalonDecodeError, None),
    ],
)
def test_fail_goes_through_the_transport(
    fake_client: FakeClient, fail: Exception, raised: type[Exception], status: int | None
) -> None:
    fake_client.fail = fail
    with pytest.raises(raised) as info:
        fake_client.reopen_customer_session("s1")
    assert info.value is not fail  # the client built its own error from the wire
    assert getattr(info.value, "path", "") == "/v2/customer_sessions/s1/reopen"
    if status is not None:
        assert getattr(info.value, "status", None) == status
    assert len(fake_client.http) == 1


def test_other_exceptions_are_raised_as_is(fake_client: FakeClient) -> None:
    class WorkerKilled(BaseException):
        pass

    fake_client.fail = WorkerKilled()
    with pytest.raises(WorkerKilled):
        fake_client.delete_customer_data("user-1")


def test_guarded_hands_out_the_recording_client(fake_client: FakeClient) -> None:
    """Both ``resilience.get_client()`` and ``guarded()`` (also with its own timeout)."""
    assert resilience.get_client() is fake_client
    with resilience.guarded("test") as client:
        assert client is fake_client
    with resilience.guarded("test", timeout=1.5) as client:
        client.delete_customer_data("user-1")  # a copy, recording into the same lists
    assert client is not fake_client and client.timeout == (1.5, 1.5)
    assert fake_client.names() == ["delete_customer_data"]
    fake_client.fail = TalonServerError(502, "bad gateway")
    with pytest.raises(TalonUnavailableError), resilience.guarded("test") as client:
        client.delete_customer_data("user-1")
    fake_client.fail = TalonBadRequest(400, "no")
    with pytest.raises(TalonRequestFailedError), resilience.guarded("test") as client:
        client.delete_customer_data("user-1")


def test_requests_and_canned_answers_match_the_spec(fake_client: FakeClient) -> None:
    """Every request the client sends for the Django side's operations, and every canned
    answer, is valid per openapi.yaml (the fixture fails on any problem it recorded)."""
    if not spec_present():
        pytest.skip("official OpenAPI documents not found (tests.resources.SPEC_DIR)")
    fake_client.effects = [{"effectType": "setDiscount", "props": {"name": "x", "value": 1.0}}]
    every_operation(fake_client)
    assert len(fake_client.http) == len(fake_client.replies) == 12
    assert fake_client.problems == []


def test_a_spec_violation_is_a_problem(fake_client: FakeClient) -> None:
    if not spec_present():
        pytest.skip("official OpenAPI documents not found (tests.resources.SPEC_DIR)")
    fake_client.update_customer_profile_v2(
        "user-1", {"Name": "Pat"}, run_rule_engine=True, response_content=["bogus"]
    )
    assert any("responseContent" in p for p in fake_client.problems)
    fake_client.problems.clear()  # or the fixture fails the test


def test_an_operation_without_answer_is_a_problem(fake_client: FakeClient) -> None:
    with pytest.raises(AssertionError, match="no canned answer"):
        fake_client.track_event("viewed", {}, "s1")
    assert [p for p in fake_client.problems if "no canned answer" in p]
    fake_client.problems.clear()


@pytest.mark.django_db(transaction=True)
def test_a_delivery_the_client_refuses_shows_in_the_core_tests(fake_client: FakeClient) -> None:
    """What the old duck-typed fake let through: had the adapter sent the quantity-0 line,
    the real client would refuse the write and the row would be a dead letter here."""
    cart = make_cart(items=[ESPRESSO])
    CartItem.objects.create(cart=cart, sku="GONE-1", name="Gone", price=Decimal("5"), quantity=0)
    assert not OutboxMessage.objects.filter(state=OutboxMessage.State.DEAD).exists()
    bodies = [c[1][1] for c in fake_client.calls if c[0] == "update_customer_session_v2"]
    assert [i["sku"] for i in bodies[-1]["cartItems"]] == ["ESPRESSO-250"]
