"""A shop keyed by UUIDs (tests/basketshop's ``Checkout``, ``CheckoutLine`` and
``CheckoutOrder``, as Saleor's checkouts are keyed by a token) through the default adapter,
against the emulator: the cart's session, a coupon, the quote, the close with its ledger
and the cancel. Every other test shop has integer keys, so model keys, outbox keys and
order keys had only ever met numbers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from django_talon import services
from django_talon.models import CustomerSession, Discrepancy, LedgerEntry, OutboxMessage
from django_talon.services.quotes import quote_for_cart
from tests.basketshop.models import Checkout, CheckoutLine, CheckoutOrder

pytestmark = pytest.mark.django_db(transaction=True)

WIRING: dict[str, Any] = {
    "DELIVERY": "sync",
    "SYNC_RELAY_INTERVAL": 0,
    "ADAPTER": "django_talon.adapters.TalonAdapter",
    "CART_MODELS": ["basketshop.Checkout"],
    "CART_ITEM_MODELS": ["basketshop.CheckoutLine"],
    "ORDER_MODELS": ["basketshop.CheckoutOrder"],
}


@pytest.fixture
def uuid_shop(settings: Any, talon_settings: dict[str, Any], talon_emulator: Any) -> Any:
    settings.TALON = {**settings.TALON, **WIRING}
    return talon_emulator


def _checkout(user: Any = None) -> Checkout:
    checkout = Checkout.objects.create(user=user)
    CheckoutLine.objects.create(
        checkout=checkout, sku="ESPRESSO-250", name="Espresso", price=Decimal("8.50"), quantity=2
    )
    CheckoutLine.objects.create(checkout=checkout, sku="GRINDER-X", name="Grinder", price=89)
    return checkout


def test_a_uuid_keyed_checkout_is_quoted_closed_and_booked(uuid_shop: Any) -> None:
    ann = get_user_model().objects.create_user("ann", "ann@shop.test", "pw")
    checkout = _checkout(ann)
    session = services.session_for_cart(checkout, create=False)
    assert session is not None, "the lines' saves updated no session"
    remote = uuid_shop.control.state()["sessions"][session.integration_id]
    assert [(i["sku"], i["quantity"]) for i in remote["cartItems"]] == [
        ("ESPRESSO-250", 2),
        ("GRINDER-X", 1),
    ]
    services.apply_coupon(checkout, "WELCOME10")
    quote = quote_for_cart(checkout, confirm=True)
    assert quote.confirmed and quote.coupon_codes == ("WELCOME10",)
    assert quote.discount_total > 0

    order = CheckoutOrder.objects.create(checkout=checkout, user=ann, status="paid")
    key = f"basketshop.checkoutorder:{order.pk}"
    charged = LedgerEntry.objects.get(order_key=key, kind="charged")
    booked = LedgerEntry.objects.get(order_key=key, kind="booked")
    assert charged.total == booked.total == quote.total
    assert not Discrepancy.objects.exists()
    assert CustomerSession.objects.get(pk=session.pk).state == "closed"
    assert uuid_shop.control.state()["sessions"][session.integration_id]["state"] == "closed"

    order.status = "cancelled"
    order.save()
    assert CustomerSession.objects.get(pk=session.pk).state == "cancelled"
    assert LedgerEntry.objects.filter(order_key=key, kind="cancelled").exists()
    assert not OutboxMessage.objects.filter(state="pending").exists()


def test_a_line_removed_from_a_uuid_keyed_checkout_is_sent(uuid_shop: Any) -> None:
    checkout = _checkout()  # anonymous
    line = checkout.lines.get(sku="GRINDER-X")
    line.delete()
    session = services.session_for_cart(checkout, create=False)
    assert session is not None
    remote = uuid_shop.control.state()["sessions"][session.integration_id]
    assert [i["sku"] for i in remote["cartItems"]] == ["ESPRESSO-250"]
