"""Erased means erased on PostgreSQL: the emulator scenarios of test_erasure_final again, and
the races only row locks can settle (several connections, a slow Talon.One).

* A write being delivered when the erasure is requested: the erasure waits for that call
  (the row is locked by its deliverer) and keeps its ``sent`` result; the DELETE follows it.
* A write committed by another connection *while the erasure's transaction is open* (so
  neither the erasure nor the write's own delivery check sees the other) and in its HTTP
  call when the erasure commits: the erasure's DELETE waits until that call is over, so
  Talon.One does not re-create the customer after the DELETE.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import connection, transaction

from django_talon import outbox, services
from django_talon.models import OutboxMessage
from django_talon.services.handlers import PROFILE_UPDATE, SESSION_UPDATE, profile_key, session_key
from tests.core.shop import ESPRESSO, make_cart
from tests.core.test_erasure_final import (  # noqa: F401  (run again on PostgreSQL)
    assert_erased,
    cascading_shop,
    customer,
    customer_session_ids,
    test_erasure_under_failures_leaves_no_trace,
    test_rows_from_other_transactions_retries_and_relays_are_refused,
    test_session_payloads_naming_them_are_emptied_other_customers_kept,
    test_user_delete_cascading_to_carts_leaves_no_trace,
    test_user_delete_with_orders_pending_writes_reservations_and_referrals,
)
from tests.core.threads import in_thread
from tests.resources import require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SLOW_PUT = 1.5  # seconds the emulator takes for a session write


@pytest.fixture(autouse=True)
def _postgres() -> None:
    require_postgres()
    assert connection.vendor == "postgresql"


def _queue_session_write(session: Any, integration_id: str) -> str:
    """A session write naming the customer, committed, not delivered yet; returns its key."""
    key = session_key(session.integration_id)
    body = {**services.session_payload(session), "profileId": integration_id}
    with transaction.atomic():
        outbox.enqueue(
            SESSION_UPDATE,
            key,
            {"session_id": session.integration_id, "customerSession": body},
            deliver=False,
        )
    return key


def _order(shop: Any, integration_id: str, session_id: str) -> list[str]:
    """The session writes and the DELETE, in the order Talon.One finished them."""
    wanted = (f"/v2/customer_sessions/{session_id}", f"/v1/customer_data/{integration_id}")
    return [c["method"] for c in shop.control.requests() if c["path"] in wanted]


def test_a_write_in_flight_is_waited_for_and_keeps_its_result(
    shop: Any, django_user_model: Any
) -> None:
    user = customer(django_user_model, "inflight")
    integration_id = f"user-{user.pk}"
    session = services.update_cart(make_cart(user=user, items=[ESPRESSO]))
    key = _queue_session_write(session, integration_id)
    shop.control.clear_requests()
    shop.control.add_fault(kind="latency", seconds=SLOW_PUT, method="PUT", times=1)

    thread, errors = in_thread(lambda: outbox.deliver_key(key, force=True))
    time.sleep(SLOW_PUT / 3)  # the delivery holds its row, waiting for Talon.One
    started = time.monotonic()
    services.erase_customer(user, requested_by="test")
    waited = time.monotonic() - started
    thread.join(10)

    assert errors == [] and not thread.is_alive()
    assert waited > SLOW_PUT / 3  # the erasure waited for the call
    assert _order(shop, integration_id, session.integration_id) == ["PUT", "DELETE"]
    row = OutboxMessage.objects.filter(key=key).latest("pk")
    assert row.result == "sent" and row.payload == {}  # what happened, without the data
    assert_erased(shop, integration_id, [session.integration_id], user.email, user.last_name)


def test_a_write_committed_during_the_erasure_is_sent_before_the_delete(
    shop: Any, django_user_model: Any
) -> None:
    user = customer(django_user_model, "race")
    integration_id = f"user-{user.pk}"
    session = services.update_cart(make_cart(user=user, items=[ESPRESSO]))
    shop.control.clear_requests()
    shop.control.add_fault(kind="latency", seconds=SLOW_PUT, method="PUT", times=1)

    def concurrent_write() -> None:
        key = _queue_session_write(session, integration_id)
        outbox.deliver_key(key, force=True)

    with transaction.atomic():
        services.erase_customer(user, requested_by="test")
        # Another connection queues and starts delivering a write now: it cannot see the
        # uncommitted erasure, nor the erasure its row.
        thread, errors = in_thread(concurrent_write)
        time.sleep(SLOW_PUT / 3)
    # Committed: the DELETE is delivered now, and waits for the PUT in flight.
    thread.join(10)

    assert errors == [] and not thread.is_alive()
    assert _order(shop, integration_id, session.integration_id) == ["PUT", "DELETE"]
    assert_erased(
        shop, integration_id, customer_session_ids(integration_id), user.email, user.last_name
    )


def test_an_erasure_during_a_profile_delivery_waits_for_it_without_a_deadlock(
    shop: Any, django_user_model: Any
) -> None:
    """The delivery holds its outbox row during the call and then writes the profile row; the
    erasure must take the rows in the same order (the outbox first). It locked the profile
    first, then waited for the outbox row: PostgreSQL found a deadlock and one side failed
    (a shop's "delete my account" answered a 500, nothing erased)."""
    user = customer(django_user_model, "profile-in-flight")
    integration_id = f"user-{user.pk}"
    key = profile_key(integration_id)
    with transaction.atomic():
        outbox.enqueue(
            PROFILE_UPDATE,
            key,
            {"integration_id": integration_id, "attributes": {"Name": "Ada"}},
            deliver=False,
        )
    shop.control.clear_requests()
    shop.control.add_fault(kind="latency", seconds=SLOW_PUT, method="PUT", times=1)

    thread, errors = in_thread(lambda: outbox.deliver_key(key, force=True))
    time.sleep(SLOW_PUT / 3)  # the delivery holds its row, waiting for Talon.One
    services.erase_customer(user, requested_by="test")
    thread.join(10)

    assert errors == [] and not thread.is_alive()
    calls = [c["method"] for c in shop.control.requests() if integration_id in c["path"]]
    assert calls == ["PUT", "DELETE"]
    assert_erased(shop, integration_id, [], user.email, user.last_name)
