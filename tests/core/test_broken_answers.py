"""Broken answers from Talon.One (a real local HTTP server sends them): nothing raises into
the shop, nothing is lost, and the well-formed part of an answer is still used.

The emulator only answers well-formed JSON, so these tests serve the broken bodies from a
small local server instead.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from django_talon import services, signals
from django_talon.models import CustomerSession, OutboxMessage
from tests.client.support import JSONHandler, serve_http
from tests.core.conftest import ESPRESSO, make_cart
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def serving(body: bytes) -> type[JSONHandler]:
    class Handler(JSONHandler):
        def do_PUT(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.mark.parametrize("body", [b"not json{", b"[]", b"null"], ids=["not-json", "list", "null"])
def test_undecodable_answer_stays_queued_and_the_shop_goes_on(
    settings: Any, shop_settings: Any, body: bytes
) -> None:
    with serve_http(serving(body)) as url:
        settings.TALON = {**settings.TALON, "BASE_URL": url, "API_KEY": "k"}
        cart = make_cart(items=[ESPRESSO])
        services.apply_coupon(cart, "WELCOME10")
        summary = services.get_promotions(cart).summary()  # the cart page still renders
        assert [(c.code, c.status) for c in summary.coupons] == [("WELCOME10", "pending")]
        Order.objects.create(cart=cart, status="paid")  # fail open: the order is placed

    session = CustomerSession.objects.get()
    # Charged without Talon.One's discounts (nothing confirmed WELCOME10): the close does not
    # redeem it (TALON["CLOSE_UNCONFIRMED"], docs/reconciliation.md).
    assert session.state == "closed" and session.coupon_codes == []
    assert "TalonDecodeError" in session.last_error
    # Nothing lost: every write waits in the outbox for a sane answer.
    assert not OutboxMessage.objects.exclude(state=OutboxMessage.State.PENDING).exists()


def test_malformed_effects_do_not_discard_the_rest_of_the_answer(
    settings: Any, shop_settings: Any
) -> None:
    """One effect with ``props`` that is not an object must not fail the whole delivery."""
    good = {
        "effectType": "setDiscount",
        "campaignId": 1,
        "rulesetId": 1,
        "ruleIndex": 0,
        "ruleName": "Welcome 10%",
        "props": {"name": "Welcome 10%", "value": 1.7},
    }
    effects = [
        1,
        "x",
        {"effectType": "acceptCoupon", "props": "WELCOME10"},
        {"effectType": "rejectCoupon", "props": ["WELCOME10"]},
        {"effectType": "rejectReferral", "props": None},
        good,
    ]
    body = json.dumps({"effects": effects}).encode()
    rejections: list[str] = []

    def on_rejected(sender: Any, code: str, **kwargs: Any) -> None:
        rejections.append(code)

    signals.coupon_rejected.connect(on_rejected)
    try:
        with serve_http(serving(body)) as url:
            settings.TALON = {**settings.TALON, "BASE_URL": url, "API_KEY": "k"}
            cart = make_cart(items=[ESPRESSO])
            services.apply_coupon(cart, "WELCOME10")
    finally:
        signals.coupon_rejected.disconnect(on_rejected)
    assert rejections == []  # a rejection without a code rejects nothing

    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"done"}
    session = CustomerSession.objects.get()
    assert session.last_error == "" and session.effects_received_at is not None
    assert good in session.effects and len(session.effects) == 4  # non-objects dropped
    assert session.coupon_codes == ["WELCOME10"]  # nothing was really rejected
    summary = services.get_promotions(cart).summary()
    assert summary.total_discount == Decimal("1.70")


def test_a_429s_retry_after_is_waited_for(settings: Any, shop_settings: Any) -> None:
    """A 429 with ``Retry-After: 120``: the row waits at least that long (our own backoff would
    have retried after ``RETRY_BACKOFF`` seconds, into another 429); nothing is lost."""
    from datetime import timedelta

    from django.utils import timezone

    from tests.client.test_retry_after import refusing

    with serve_http(refusing(429, "120")) as url:
        settings.TALON = {**settings.TALON, "BASE_URL": url, "API_KEY": "k"}
        before = timezone.now()
        make_cart(items=[ESPRESSO])
    row = OutboxMessage.objects.get()
    assert row.state == OutboxMessage.State.PENDING and row.attempts == 1
    assert row.next_attempt_at >= before + timedelta(seconds=119)
    assert "429" in row.last_error
