"""The app's own signals (docs/signals.md), each sent by a real delivery to the emulator.

Every receiver re-reads the row from the database: a signal about an answer is sent once
the answer is stored, so a shop's receiver that queries (or runs in another process after
commit) sees what the signal announces. A receiver that raises is logged and changes
nothing: the delivery it was told about stays done.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.dispatch import Signal

from django_talon import services, signals
from django_talon.models import CustomerProfile, CustomerSession, OutboxMessage
from tests.core.conftest import ESPRESSO, GRINDER, make_cart
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def recording(signal: Signal) -> Iterator[list[dict[str, Any]]]:
    """Collect every send of ``signal`` with the stored effects of its session at that time."""
    seen: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        session = kwargs.get("session")
        if session is not None:
            stored = CustomerSession.objects.get(pk=session.pk)
            kwargs["stored_types"] = [e["effectType"] for e in stored.effects]
            kwargs["stored_state"] = stored.state
        seen.append({"sender": sender, **kwargs})

    signal.connect(receiver, weak=False)
    try:
        yield seen
    finally:
        signal.disconnect(receiver)


def test_coupon_accepted_after_the_answer_is_stored(shop: Any) -> None:
    cart = make_cart(items=[ESPRESSO])
    with recording(signals.coupon_accepted) as seen:
        services.apply_coupon(cart, "WELCOME10")
    assert [s["code"] for s in seen] == ["WELCOME10"]
    assert seen[0]["sender"] is CustomerSession
    assert "acceptCoupon" in seen[0]["stored_types"], seen[0]["stored_types"]


def test_coupon_and_referral_rejected_after_the_answer_is_stored(shop: Any) -> None:
    cart = make_cart(items=[ESPRESSO])
    with recording(signals.coupon_rejected) as coupons:
        services.apply_coupon(cart, "NOPE-123")
    assert [(s["code"], s["reason"]) for s in coupons] == [("NOPE-123", "CouponNotFound")]
    assert "rejectCoupon" in coupons[0]["stored_types"]

    with recording(signals.referral_rejected) as referrals:
        services.apply_referral(cart, "NO-SUCH-REF")
    assert [s["code"] for s in referrals] == ["NO-SUCH-REF"]
    assert referrals[0]["reason"]
    assert "rejectReferral" in referrals[0]["stored_types"], referrals[0]["stored_types"]


def test_session_closed_and_cancelled(shop: Any, django_user_model: Any) -> None:
    user = django_user_model.objects.create_user("sig", "sig@example.com", "pw")
    cart = make_cart(user=user, items=[GRINDER])
    with recording(signals.session_closed) as closed:
        order = Order.objects.create(cart=cart, user=user, status="paid")
    assert len(closed) == 1 and closed[0]["stored_state"] == "closed"
    with recording(signals.session_cancelled) as cancelled:
        order.status = "cancelled"
        order.save()
    assert len(cancelled) == 1 and cancelled[0]["stored_state"] == "cancelled"
    session = services.session_for_order(order)
    assert session is not None and cancelled[0]["session"].pk == session.pk


def test_profile_synced_and_erasure_completed(shop: Any, django_user_model: Any) -> None:
    with recording(signals.profile_synced) as synced:
        user = django_user_model.objects.create_user("pro", "pro@example.com", "pw")
    assert [s["profile"].integration_id for s in synced] == [f"user-{user.pk}"]
    integration_id = f"user-{user.pk}"
    assert CustomerProfile.objects.get(integration_id=integration_id).last_synced_at

    with recording(signals.erasure_completed) as erased:
        user.delete()
    assert len(erased) == 1
    request = erased[0]["deletion_request"]
    assert request.integration_id == integration_id
    assert request.state == "completed" and request.completed_at is not None


def test_a_receiver_that_raises_does_not_fail_the_delivery(
    shop: Any, django_user_model: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("the shop's receiver has a bug")

    def seen(sender: Any, **kwargs: Any) -> None:
        calls.append(sender)

    calls: list[Any] = []
    for signal in (signals.effects_updated, signals.profile_synced):
        signal.connect(broken, weak=False)
        signal.connect(seen, weak=False)  # connected after the broken one: still runs
    try:
        with caplog.at_level(logging.ERROR, logger="django_talon.signals"):
            user = django_user_model.objects.create_user("bug", "bug@example.com", "pw")
            make_cart(user=user, items=[ESPRESSO])
    finally:
        for signal in (signals.effects_updated, signals.profile_synced):
            signal.disconnect(broken)
            signal.disconnect(seen)

    rows = OutboxMessage.objects.all()
    assert {r.operation for r in rows} >= {"profile.update", "session.update"}
    assert {(r.state, r.attempts, r.last_error) for r in rows} == {("done", 1, "")}
    session = CustomerSession.objects.get()
    assert session.effects_received_at is not None and session.last_error == ""
    profile = CustomerProfile.objects.get(integration_id=f"user-{user.pk}")
    assert profile.last_synced_at is not None and profile.last_error == ""
    assert CustomerProfile in calls and CustomerSession in calls

    logged = [r for r in caplog.records if r.name == "django_talon.signals"]
    messages = " ".join(r.getMessage() for r in logged)
    assert "effects_updated" in messages and "profile_synced" in messages, messages
    assert all(r.exc_info and isinstance(r.exc_info[1], RuntimeError) for r in logged)
