"""The example shop's delivery and free gift, through its real views and the emulator.

Standard delivery costs 4.90 (the ``shipping`` additional cost); the demo campaigns make it
free from a subtotal of 50.00 ("Free shipping over 50", campaign 8) and give a canvas tote
from 100.00 (campaign 2), which the shop puts into the cart at price 0. Cart, checkout and
order pages show the same shipping, the order is charged it, and the ledger books it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from django_talon import services
from django_talon.models import CustomerSession, Discrepancy, LedgerEntry
from example_project.cart.models import CartItem
from example_project.orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def add(shop: Client, sku: str, quantity: int = 1) -> None:
    shop.post("/cart/add/", {"sku": sku, "quantity": quantity})


def money(page: str, pattern: str) -> list[Decimal]:
    found = re.findall(pattern + r"\s*[-−]?([\d,]+\.\d\d)", page)
    return [Decimal(v.replace(",", "")) for v in found]


def standard_delivery(shop: Client) -> None:
    response = shop.post("/cart/delivery/", {"delivery": "standard"})
    assert response.status_code == 302


def place(shop: Client) -> tuple[Order, str]:
    checkout = shop.get("/orders/checkout/").content.decode()
    (total,) = money(checkout, r'data-test="checkout-total">')
    response = shop.post("/orders/checkout/", {"quoted_total": str(total)})
    assert response.status_code == 302, response.content.decode()
    order: Order = Order.objects.get()
    assert order.total == total
    return order, checkout


def session_of(order: Order) -> CustomerSession:
    session = services.session_for_order(order)
    assert session is not None
    return session


def test_shipping_below_the_threshold_is_shown_charged_and_booked(
    shop: Client, talon_emulator: Any
) -> None:
    add(shop, "ESPRESSO-250", 2)  # 17.00 - 2.00 coffee 1 off each
    standard_delivery(shop)
    cart = shop.get("/cart/").content.decode()
    assert money(
        cart,
        r'data-cost="shipping"><span class="talon-cost-name">Shipping</span> <span class="talon-cost-price">',
    ) == [Decimal("4.90")]
    assert "talon-cost-discount" not in cart
    assert money(cart, r'class="talon-total">') == [Decimal("19.90")]

    order, checkout = place(shop)
    assert 'data-test="additional-cost" data-cost="shipping"' in checkout
    assert (order.subtotal, order.discount_total, order.shipping, order.total) == (
        Decimal("17.00"),
        Decimal("2.00"),
        Decimal("4.90"),
        Decimal("19.90"),
    )
    page = shop.get(f"/orders/{order.pk}/").content.decode()
    assert money(page, r'data-test="shipping-total">') == [Decimal("4.90")]
    lines = money(page, r'data-test="line-total">')
    assert sum(lines) + Decimal("4.90") == order.total

    shop.post(f"/orders/{order.pk}/pay/", {"card_number": "4242424242424242"})
    session = session_of(order)
    remote = talon_emulator.control.state()["sessions"][session.integration_id]
    assert remote["state"] == "closed"
    assert remote["additionalCosts"] == {"shipping": {"price": 4.9}}
    charged = LedgerEntry.objects.get(session_id=session.integration_id, kind="charged")
    booked = LedgerEntry.objects.get(session_id=session.integration_id, kind="booked")
    assert charged.total == booked.total == Decimal("19.90")
    assert not Discrepancy.objects.exists()


def test_free_shipping_over_50_from_cart_to_cancel(shop: Client, talon_emulator: Any) -> None:
    add(shop, "KETTLE-GOOSENECK")
    add(shop, "ESPRESSO-250")  # 53.50 - 1.00
    standard_delivery(shop)
    cart = shop.get("/cart/").content.decode()
    assert 'class="talon-discount talon-cost-discount" data-cost="shipping"' in cart
    assert money(
        cart,
        r'<span class="talon-discount-name">Shipping</span> <span class="talon-discount-amount">',
    ) == [Decimal("4.90")]
    assert "(Free shipping over 50)" in cart
    assert money(cart, r'class="talon-total">') == [Decimal("52.50")]

    order, checkout = place(shop)
    assert 'data-test="additional-cost-discount"' in checkout
    assert (order.shipping, order.total) == (Decimal("0.00"), Decimal("52.50"))
    shop.post(f"/orders/{order.pk}/pay/", {"card_number": "4242424242424242"})
    session = session_of(order)
    booked = LedgerEntry.objects.get(session_id=session.integration_id, kind="booked")
    assert booked.discounts_by_campaign == {"4": "1.00", "8": "4.90"}
    assert not Discrepancy.objects.exists()

    shop.post(f"/orders/{order.pk}/cancel/")
    cancelled = LedgerEntry.objects.get(session_id=session.integration_id, kind="cancelled")
    assert cancelled.discounts_by_campaign == {"4": "1.00", "8": "4.90"}
    assert not Discrepancy.objects.exists()


def test_collecting_in_store_again_drops_the_shipping(shop: Client, talon_emulator: Any) -> None:
    add(shop, "ESPRESSO-250")
    standard_delivery(shop)
    shop.post("/cart/delivery/", {"delivery": "pickup"})
    session = CustomerSession.objects.get()
    assert session.additional_costs == {"shipping": {"price": 0.0}}
    remote = talon_emulator.control.state()["sessions"][session.integration_id]
    assert remote["additionalCosts"] == {"shipping": {"price": 0.0}}
    cart = shop.get("/cart/").content.decode()
    assert 'data-cost="shipping"' not in cart
    assert money(cart, r'class="talon-total">') == [Decimal("7.50")]


def test_the_free_tote_goes_into_the_cart_once(shop: Client, talon_emulator: Any) -> None:
    add(shop, "GRINDER-X")
    add(shop, "FILTER-1KG")  # 113.00: the tote is granted
    tote = CartItem.objects.get(product__sku="FREE-TOTE")
    assert tote.free and tote.line_total == 0
    cart = shop.get("/cart/").content.decode()
    assert 'data-test="free-line">(free gift)' in cart
    assert money(cart, r'class="talon-total">') == [Decimal("112.00")]

    shop.post("/cart/update/", {"sku": "FREE-TOTE", "quantity": 0})  # no thanks
    add(shop, "ESPRESSO-250")  # a new answer still grants the tote
    assert not CartItem.objects.filter(product__sku="FREE-TOTE").exists()

    order, checkout = place(shop)
    assert "Canvas tote bag (free)" in checkout  # granted, shown, handed over at no cost
    assert order.lines.get(sku="FREE-TOTE").unit_price == 0
