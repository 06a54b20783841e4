"""An answer holding ``NaN`` (or ``Infinity``) is a recorded, retryable delivery failure.

Before, the client's ``json.loads`` accepted it, the session's effects were saved with the
NaN in a JSON column, the database refused them and the ``IntegrityError`` escaped
``deliver_key`` (the fault review's ``nan_relay``: every redelivery raised again, after
Talon.One had applied the call). Now the client raises ``TalonDecodeError``, the guarded
call makes it a ``TalonRequestFailedError`` (not permanent, not an outage) and the outbox
records the failed attempt on the row and backs off. A real local server sends the answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from django_talon import outbox, resilience
from django_talon.models import CustomerSession, OutboxMessage
from tests.client.support import JSONHandler, serve_http
from tests.core.shop import ESPRESSO, make_cart
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

#: A session update's answer whose discount is NaN, as ``json.dumps(allow_nan=True)`` writes.
NAN_ANSWER = (
    b'{"effects": [{"effectType": "setDiscount", "campaignId": 1, "rulesetId": 1, '
    b'"ruleIndex": 0, "ruleName": "Welcome 10%", "props": {"name": "Welcome 10%", '
    b'"value": NaN}}], "createdCoupons": [], "createdReferrals": []}'
)


class NaNAnswers(JSONHandler):
    """Answers every session update with :data:`NAN_ANSWER`; counts the updates."""

    puts = 0

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).puts += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(NAN_ANSWER)))
        self.end_headers()
        self.wfile.write(NAN_ANSWER)


@pytest.fixture
def nan_talon(settings: Any, shop_settings: Any) -> Any:
    NaNAnswers.puts = 0
    with serve_http(NaNAnswers) as url:
        settings.TALON = {**settings.TALON, "BASE_URL": url, "API_KEY": "k"}
        resilience.breaker.reset()
        yield settings


def test_a_delivery_answered_with_nan_records_a_failure_on_its_row(nan_talon: Any) -> None:
    nan_talon.TALON = {**nan_talon.TALON, "ENABLED": False}  # queue the cart's update
    make_cart(items=[ESPRESSO])
    nan_talon.TALON = {**nan_talon.TALON, "ENABLED": True}
    (row,) = OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING)

    report = outbox.deliver_key(row.key, force=True)  # must not raise

    assert NaNAnswers.puts == 1
    assert (report.sent, report.failed, report.dead, report.stopped) == (0, 1, 0, "failed")
    row.refresh_from_db()
    assert row.state == OutboxMessage.State.PENDING and row.attempts == 1  # retried later
    assert "TalonDecodeError" in row.last_error and "NaN is not a JSON value" in row.last_error
    assert report.errors == [row.last_error]
    # Nothing of the answer was stored, and an outage was not counted (Talon.One answered).
    session = CustomerSession.objects.get()
    assert session.effects == [] and session.effects_received_at is None
    assert resilience.breaker.state() == "closed"

    # The next attempt meets the same answer: again a recorded failure, never an exception.
    report = outbox.deliver_key(row.key, force=True)
    row.refresh_from_db()
    assert report.failed == 1 and row.attempts == 2 and NaNAnswers.puts == 2


def test_the_shop_goes_on_when_talon_one_answers_nan(nan_talon: Any) -> None:
    """Cart change and fail-open order placement: nothing raises, every write waits."""
    cart = make_cart(items=[ESPRESSO])  # the immediate attempt meets the NaN answer
    Order.objects.create(cart=cart, status="paid")

    session = CustomerSession.objects.get()
    assert session.state == "closed" and "TalonDecodeError" in session.last_error
    # The update's attempt failed (recorded on its row); the close waits behind it, in order.
    update, close = OutboxMessage.objects.order_by("id")
    assert NaNAnswers.puts == 1
    assert update.state == close.state == OutboxMessage.State.PENDING
    assert "NaN is not a JSON value" in update.last_error and update.attempts == 1
    assert close.operation == "session.state" and close.attempts == 0
