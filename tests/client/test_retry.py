"""Retries: counts, backoff bounds, which statuses, and never for unsafe operations.

A ``FakeClock`` replaces sleep and random, so nothing here sleeps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from django_talon.client import (
    RetryPolicy,
    TalonBadRequestError,
    TalonClient,
    TalonConflictError,
    TalonConnectionError,
    TalonNotFoundError,
    TalonServerError,
    TalonTimeoutError,
)
from tests.client.support import Answer, FakeClock, RecordingAdapter, make_client

OK_STATE = {"effects": [], "createdCoupons": [], "createdReferrals": []}


def _client(adapter: RecordingAdapter, clock: FakeClock, **policy: Any) -> TalonClient:
    retry = RetryPolicy(sleep=clock.sleep, random=clock.random, **policy)
    return make_client(adapter, retry=retry)


@pytest.mark.parametrize("status", [409, 500, 502, 503, 504])
def test_retryable_status_is_retried_up_to_max_attempts(status: int) -> None:
    clock = FakeClock()
    adapter = RecordingAdapter(Answer(status, {"message": "busy"}))
    with pytest.raises((TalonConflictError, TalonServerError)):
        _client(adapter, clock).update_customer_session_v2("s", {})
    assert len(adapter.sent) == 3
    assert len(clock.sleeps) == 2


def test_success_after_transient_failures() -> None:
    clock = FakeClock()
    adapter = RecordingAdapter(
        Answer(503, {"message": "down"}), Answer(409, {"message": "busy"}), Answer(200, OK_STATE)
    )
    state = _client(adapter, clock).update_customer_session_v2("s", {})
    assert state.effects == []
    assert len(adapter.sent) == 3


@pytest.mark.parametrize(
    ("status", "cls"), [(400, TalonBadRequestError), (404, TalonNotFoundError)]
)
def test_client_errors_are_not_retried(status: int, cls: type[Exception]) -> None:
    clock = FakeClock()
    adapter = RecordingAdapter(Answer(status, {"message": "no"}))
    with pytest.raises(cls):
        _client(adapter, clock).update_customer_session_v2("s", {})
    assert len(adapter.sent) == 1 and clock.sleeps == []


def test_connection_errors_are_retried() -> None:
    clock = FakeClock()
    adapter = RecordingAdapter(
        Answer(raises=requests.ConnectionError("refused")),
        Answer(raises=requests.ReadTimeout("slow")),
        Answer(200, OK_STATE),
    )
    _client(adapter, clock).update_customer_session_v2("s", {})
    assert len(adapter.sent) == 3


def test_connection_errors_exhaust_attempts() -> None:
    clock = FakeClock()
    adapter = RecordingAdapter(Answer(raises=requests.ReadTimeout("slow")))
    with pytest.raises(TalonTimeoutError):
        _client(adapter, clock, max_attempts=4).get_customer_session("s")
    assert len(adapter.sent) == 4 and len(clock.sleeps) == 3


def test_connection_error_retry_can_be_disabled() -> None:
    clock = FakeClock()
    adapter = RecordingAdapter(Answer(raises=requests.ConnectionError("refused")))
    with pytest.raises(TalonConnectionError):
        _client(adapter, clock, retry_connection_errors=False).get_customer_session("s")
    assert len(adapter.sent) == 1


def test_backoff_is_exponential_and_capped() -> None:
    clock = FakeClock(fraction=1.0)  # the top of the jitter range
    adapter = RecordingAdapter(Answer(503, {"message": "down"}))
    client = _client(adapter, clock, max_attempts=6, backoff_base=0.5, backoff_max=3.0)
    with pytest.raises(TalonServerError):
        client.get_customer_session("s")
    assert clock.sleeps == [0.5, 1.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize("fraction", [0.0, 0.25, 0.999])
def test_jitter_stays_within_bounds(fraction: float) -> None:
    policy = RetryPolicy(backoff_base=0.2, backoff_max=1.0, random=lambda: fraction)
    for attempt in range(1, 10):
        ceiling = min(1.0, 0.2 * 2 ** (attempt - 1))
        delay = policy.delay(attempt)
        assert 0.0 <= delay <= ceiling
        assert delay == pytest.approx(fraction * ceiling)


def test_none_policy_never_retries() -> None:
    adapter = RecordingAdapter(Answer(503, {"message": "down"}))
    with pytest.raises(TalonServerError):
        make_client(adapter, retry=RetryPolicy.none()).get_customer_session("s")
    assert len(adapter.sent) == 1


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(backoff_base=-1)


UNSAFE: list[tuple[str, Callable[[TalonClient], Any]]] = [
    ("create_referral", lambda c: c.create_referral(5, "advocate")),
    ("create_coupon_reservation", lambda c: c.create_coupon_reservation("VIP20", ["a"])),
    ("reopen_customer_session", lambda c: c.reopen_customer_session("s")),
    ("track_event", lambda c: c.track_event("viewed", {}, "s")),
    ("return_cart_items", lambda c: c.return_cart_items("s", [{"position": 0, "quantity": 1}])),
    (
        "update_customer_profile_v2+rules",
        lambda c: c.update_customer_profile_v2("p", {}, run_rule_engine=True),
    ),
    ("update_customer_profile_v1", lambda c: c.update_customer_profile_v1("p", {})),
]


@pytest.mark.parametrize(("name", "call"), UNSAFE, ids=[n for n, _ in UNSAFE])
@pytest.mark.parametrize(
    "answer",
    [
        Answer(500, {"message": "down"}),
        Answer(409, {"message": "busy"}),
        Answer(raises=requests.ConnectionError("reset")),
        Answer(raises=requests.ReadTimeout("slow")),
    ],
    ids=["500", "409", "connection", "timeout"],
)
def test_unsafe_operations_are_never_retried(
    name: str, call: Callable[[TalonClient], Any], answer: Answer
) -> None:
    clock = FakeClock()
    adapter = RecordingAdapter(answer)
    with pytest.raises((TalonServerError, TalonConflictError, TalonConnectionError)):
        call(_client(adapter, clock, max_attempts=5))
    assert len(adapter.sent) == 1
    assert clock.sleeps == []


SAFE: list[tuple[str, Callable[[TalonClient], Any]]] = [
    ("update_customer_session_v2", lambda c: c.update_customer_session_v2("s", {})),
    ("get_customer_session", lambda c: c.get_customer_session("s")),
    (
        "return_cart_items+key",
        lambda c: c.return_cart_items("s", [{"position": 0, "quantity": 1}], idempotency_key="k"),
    ),
    ("update_customer_profile_v2", lambda c: c.update_customer_profile_v2("p", {})),
    (
        "update_customer_profile_v2+dry",
        lambda c: c.update_customer_profile_v2("p", {}, run_rule_engine=True, dry=True),
    ),
    (
        "update_customer_profiles_v2",
        lambda c: c.update_customer_profiles_v2([{"integrationId": "p"}]),
    ),
    (
        "update_customer_profile_audiences",
        lambda c: c.update_customer_profile_audiences(
            [{"action": "add", "profileIntegrationId": "p", "audienceId": 1}]
        ),
    ),
    ("delete_coupon_reservation", lambda c: c.delete_coupon_reservation("VIP20", ["a"])),
    ("get_reserved_customers", lambda c: c.get_reserved_customers("VIP20")),
    ("get_reserved_coupons", lambda c: c.get_reserved_coupons("p")),
    ("delete_customer_data", lambda c: c.delete_customer_data("p")),
    ("get_customer_inventory", lambda c: c.get_customer_inventory("p", coupons=True)),
    ("get_customer_profiles_by_attributes", lambda c: c.get_customer_profiles_by_attributes({})),
    ("track_event+dry", lambda c: c.track_event("viewed", {}, "s", dry=True)),
    ("update_customer_session_v1", lambda c: c.update_customer_session_v1("s", {})),
]


@pytest.mark.parametrize(("name", "call"), SAFE, ids=[n for n, _ in SAFE])
def test_safe_operations_are_retried(name: str, call: Callable[[TalonClient], Any]) -> None:
    clock = FakeClock()
    adapter = RecordingAdapter(Answer(503, {"message": "down"}))
    with pytest.raises(TalonServerError):
        call(_client(adapter, clock))
    assert len(adapter.sent) == 3


def test_with_options_changes_retry_and_timeout_but_shares_the_session() -> None:
    adapter = RecordingAdapter(Answer(503, {"message": "down"}))
    client = make_client(adapter)
    quick = client.with_options(timeout=1.5, retry=RetryPolicy.none())
    assert quick.session is client.session
    assert quick.timeout == (1.5, 1.5) and client.timeout == (3.05, 10.0)
    with pytest.raises(TalonServerError):
        quick.get_customer_session("s")
    assert len(adapter.sent) == 1
    assert adapter.sent[0].timeout == (1.5, 1.5)
    assert client.retry.max_attempts == 3


def test_retries_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    adapter = RecordingAdapter(Answer(409, {"message": "busy"}), Answer(200, OK_STATE))
    with caplog.at_level("INFO", logger="django_talon.client"):
        _client(adapter, clock).update_customer_session_v2("s", {})
    messages = [r.getMessage() for r in caplog.records]
    assert any("409" in m and "retrying (attempt 1/3)" in m for m in messages)
    assert any("-> 200" in m for m in messages)
