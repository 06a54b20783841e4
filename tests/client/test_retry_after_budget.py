"""The client's own retries honour ``Retry-After``, within what the policy would wait anyway.

From the fault review: a 503 with ``Retry-After: 120`` was retried twice within half a
second (the policy's jittered backoff), earning two more 503s. Now a retryable answer's
``Retry-After`` is the wait when it fits in the policy's worst case (every backoff at its
ceiling, less what was already waited); a longer one stops the retries at once and the
error says how long the server asked for (``retry_after``, which the outbox honours).
"""

from __future__ import annotations

import pytest

from django_talon.client import RetryPolicy, TalonConflictError, TalonServerError
from tests.client.support import Answer, FakeClock, RecordingAdapter, make_client


def _policy(clock: FakeClock, **changes: object) -> RetryPolicy:
    return RetryPolicy(sleep=clock.sleep, random=clock.random).with_changes(**changes)


def test_a_retry_after_beyond_the_budget_stops_the_retries() -> None:
    clock = FakeClock()
    adapter = RecordingAdapter(Answer(503, {"message": "busy"}, headers={"Retry-After": "120"}))
    with pytest.raises(TalonServerError) as caught:
        make_client(adapter, retry=_policy(clock)).get_customer_session("s")
    assert len(adapter.sent) == 1 and clock.sleeps == []
    assert caught.value.retry_after == 120.0


def test_a_retry_after_within_the_budget_is_the_wait() -> None:
    """Budget of (1, 2, 4 s ceilings) = 7 s: 3 s, then 3 s (1 s left: a third 3 s does not fit)."""
    clock = FakeClock(fraction=0.5)
    busy = Answer(503, {"message": "busy"}, headers={"Retry-After": "3"})
    adapter = RecordingAdapter(busy)
    policy = _policy(clock, max_attempts=4, backoff_base=1.0, backoff_max=4.0)
    with pytest.raises(TalonServerError) as caught:
        make_client(adapter, retry=policy).update_customer_session_v2("s", {})
    assert clock.sleeps == [3.0, 3.0] and len(adapter.sent) == 3
    assert caught.value.retry_after == 3.0


def test_a_retry_after_then_success() -> None:
    clock = FakeClock()
    adapter = RecordingAdapter(
        Answer(409, {"message": "locked"}, headers={"Retry-After": "0"}),
        Answer(200, {"integrationId": "s"}),
    )
    session = make_client(adapter, retry=_policy(clock)).get_customer_session("s")
    assert session.raw == {"integrationId": "s"} and clock.sleeps == [0.0]


def test_without_retry_after_the_backoff_is_unchanged() -> None:
    clock = FakeClock(fraction=1.0)
    adapter = RecordingAdapter(Answer(409, {"message": "locked"}))
    with pytest.raises(TalonConflictError) as caught:
        make_client(adapter, retry=_policy(clock)).get_customer_session("s")
    assert clock.sleeps == [0.25, 0.5] and caught.value.retry_after is None


def test_a_retry_after_on_an_operation_not_safe_to_repeat_changes_nothing() -> None:
    clock = FakeClock()
    adapter = RecordingAdapter(Answer(503, {"message": "busy"}, headers={"Retry-After": "0"}))
    with pytest.raises(TalonServerError):
        make_client(adapter, retry=_policy(clock)).create_referral(5, "ann")
    assert len(adapter.sent) == 1 and clock.sleeps == []
