"""``quote_for_cart(cart, confirm=True)``: the checkout's quote confirms a pending change.

A coupon applied while its delivery waits in the outbox (Celery not there yet, or an
immediate attempt that failed a moment ago) left the checkout quote ``pending`` at full
price: a customer who went straight to checkout was shown, and charged, the price without
the coupon. With ``confirm=True`` the pending change is delivered once, with the immediate
timeout, and the quote is Talon.One's answer; when Talon.One still fails, the quote stays
what it was (the checkout never breaks).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from django_talon import resilience, services
from django_talon.conf import talon_settings
from django_talon.models import OutboxMessage
from tests.core.conftest import ESPRESSO, GRINDER, make_cart

pytestmark = pytest.mark.django_db(transaction=True)

SESSIONS = "/v2/customer_sessions/*"


@pytest.fixture
def pending_coupon(shop: Any, settings: Any) -> Any:
    """A cart whose WELCOME10 update failed once and waits in the outbox."""
    settings.TALON = {**settings.TALON, "CLIENT_MAX_ATTEMPTS": 1}
    cart = make_cart(items=[ESPRESSO, GRINDER])
    shop.control.add_fault(kind="error", status=503, path=SESSIONS, times=1)
    services.apply_coupon(cart, "WELCOME10")
    assert OutboxMessage.objects.filter(state="pending").count() == 1
    return cart


def test_the_checkout_quote_delivers_the_pending_change(shop: Any, pending_coupon: Any) -> None:
    plain = services.quote_for_cart(pending_coupon)
    assert not plain.confirmed and plain.total == Decimal("106.00")

    quote = services.quote_for_cart(pending_coupon, confirm=True)
    assert quote.confirmed
    assert quote.coupon_codes == ("WELCOME10",) and quote.total == Decimal("93.40")
    assert not OutboxMessage.objects.filter(state="pending").exists()
    # the same for the session itself
    session = services.session_for_cart(pending_coupon, create=False)
    assert services.quote_for_cart(session, confirm=True).confirmed


def test_a_session_object_is_quoted_from_the_answer(shop: Any, pending_coupon: Any) -> None:
    session = services.session_for_cart(pending_coupon, create=False)
    assert session is not None
    quote = services.quote_for_cart(session, confirm=True)
    assert quote.confirmed and quote.total == Decimal("93.40")
    assert session.effects  # refreshed from the row the answer was stored on


def test_talon_one_still_failing_leaves_the_quote_as_it_was(shop: Any, pending_coupon: Any) -> None:
    shop.control.add_fault(kind="error", status=503, path=SESSIONS, times=5)
    quote = services.quote_for_cart(pending_coupon, confirm=True)
    assert not quote.confirmed and quote.total == Decimal("106.00")
    (row,) = OutboxMessage.objects.filter(state="pending")  # kept for the outbox's retry
    assert row.attempts == 2


def test_an_open_circuit_makes_no_call(shop: Any, pending_coupon: Any) -> None:
    for _ in range(talon_settings.BREAKER_THRESHOLD):
        resilience.breaker.record_failure()
    assert resilience.breaker.state() == "open"
    shop.clear_requests()
    quote = services.quote_for_cart(pending_coupon, confirm=True)
    assert not quote.confirmed
    assert shop.requests(SESSIONS.rstrip("*")) == []


def test_a_confirmed_quote_costs_no_outbox_query(shop: Any, django_assert_num_queries: Any) -> None:
    cart = make_cart(items=[ESPRESSO])
    services.quote_for_cart(cart)  # warm
    with django_assert_num_queries(1):  # the mirror's session, as without confirm
        assert services.quote_for_cart(cart, confirm=True).confirmed
