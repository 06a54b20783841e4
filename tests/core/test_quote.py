"""The quote (``services.quote_for_cart``) against the emulator: shown = charged.

A quote carries only discounts Talon.One computed for the cart as it is now: confirmed for
exactly this cart, the last good answer while only the session's state changed, none (with
a message) once the cart changed since the last answer. The demo campaigns: coffee 1 off
each item, WELCOME10 = 10 % off, a free tote over 100 EUR.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from django_talon import resilience, services
from django_talon.client.effects import SetDiscount, SetDiscountPerItem
from django_talon.models import CustomerSession
from django_talon.services import QuoteStatus
from tests.core.shop import ESPRESSO, GRINDER, KETTLE, make_cart
from tests.shopapp.models import CartItem

pytestmark = pytest.mark.django_db(transaction=True)

FULL_PRICE = Decimal("106.00")  # 2 x 8.50 espresso + 89.00 grinder
WITH_WELCOME = Decimal("93.40")  # - 2.00 coffee - 10.60 welcome
WITH_KETTLE = Decimal("151.00")


def welcome_cart() -> Any:
    cart = make_cart(items=[ESPRESSO, GRINDER])
    services.apply_coupon(cart, "WELCOME10")
    return cart


def add_kettle(cart: Any) -> None:
    sku, name, price, quantity, category = KETTLE
    CartItem.objects.create(
        cart=cart, sku=sku, name=name, price=Decimal(price), quantity=quantity, category=category
    )


def test_a_confirmed_quote_is_what_talon_answered(shop: Any) -> None:
    cart = welcome_cart()
    quote = services.quote_for_cart(cart)
    session = services.session_for_cart(cart, create=False)
    assert session is not None
    assert quote.status is QuoteStatus.CONFIRMED and quote.confirmed and quote.message == ""
    assert quote.fingerprint == session.fingerprint == session.pushed_fingerprint
    assert quote.session_id == session.integration_id
    assert (quote.subtotal, quote.discount_total, quote.total) == (
        FULL_PRICE,
        Decimal("12.60"),
        WITH_WELCOME,
    )
    assert quote.coupon_codes == ("WELCOME10",)
    assert quote.lines[0].discount == Decimal("2.00") and quote.lines[0].total == Decimal("15.00")
    assert [item.sku for item in quote.free_items] == ["FREE-TOTE"]
    # The same cart evaluated by Talon.One now (a dry run) grants exactly these discounts.
    answered = sum(
        (Decimal(str(e.value)) for e in services.evaluate_cart(cart)
         if isinstance(e, SetDiscount | SetDiscountPerItem)),
        Decimal(0),
    )  # fmt: skip
    assert quote.discount_total == answered
    assert sum(quote.discounts_by_campaign().values()) == answered
    # The lines, minus the cart-level part, add up to the total.
    assert quote.items_total - quote.cart_discount_applied == quote.total
    data = quote.to_dict()
    assert (data["status"], data["total"], data["coupon_codes"]) == (
        "confirmed",
        "93.40",
        ["WELCOME10"],
    )


def test_pending_state_change_with_an_unchanged_cart_keeps_the_last_good_discounts(
    shop: Any,
) -> None:
    """The close waits in the outbox (kill switch on): the cart is the one Talon.One
    priced, so the quote still carries that answer, flagged pending with a message."""
    cart = welcome_cart()
    resilience.set_kill_switch(True)
    services.close_session(cart, fail_closed=False)
    session = CustomerSession.objects.get()
    assert session.state == "closed" and session.fingerprint != session.pushed_fingerprint
    quote = services.quote_for_cart(session)
    assert quote.status is QuoteStatus.PENDING and not quote.confirmed
    assert quote.total == WITH_WELCOME and quote.coupon_codes == ("WELCOME10",)
    assert quote.message
    # get_promotions(...).summary() shows what the quote charges (it showed nothing here).
    stored = services.get_promotions(session)
    assert not stored.in_sync and stored.carries_effects()
    shown = stored.summary()
    assert shown.total == quote.total == WITH_WELCOME
    assert shown.discounts == quote.summary.discounts != []


def test_changed_cart_while_pending_carries_no_discounts(shop: Any) -> None:
    """A newer cart waits for its answer: the old cart's discounts against the new subtotal
    would be a total that was never valid."""
    cart = welcome_cart()
    with transaction.atomic():  # the immediate delivery runs after commit
        add_kettle(cart)
        quote = services.quote_for_cart(cart)
        stored = services.get_promotions(cart)
    assert not stored.carries_effects() and stored.summary().total == WITH_KETTLE
    assert quote.status is QuoteStatus.PENDING
    assert quote.subtotal == WITH_KETTLE and quote.total == WITH_KETTLE
    assert quote.discount_total == Decimal("0.00") and quote.discounts_by_campaign() == {}
    assert quote.coupon_codes == () and quote.free_items == () and quote.loyalty == ()
    assert "full price" in quote.message
    # Its view (what the tags and the REST API show) has the same numbers.
    assert quote.summary is not None and quote.summary.total == WITH_KETTLE
    assert quote.summary.discounts == []
    # Once Talon.One answered the new cart, the quote is confirmed again.
    confirmed = services.quote_for_cart(cart)
    assert confirmed.confirmed and confirmed.total < WITH_KETTLE


@pytest.mark.parametrize("outage", ["fault", "kill_switch"])
def test_changed_cart_during_an_outage_is_full_price_and_says_so(shop: Any, outage: str) -> None:
    cart = welcome_cart()
    if outage == "fault":
        shop.control.add_fault(kind="drop", path="/v2/customer_sessions/*")
    else:
        resilience.set_kill_switch(True)
    add_kettle(cart)
    quote = services.quote_for_cart(cart)
    assert quote.status is QuoteStatus.UNAVAILABLE
    assert quote.total == WITH_KETTLE and quote.coupon_codes == ()
    assert quote.message == (
        "We couldn't confirm your discounts right now; you'll be charged the full price."
    )


def test_unchanged_cart_during_an_outage_stays_confirmed(shop: Any) -> None:
    cart = welcome_cart()
    shop.control.add_fault(kind="drop", path="/v2/customer_sessions/*")
    quote = services.quote_for_cart(cart)
    assert quote.confirmed and quote.total == WITH_WELCOME


def test_stale_answer_is_no_discount(shop: Any, settings: Any) -> None:
    cart = welcome_cart()
    CustomerSession.objects.update(effects_received_at=timezone.now() - timedelta(days=3))
    settings.TALON = {**settings.TALON, "EFFECTS_MAX_AGE": 3600}
    quote = services.quote_for_cart(cart)
    assert quote.status is QuoteStatus.STALE
    assert quote.total == FULL_PRICE and quote.message


def test_no_cart_is_an_empty_confirmed_quote(shop: Any) -> None:
    quote = services.quote_for_cart(None)
    assert quote.status is QuoteStatus.CONFIRMED
    assert (quote.lines, quote.total, quote.session_id) == ((), Decimal("0.00"), "")


def test_the_quote_costs_no_api_call(shop: Any) -> None:
    cart = welcome_cart()
    shop.control.clear_requests()
    services.quote_for_cart(cart)
    assert shop.control.requests("/v2/") == []
