"""Reconciliation against the emulator: booked (Talon.One's close) versus charged (the quote).

Talon.One down at checkout, a campaign changed between the quote and the close, a budget
used up by another order, the ``CLOSE_UNCONFIRMED`` setting, and the re-check against
``GET /v2/customer_sessions/{id}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from django_talon import outbox, resilience, services, signals
from django_talon.models import CustomerSession, Discrepancy, LedgerEntry, OutboxMessage
from tests.core.conftest import ESPRESSO, GRINDER, make_cart
from tests.shopapp.models import CartItem, Order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def found() -> Iterator[list[Discrepancy]]:
    """Discrepancies announced through ``discrepancy_found``."""
    seen: list[Discrepancy] = []

    def receiver(sender: Any, discrepancy: Discrepancy, **kw: Any) -> None:
        seen.append(discrepancy)

    signals.discrepancy_found.connect(receiver, dispatch_uid="test-reconciliation")
    yield seen
    signals.discrepancy_found.disconnect(dispatch_uid="test-reconciliation")


def campaign(shop: Any, campaign_id: int) -> Any:
    """The emulator's live campaign object (a per-reset copy: changing it changes this test)."""
    return shop.server.app.store.campaign_by_id[campaign_id]


def recover(shop: Any) -> None:
    """Talon.One is back: no faults, breaker closed, every pending row delivered."""
    shop.control.clear_faults()
    resilience.breaker.reset()
    OutboxMessage.objects.filter(state="pending").update(next_attempt_at=timezone.now())
    while outbox.relay() and OutboxMessage.objects.filter(state="pending").exists():
        pass
    assert not OutboxMessage.objects.exclude(state="done").exists(), "writes lost"


def checkout_during_outage(shop: Any, items: list[Any], extra: Any) -> tuple[Order, str]:
    """Codes applied while Talon.One answers, then it goes down, the cart changes and the
    order is placed (fail-open): charged from an unavailable quote, without discounts."""
    cart = make_cart(items=items)
    services.apply_coupon(cart, "WELCOME10")
    shop.control.add_fault(kind="error", status=503, path="/v2/customer_sessions/*")
    sku, name, price, quantity, category = extra
    CartItem.objects.create(
        cart=cart, sku=sku, name=name, price=Decimal(price), quantity=quantity, category=category
    )
    quote = services.quote_for_cart(cart)
    assert not quote.confirmed and quote.discount_total == 0
    order = Order.objects.create(cart=cart, status="paid")
    session = services.session_for_order(order)
    assert session is not None
    return order, session.integration_id


def test_outage_at_checkout_close_redeems_no_coupon(shop: Any, found: list[Any]) -> None:
    order, session_id = checkout_during_outage(
        shop, [GRINDER], ("KETTLE-GOOSENECK", "Kettle", "45.00", 1, "equipment")
    )
    recover(shop)

    remote = shop.control.state()["sessions"][session_id]
    assert remote["state"] == "closed"
    assert remote["couponCodes"] == []  # WELCOME10 was not given, so it is not redeemed
    closes = [
        r["body"]["customerSession"]
        for r in shop.control.requests(f"/v2/customer_sessions/{session_id}")
        if r["method"] == "PUT" and r["body"]["customerSession"]["state"] == "closed"
    ]
    assert closes and all(c["couponCodes"] == [] for c in closes)
    charged = LedgerEntry.objects.get(session_id=session_id, kind="charged")
    assert charged.quote_status in {"unavailable", "pending"}
    assert charged.discount_total == 0 and charged.coupon_codes == []
    assert "WELCOME10" in charged.note and "charged without Talon.One's discounts" in charged.note
    booked = LedgerEntry.objects.get(session_id=session_id, kind="booked")
    assert booked.coupon_codes == [] and booked.discount_total == 0
    assert "closed with couponCodes: []" in booked.note
    assert not any(e["effectType"] == "acceptCoupon" for e in booked.effects)
    # Grinder + kettle: no automatic discount, so booked (0) = charged (0): reconciled.
    assert not Discrepancy.objects.exists() and found == []
    session = CustomerSession.objects.get(integration_id=session_id)
    assert session.coupon_codes == []


def test_outage_with_an_automatic_discount_is_a_discrepancy(shop: Any, found: list[Any]) -> None:
    """Coffee 1 off each applies at the close whatever the codes: Talon.One books 2.00 the
    shopper was not given; recorded, with the reason."""
    order, session_id = checkout_during_outage(shop, [ESPRESSO], GRINDER)
    recover(shop)

    discrepancy = Discrepancy.objects.get()
    assert found == [discrepancy]
    assert discrepancy.reason == Discrepancy.Reason.OUTAGE_AT_CHECKOUT
    assert discrepancy.order_key == f"shopapp.order:{order.pk}"
    assert discrepancy.charged_by_campaign == {}
    assert discrepancy.booked_by_campaign == {"4": "2.00"}
    assert discrepancy.booked_discount - discrepancy.charged_discount == Decimal("2.00")
    assert discrepancy.difference == Decimal("2.00")
    assert discrepancy.codes_not_charged == []  # WELCOME10 was not redeemed
    assert discrepancy.entry.kind == "booked"
    assert discrepancy.charged_entry.kind == "charged"
    assert "confirmation" in discrepancy.detail


def test_close_with_codes_setting_redeems_and_records_it(
    settings: Any, shop: Any, found: list[Any]
) -> None:
    settings.TALON = {**settings.TALON, "CLOSE_UNCONFIRMED": "with_codes"}
    _, session_id = checkout_during_outage(
        shop, [GRINDER], ("KETTLE-GOOSENECK", "Kettle", "45.00", 1, "equipment")
    )
    recover(shop)

    assert shop.control.state()["sessions"][session_id]["couponCodes"] == ["WELCOME10"]
    discrepancy = Discrepancy.objects.get()
    assert discrepancy.reason == Discrepancy.Reason.OUTAGE_AT_CHECKOUT
    assert discrepancy.codes_not_charged == ["WELCOME10"]
    assert discrepancy.booked_by_campaign == {"1": "13.40"}


def test_campaign_changed_between_quote_and_close(shop: Any, found: list[Any]) -> None:
    cart = make_cart(items=[GRINDER])
    services.apply_coupon(cart, "WELCOME10")
    quote = services.quote_for_cart(cart)
    assert quote.confirmed and quote.discounts_by_campaign() == {1: Decimal("8.90")}
    welcome = campaign(shop, 1)
    welcome.effects = [{**welcome.effects[0], "percent": 5}]  # marketing edits the campaign

    order = Order.objects.create(cart=cart, status="paid")

    discrepancy = Discrepancy.objects.get()
    assert found == [discrepancy]
    assert discrepancy.reason == Discrepancy.Reason.CAMPAIGN_CHANGED
    assert discrepancy.order_key == f"shopapp.order:{order.pk}"
    assert discrepancy.charged_by_campaign == {"1": "8.90"}
    assert discrepancy.booked_by_campaign == {"1": "4.45"}
    assert discrepancy.difference == Decimal("-4.45")
    assert "campaign 1: charged 8.90, booked 4.45" in discrepancy.detail


def test_budget_used_up_by_another_order(shop: Any) -> None:
    campaign(shop, 1).redemption_limit = 1
    first, second = make_cart(items=[GRINDER]), make_cart(items=[GRINDER])
    for cart in (first, second):
        services.apply_coupon(cart, "WELCOME10")
        assert services.quote_for_cart(cart).confirmed  # both shown 10% off

    Order.objects.create(cart=first, status="paid")
    assert not Discrepancy.objects.exists()
    order = Order.objects.create(cart=second, status="paid")

    discrepancy = Discrepancy.objects.get()
    assert discrepancy.order_key == f"shopapp.order:{order.pk}"
    assert discrepancy.reason == Discrepancy.Reason.BUDGET_EXHAUSTED
    assert "WELCOME10 rejected at the close (CampaignLimitReached)" in discrepancy.detail
    assert discrepancy.charged_by_campaign == {"1": "8.90"}
    assert discrepancy.booked_by_campaign == {}


def test_recheck_against_get_session(shop: Any) -> None:
    cart = make_cart(items=[GRINDER])
    services.apply_coupon(cart, "WELCOME10")
    welcome = campaign(shop, 1)
    welcome.effects = [{**welcome.effects[0], "percent": 5}]
    Order.objects.create(cart=cart, status="paid")
    discrepancy = Discrepancy.objects.get()

    # Talon.One still books 5%: the discrepancy holds.
    assert services.recheck_discrepancy(discrepancy) is False
    discrepancy.refresh_from_db()
    assert discrepancy.status == "open" and discrepancy.checked_at is not None
    gets = [r for r in shop.control.requests("/v2/customer_sessions/") if r["method"] == "GET"]
    assert len(gets) == 1


def test_recheck_resolves_what_talon_one_now_agrees_with(shop: Any) -> None:
    """A booked entry that disagreed (e.g. an answer lost in transit) is resolved once the
    session as Talon.One holds it matches what was charged."""
    cart = make_cart(items=[GRINDER])
    services.apply_coupon(cart, "WELCOME10")
    order = Order.objects.create(cart=cart, status="paid")
    assert not Discrepancy.objects.exists()
    charged = LedgerEntry.objects.get(kind="charged")
    odd = LedgerEntry.objects.create(
        order_key=charged.order_key,
        session_id=charged.session_id,
        kind=LedgerEntry.Kind.BOOKED,
        cart_items=charged.cart_items,
        discounts_by_campaign={"1": "1.00"},
    )
    discrepancy = services.reconcile_entry(odd)
    assert discrepancy is not None and discrepancy.order_key == f"shopapp.order:{order.pk}"

    assert services.recheck_discrepancy(discrepancy) is True
    discrepancy.refresh_from_db()
    assert discrepancy.status == "resolved" and discrepancy.resolved_at is not None
    assert "booked = charged" in discrepancy.detail


def test_recheck_during_an_outage_raises_and_changes_nothing(shop: Any) -> None:
    from django_talon.exceptions import TalonUnavailableError

    cart = make_cart(items=[GRINDER])
    services.apply_coupon(cart, "WELCOME10")
    welcome = campaign(shop, 1)
    welcome.effects = [{**welcome.effects[0], "percent": 5}]
    Order.objects.create(cart=cart, status="paid")
    discrepancy = Discrepancy.objects.get()
    shop.control.add_fault(kind="error", status=503, path="/v2/customer_sessions/*")
    with pytest.raises(TalonUnavailableError):
        services.recheck_discrepancy(discrepancy)
    discrepancy.refresh_from_db()
    assert discrepancy.checked_at is None and discrepancy.status == "open"


def test_outage_at_checkout_close_redeems_no_referral(
    shop: Any, found: list[Any], django_user_model: Any
) -> None:
    """The referral half of "close what was charged": a referral code the shopper entered
    but was not given (charged during an outage) is not sent with the close."""
    advocate = django_user_model.objects.create_user("advocate", email="adv@example.com")
    shopper = django_user_model.objects.create_user("shopper", email="shop@example.com")
    referral = services.create_referral(advocate, 5)
    cart = make_cart(user=shopper, items=[GRINDER])
    session = services.apply_referral(cart, referral.code)
    assert session.referral_code == referral.code
    shop.control.add_fault(kind="error", status=503, path="/v2/customer_sessions/*")
    CartItem.objects.create(
        cart=cart, sku="KETTLE-GOOSENECK", name="Kettle", price=Decimal("45.00"), quantity=1
    )
    assert not services.quote_for_cart(cart).confirmed
    Order.objects.create(cart=cart, status="paid")
    recover(shop)

    closes = [
        r["body"]["customerSession"]
        for r in shop.control.requests(f"/v2/customer_sessions/{session.integration_id}")
        if r["method"] == "PUT" and r["body"]["customerSession"].get("state") == "closed"
    ]
    assert closes and all(not c.get("referralCode") for c in closes)
    remote = shop.control.state()["sessions"][session.integration_id]
    assert remote["state"] == "closed" and not remote.get("referralCode")
    charged = LedgerEntry.objects.get(session_id=session.integration_id, kind="charged")
    assert charged.referral_code == "" and referral.code in charged.note  # entered, not given
