"""An erased advocate's referral codes leave other customers' data on PostgreSQL too, also
when the friend's cart is being written or their session delivered at that moment.

The erasure never waits for another customer's rows (their deliverer may wait for the
erased customer's, a deadlock); what another transaction holds is taken by passes after the
erasure's commit. Either way the friend's write is not lost and the code is gone.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction

from django_talon import outbox, resilience, services
from django_talon.models import CustomerSession, OutboxMessage
from django_talon.services.handlers import session_key
from tests.core.shop import ESPRESSO, make_cart
from tests.core.test_erasure_final import customer, stored_rows
from tests.core.test_erasure_referral_codes import (  # noqa: F401  (run again on PostgreSQL)
    friend_with_code,
    holds,
    test_a_closed_session_loses_the_code_without_being_sent_again,
    test_the_friends_session_queued_writes_and_ledger_lose_the_code,
)
from tests.core.threads import in_thread
from tests.resources import require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SLOW_PUT = 1.5  # seconds the emulator takes for the friend's session write


@pytest.fixture(autouse=True)
def _postgres() -> None:
    require_postgres()
    assert connection.vendor == "postgresql"


def assert_code_gone(shop: Any, session: CustomerSession, code: str, start: int) -> None:
    """The friend's session, Talon.One's copy and every row are without the code, and the
    friend's last write sent was too; the friend's coupon stayed.

    (The write that held the friend's session, or was in its call, committed with the code
    before the erasure could take it: it may reach Talon.One once, as a write of the erased
    customer's own in flight does. The push after it removes the code there.)"""
    session.refresh_from_db()
    assert session.referral_code == "" and not holds(json.dumps(session.effects), code)
    assert "WELCOME10" in session.coupon_codes
    remote = shop.control.state()["sessions"][session.integration_id]
    assert remote["referralCode"] == "" and "WELCOME10" in remote["couponCodes"]
    assert not holds(stored_rows(), code)
    path = f"/v2/customer_sessions/{session.integration_id}"
    puts = [c for c in shop.control.requests()[start:] if c["path"] == path]
    assert puts and not holds(json.dumps(puts[-1], default=str), code)
    assert not OutboxMessage.objects.filter(state="pending").exists()


def test_a_cart_write_holding_the_friends_session_is_kept_and_loses_the_code(
    shop: Any, django_user_model: Any
) -> None:
    advocate = customer(django_user_model, "pgadv")
    code = services.create_referral(advocate, 5).code
    friend = customer(django_user_model, "pgfriend")
    cart = make_cart(user=friend, items=[ESPRESSO])
    session = services.apply_referral(cart, code)
    assert session.referral_code == code
    locked, release = threading.Event(), threading.Event()

    def cart_write() -> None:
        # The friend's request: the session row locked, the write queued, not committed yet.
        with transaction.atomic():
            services.apply_coupon(CustomerSession.objects.get(pk=session.pk), "WELCOME10")
            locked.set()
            release.wait(10)

    thread, errors = in_thread(cart_write)
    assert locked.wait(10)
    start = len(shop.control.requests())
    erasure, erasure_errors = in_thread(
        lambda: services.erase_customer(advocate, requested_by="test")
    )
    time.sleep(SLOW_PUT / 3)  # the erasure ran while the friend's session was held
    release.set()
    thread.join(10)
    erasure.join(20)

    assert errors == [] and erasure_errors == [] and not erasure.is_alive()
    outbox.relay()
    assert_code_gone(shop, session, code, start)


def test_a_delivery_in_flight_is_scrubbed_after_it_finished(
    shop: Any, django_user_model: Any
) -> None:
    advocate, code, _cart, session = friend_with_code(django_user_model)
    key = session_key(session.integration_id)
    pending = OutboxMessage.objects.get(key=key, state="pending")
    shop.control.add_fault(kind="latency", seconds=SLOW_PUT, method="PUT", times=1)
    resilience.breaker.reset()
    start = len(shop.control.requests())

    # The friend's queued write (with the code) is in its HTTP call: its row is locked.
    thread, errors = in_thread(lambda: outbox.deliver_key(key, force=True))
    time.sleep(SLOW_PUT / 3)
    services.erase_customer(advocate, requested_by="test")
    thread.join(10)

    assert errors == [] and not thread.is_alive()
    outbox.relay()
    in_flight = OutboxMessage.objects.get(pk=pending.pk)
    assert in_flight.result == "sent" and not holds(json.dumps(in_flight.payload), code)
    assert in_flight.payload["customerSession"]["couponCodes"] == ["WELCOME10"]
    assert_code_gone(shop, session, code, start)
