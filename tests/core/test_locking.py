"""Per-key exclusivity on PostgreSQL: a key being delivered by one connection is "busy" for
every other connection (SELECT ... FOR UPDATE NOWAIT), and the holder drains rows committed
meanwhile. OPS's worker tests show the same with real processes and a real broker."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, transaction

from django_talon import outbox
from django_talon.models import OutboxMessage
from tests.core.conftest import ESPRESSO, FakeClient, make_cart
from tests.resources import require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_second_connection_finds_the_key_busy_and_the_holder_drains(
    settings: Any, fake_client: FakeClient
) -> None:
    require_postgres()
    assert connection.vendor == "postgresql"
    settings.TALON = {**settings.TALON, "ENABLED": False}  # rows stay pending
    make_cart(items=[ESPRESSO])
    head = OutboxMessage.objects.get()
    settings.TALON = {**settings.TALON, "ENABLED": True}

    locked = threading.Event()
    release = threading.Event()
    holder_report: list[outbox.DeliveryReport] = []

    def holder() -> None:
        # Another "process": lock the head exactly as deliver_key does, keep it while a
        # second row is committed and a second deliverer tries, then deliver everything.
        try:
            with transaction.atomic():
                list(
                    OutboxMessage.objects.select_for_update(nowait=True)
                    .filter(pk=head.pk)
                    .values_list("pk", flat=True)
                )
                locked.set()
                release.wait(10)
            holder_report.append(outbox.deliver_key(head.key, force=True))
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    assert locked.wait(10)
    second = OutboxMessage.objects.create(
        operation="session.state", key=head.key, payload=head.payload
    )
    report = outbox.deliver_key(head.key, force=True)
    assert report.stopped == "busy" and report.sent == 0
    assert fake_client.calls == [], "never two deliveries of one key at once"
    release.set()
    thread.join(10)
    (done,) = holder_report
    assert done.stopped == "empty"
    second.refresh_from_db()
    head.refresh_from_db()
    assert head.result == "superseded" and second.state == "done"
    assert len(fake_client.calls) == 1
