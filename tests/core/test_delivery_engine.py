"""The delivery engine's guarantees (docs/outbox.md "Delivery"):

- a delivery never overwrites what a concurrent request wrote to the session mirror;
- an attempt is counted (and committed) before the API call, so a worker that dies mid-call
  still uses it up and a message that kills every worker ends as a dead letter;
- several rows of one key queued in one transaction schedule one delivery after commit;
- the call goes through ``resilience.guarded``: an outage counts once for the breaker, and a
  call refused after the claim (kill switch, a half-open trial taken by another process)
  sends nothing and gives the attempt back.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from django_talon import outbox, resilience, services
from django_talon.client.errors import TalonConnectionError
from django_talon.models import CustomerSession, OutboxMessage
from django_talon.services.handlers import SESSION_STATE
from django_talon.services.sessions import session_payload
from django_talon.signals import effects_updated, outbox_message_dead
from tests.core.conftest import ESPRESSO, GRINDER, FakeClient, make_cart, queued_session

pytestmark = pytest.mark.django_db(transaction=True)


# -- 1. no lost write ---------------------------------------------------------------------------
def test_coupon_applied_during_the_call_survives_the_delivery(
    settings: Any, fake_client: FakeClient
) -> None:
    _cart, session = queued_session(settings, "BOGUS")
    key = f"session:{session.integration_id}"
    answer = fake_client.update_customer_session_v2

    def concurrent_request(session_id: str, body: Any, **kw: Any) -> Any:
        # While the call is in flight, another request applies a coupon and commits (same
        # effect as services.apply_coupon in another process: new codes, new fingerprint,
        # a newer row queued).
        fresh = CustomerSession.objects.get(pk=session.pk)
        fresh.coupon_codes = [*fresh.coupon_codes, "WELCOME10"]
        fresh.fingerprint = outbox.fingerprint(session_payload(fresh))
        fresh.save(update_fields=["coupon_codes", "fingerprint"])
        OutboxMessage.objects.create(
            operation="session.update",
            key=key,
            payload={"session_id": session_id, "customerSession": session_payload(fresh)},
            fingerprint=fresh.fingerprint,
        )
        fake_client.update_customer_session_v2 = answer  # type: ignore[method-assign]
        return answer(session_id, body, **kw)

    fake_client.update_customer_session_v2 = concurrent_request  # type: ignore[method-assign]
    after_each: list[list[str]] = []

    def snapshot(sender: Any, session: CustomerSession, **kw: Any) -> None:
        after_each.append(CustomerSession.objects.get(pk=session.pk).coupon_codes)

    effects_updated.connect(snapshot)
    try:
        report = outbox.deliver_key(key, force=True)
    finally:
        effects_updated.disconnect(snapshot)
    assert report.sent == 2
    # After the first answer (BOGUS rejected) the newer state was already queued: nothing of
    # it is overwritten, BOGUS stays until the newer row's own answer rejects it.
    assert after_each == [["BOGUS", "WELCOME10"], ["WELCOME10"]]
    assert fake_client.calls[-1][1][1]["couponCodes"] == ["BOGUS", "WELCOME10"]
    stored = CustomerSession.objects.get(pk=session.pk)
    assert stored.coupon_codes == ["WELCOME10"]
    assert stored.effects[0]["effectType"] == "rejectCoupon"
    assert stored.fingerprint == stored.pushed_fingerprint  # local state == what Talon holds


def test_rejected_code_dropped_when_nothing_newer_was_queued(
    settings: Any, fake_client: FakeClient
) -> None:
    cart, session = queued_session(settings, "BOGUS")
    outbox.deliver_key(f"session:{session.integration_id}", force=True)
    stored = CustomerSession.objects.get(pk=session.pk)
    assert stored.coupon_codes == []
    assert stored.fingerprint == stored.pushed_fingerprint
    calls = len(fake_client.calls)
    services.update_cart(cart)  # the same cart again: unchanged, no row, no call
    assert len(fake_client.calls) == calls


# -- 2. poison messages -------------------------------------------------------------------------
class WorkerKilled(BaseException):
    """Stands in for SIGKILL/OOM during the HTTP call: nothing after it runs in the worker,
    and its open transaction is rolled back (as the database does for a dead connection)."""


def test_attempt_killed_mid_call_is_counted_and_the_message_goes_dead(
    settings: Any, fake_client: FakeClient
) -> None:
    _cart, session = queued_session(settings, "WELCOME10")
    key = f"session:{session.integration_id}"
    (row,) = OutboxMessage.objects.filter(key=key, state="pending")
    dead: list[OutboxMessage] = []

    def on_dead(sender: Any, message: OutboxMessage, **kw: Any) -> None:
        dead.append(message)

    outbox_message_dead.connect(on_dead)
    fake_client.fail = WorkerKilled()
    try:
        for attempt in (1, 2, 3):  # MAX_ATTEMPTS in SHOP_TALON
            with pytest.raises(WorkerKilled):
                outbox.deliver_key(key, force=True)
            row.refresh_from_db()
            assert (row.state, row.attempts) == ("pending", attempt)
            # The lease: nobody re-drives the row before it ends.
            assert row.next_attempt_at > timezone.now()
            assert outbox.relay() == 0
        fake_client.fail = None
        report = outbox.deliver_key(key, force=True)
    finally:
        outbox_message_dead.disconnect(on_dead)
    row.refresh_from_db()
    assert row.state == "dead" and row.attempts == 3
    assert "never finished" in row.last_error
    assert report.dead == 1 and [m.pk for m in dead] == [row.pk]
    assert len(fake_client.calls) == 3  # no fourth call for a message that kills workers


def test_killed_attempt_is_redriven_after_the_lease(settings: Any, fake_client: FakeClient) -> None:
    _cart, session = queued_session(settings, "WELCOME10")
    key = f"session:{session.integration_id}"
    fake_client.fail = WorkerKilled()
    with pytest.raises(WorkerKilled):
        outbox.deliver_key(key)
    fake_client.fail = None
    assert outbox.relay() == 0  # leased
    OutboxMessage.objects.filter(key=key).update(next_attempt_at=timezone.now())  # lease over
    assert outbox.relay() == 1
    (row,) = OutboxMessage.objects.filter(key=key).order_by("-id")[:1]
    assert row.state == "done" and row.result == "sent" and row.attempts == 2


def test_erasure_killed_mid_call_is_never_dead(settings: Any, fake_client: FakeClient) -> None:
    settings.TALON = {**settings.TALON, "ENABLED": False}
    row = outbox.enqueue(
        "customer.erase", "profile:p-1", {"integration_id": "p-1", "deletion_request_id": 0}
    )
    settings.TALON = {**settings.TALON, "ENABLED": True}
    fake_client.fail = WorkerKilled()
    for _ in range(4):
        with pytest.raises(WorkerKilled):
            outbox.deliver_key(row.key, force=True)
    fake_client.fail = None
    outbox.deliver_key(row.key, force=True)
    row.refresh_from_db()
    assert row.state == "done" and row.attempts == 5


def test_failed_attempt_counts_once(fake_client: FakeClient) -> None:
    fake_client.fail = ConnectionError("down")
    make_cart(items=[ESPRESSO])
    (row,) = OutboxMessage.objects.all()
    assert row.state == "pending" and row.attempts == 1 and "down" in row.last_error


# -- 3. one post-commit delivery per key per transaction -----------------------------------------
@pytest.fixture
def deliveries(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    calls: list[tuple[str, bool]] = []
    real = outbox.deliver_key

    def spy(key: str, **kw: Any) -> outbox.DeliveryReport:
        calls.append((key, bool(kw.get("immediate"))))
        return real(key, **kw)

    monkeypatch.setattr(outbox.scheduling, "deliver_key", spy)  # what the post-commit path calls
    return calls


def _state_row(key: str, state: str, *, immediate: bool = False) -> None:
    body = {"session_id": key.split(":", 1)[1], "customerSession": {"state": state}}
    outbox.enqueue(SESSION_STATE, key, body, immediate=immediate)


def test_rows_of_one_key_in_one_transaction_schedule_one_delivery(
    fake_client: FakeClient, deliveries: list[tuple[str, bool]]
) -> None:
    with transaction.atomic():
        for state in ("open", "closed", "cancelled"):
            _state_row("session:a", state)
        _state_row("session:b", "closed")
    assert deliveries == [("session:a", True), ("session:b", True)]
    assert OutboxMessage.objects.filter(state="pending").count() == 0
    assert len(fake_client.calls) == 4  # every row delivered, in order


def test_a_later_immediate_row_upgrades_the_scheduled_delivery(
    settings: Any, fake_client: FakeClient, deliveries: list[tuple[str, bool]]
) -> None:
    settings.TALON = {**settings.TALON, "DELIVERY": "celery"}
    sent: list[str] = []
    monkey = pytest.MonkeyPatch()
    monkey.setattr(outbox.scheduling, "dispatch", lambda key, **kw: sent.append(key))
    try:
        with transaction.atomic():
            _state_row("session:a", "open")
            _state_row("session:a", "closed", immediate=True)
    finally:
        monkey.undo()
    assert deliveries == [("session:a", True)] and sent == []


def test_rolled_back_savepoint_does_not_swallow_the_delivery(
    fake_client: FakeClient, deliveries: list[tuple[str, bool]]
) -> None:
    with transaction.atomic():
        try:
            with transaction.atomic():
                _state_row("session:a", "open")
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        _state_row("session:a", "closed")
    assert deliveries == [("session:a", True)]
    assert OutboxMessage.objects.get().state == "done"


def test_next_transaction_schedules_again(
    fake_client: FakeClient, deliveries: list[tuple[str, bool]]
) -> None:
    for state in ("open", "closed"):
        with transaction.atomic():
            _state_row("session:a", state)
    assert deliveries == [("session:a", True), ("session:a", True)]


@pytest.mark.django_db(transaction=False)
def test_captured_on_commit_callbacks_deliver_every_time(
    fake_client: FakeClient,
    deliveries: list[tuple[str, bool]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Inside a test's transaction, each captured block delivers its own rows."""
    for state in ("open", "closed"):
        with django_capture_on_commit_callbacks(execute=True):
            _state_row("session:a", state)
    assert deliveries == [("session:a", True), ("session:a", True)]


# -- 4. the guarded call path ----------------------------------------------------------------------
def test_an_outage_counts_once_for_the_breaker(fake_client: FakeClient) -> None:
    """``guarded`` records the breaker failure; the outbox does not record it again."""
    fake_client.fail = TalonConnectionError("down")
    make_cart(items=[ESPRESSO])
    make_cart(items=[GRINDER])
    assert resilience.breaker.state() == "closed"  # 2 outages, BREAKER_THRESHOLD is 3
    make_cart(items=[ESPRESSO])
    assert resilience.breaker.state() == "open"
    assert len(fake_client.calls) == 3
    rows = OutboxMessage.objects.all()
    assert {(r.state, r.attempts) for r in rows} == {("pending", 1)}
    assert all("TalonConnectionError" in r.last_error for r in rows), [r.last_error for r in rows]


def _pending_head(settings: Any) -> OutboxMessage:
    _cart, session = queued_session(settings, "WELCOME10")
    row = OutboxMessage.objects.filter(state="pending").order_by("-id").first()
    assert row is not None and row.attempts == 0
    return row


def _half_open(settings: Any) -> None:
    settings.TALON = {**settings.TALON, "BREAKER_COOLDOWN": 0.0}
    for _ in range(3):  # BREAKER_THRESHOLD
        resilience.breaker.record_failure()
    assert resilience.breaker.state() == "half_open"


def test_a_half_open_circuit_lets_the_delivery_make_the_trial_call(
    settings: Any, fake_client: FakeClient
) -> None:
    """The claim only refuses an *open* circuit; the guarded call takes the one trial."""
    row = _pending_head(settings)
    _half_open(settings)
    report = outbox.deliver_key(row.key, force=True)
    assert report.stopped == "empty" and len(fake_client.calls) == 1
    assert resilience.breaker.state() == "closed"


def test_a_half_open_trial_taken_elsewhere_gives_the_claim_back(
    settings: Any, fake_client: FakeClient
) -> None:
    row = _pending_head(settings)
    _half_open(settings)
    assert resilience.breaker.allow() is True  # another process takes the one trial call
    report = outbox.deliver_key(row.key, force=True)
    assert report.stopped == "circuit_open" and report.remaining
    assert fake_client.calls == []
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_error) == ("pending", 0, "")
    assert row.next_attempt_at <= timezone.now()  # due again once the trial is over


def test_a_kill_switch_turned_on_after_the_claim_gives_the_claim_back(
    settings: Any, fake_client: FakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = _pending_head(settings)
    due_at = row.next_attempt_at
    checks: list[bool] = []

    def switched_off_after_the_claim(application: str | None = None) -> bool:
        checks.append(True)
        return len(checks) == 1  # the claim's check passes, the call's finds the switch on

    monkeypatch.setattr(resilience, "is_enabled", switched_off_after_the_claim)
    report = outbox.deliver_key(row.key, force=True)
    assert report.stopped == "disabled" and fake_client.calls == []
    row.refresh_from_db()
    assert (row.state, row.attempts, row.next_attempt_at) == ("pending", 0, due_at)
