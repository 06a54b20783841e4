"""The delivery engine on PostgreSQL with real concurrent connections (docs/outbox.md
"Delivery"): a coupon applied from another connection during a delivery's API call is never
overwritten, and an attempt whose database connection dies mid-call stays counted."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from django_talon import outbox, services
from django_talon.models import CustomerSession, OutboxMessage
from tests.core.conftest import FakeClient, queued_session
from tests.core.threads import in_thread
from tests.resources import require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_coupon_applied_from_another_connection_during_the_call_is_kept(
    settings: Any, fake_client: FakeClient
) -> None:
    require_postgres()
    assert connection.vendor == "postgresql"
    cart, session = queued_session(settings, "BOGUS")
    answer = fake_client.update_customer_session_v2
    concurrent: list[list[BaseException]] = []

    def during_call(session_id: str, body: Any, **kw: Any) -> Any:
        if not concurrent:
            # A shopper applies a coupon while the delivery waits for Talon.One. The mirror
            # is not locked during the call, so this commits at once; its own immediate
            # delivery finds the key busy and leaves it to us.
            thread, errors = in_thread(lambda: services.apply_coupon(cart, "WELCOME10"))
            thread.join(10)
            assert not thread.is_alive(), "a cart change waited for an HTTP call"
            concurrent.append(errors)
        return answer(session_id, body, **kw)

    fake_client.update_customer_session_v2 = during_call  # type: ignore[method-assign]
    report = outbox.deliver_key(f"session:{session.integration_id}", force=True)
    assert concurrent == [[]]
    assert report.sent == 2 and report.stopped == "empty"
    bodies = [c[1][1]["couponCodes"] for c in fake_client.calls]
    assert bodies == [["BOGUS"], ["BOGUS", "WELCOME10"]]  # one call at a time, in order
    stored = CustomerSession.objects.get(pk=session.pk)
    assert stored.coupon_codes == ["WELCOME10"]  # BOGUS dropped, WELCOME10 never lost
    assert stored.fingerprint == stored.pushed_fingerprint


def test_attempt_stays_counted_when_the_connection_dies_mid_call(
    settings: Any, fake_client: FakeClient
) -> None:
    require_postgres()
    _cart, session = queued_session(settings, "WELCOME10")
    key = f"session:{session.integration_id}"
    answer = fake_client.update_customer_session_v2
    in_call = threading.Event()
    resume = threading.Event()
    backend: list[int] = []

    def hanging(session_id: str, body: Any, **kw: Any) -> Any:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend.append(int(cursor.fetchone()[0]))
        in_call.set()
        resume.wait(10)
        return answer(session_id, body, **kw)

    fake_client.update_customer_session_v2 = hanging  # type: ignore[method-assign]
    thread, errors = in_thread(lambda: outbox.deliver_key(key))
    assert in_call.wait(10)
    with connection.cursor() as cursor:  # the worker's connection dies, as with SIGKILL
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend[0]])
    resume.set()
    thread.join(10)
    assert len(errors) == 1, errors

    # Only the rows of this test's session (the other rows of the cart were superseded).
    row = OutboxMessage.objects.filter(key=key).order_by("-id").first()
    assert row is not None
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.next_attempt_at > timezone.now()  # leased: not re-driven at once
    assert outbox.relay() == 0

    fake_client.update_customer_session_v2 = answer  # type: ignore[method-assign]
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert outbox.relay() == 1  # the dead connection's lock is gone
    row.refresh_from_db()
    assert (row.state, row.result, row.attempts) == ("done", "sent", 2)
