"""The example shop's cart, checkout and order pages agree to the cent, and each adds up.

Through the shop's real views (Django's test client) wired to the emulator (demo campaigns:
coffee 1 off each, WELCOME10 = 10 %, a free tote over 100 EUR). On every page the shown
lines minus the shown discounts equal the shown total; the order is charged what the cart
and the checkout showed, also while Talon.One is down.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from example_project.orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def amounts(page: str, pattern: str) -> list[Decimal]:
    """Every amount in ``page`` right after ``pattern`` (signs, currency and grouping off)."""
    found = re.findall(pattern + r"\s*[-−]?([\d,]+\.\d\d)", page)
    return [Decimal(value.replace(",", "")) for value in found]


def one(page: str, pattern: str) -> Decimal:
    (value,) = amounts(page, pattern)
    return value


def cart_page(shop: Client) -> Decimal:
    """The cart page's total, after checking that it adds up."""
    page = shop.get("/cart/").content.decode()
    lines = amounts(page, r'data-test="line-total">')
    subtotal = one(page, r'data-test="subtotal">')
    discounts = amounts(page, r'class="talon-discount-amount">')
    total = one(page, r'class="talon-total">')
    assert sum(lines) == subtotal == one(page, r'class="talon-subtotal">')
    assert subtotal - sum(discounts) == total
    if discounts:
        assert sum(discounts) == one(page, r'class="talon-total-discount">')
    return total


def checkout_page(shop: Client) -> tuple[Decimal, str]:
    """The checkout's total (it adds up) and the page."""
    page = shop.get("/orders/checkout/").content.decode()
    lines = amounts(page, r'data-test="line-total">')
    discount = sum(amounts(page, r'data-test="discount-total">'), Decimal(0))
    total = one(page, r'data-test="checkout-total">')
    assert sum(lines) == one(page, r'data-test="items-total">')
    assert sum(lines) - discount == total
    return total, page


def order_page(shop: Client, order: Order) -> Decimal:
    page = shop.get(f"/orders/{order.pk}/").content.decode()
    lines = amounts(page, r'data-test="line-total">')
    discount = sum(amounts(page, r'data-test="discount-total">'), Decimal(0))
    total = one(page, r'data-test="order-total">')
    assert sum(lines) == one(page, r'data-test="items-total">')
    assert sum(lines) - discount == total
    return total


def place(shop: Client, shown: Decimal) -> Order:
    response = shop.post("/orders/checkout/", {"quoted_total": str(shown)})
    assert response.status_code == 302, response.content.decode()
    order: Order = Order.objects.get()
    return order


def add(shop: Client, sku: str, quantity: int = 1) -> None:
    shop.post("/cart/add/", {"sku": sku, "quantity": quantity})


def test_cart_checkout_and_order_agree_to_the_cent(shop: Client, talon_emulator: Any) -> None:
    add(shop, "GRINDER-X")
    add(shop, "FILTER-1KG")
    add(shop, "ESPRESSO-250", 3)
    shop.post("/talon/coupon/apply/", {"code": "WELCOME10", "next": "/cart/"})
    shown = cart_page(shop)
    # 138.50 - 4.00 (coffee 1 off each) - 13.85 (welcome 10 %)
    assert shown == Decimal("120.65")
    checkout, page = checkout_page(shop)
    assert checkout == shown and "Canvas tote bag (free)" in page
    order = place(shop, checkout)
    assert (order.subtotal, order.discount_total, order.total) == (
        Decimal("138.50"),
        Decimal("17.85"),
        shown,
    )
    assert order_page(shop, order) == shown
    shop.post(f"/orders/{order.pk}/pay/", {"card_number": "4242424242424242"})
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order_page(shop, order) == shown


def test_outage_at_checkout_charges_exactly_what_the_cart_showed(
    shop: Client, talon_emulator: Any
) -> None:
    add(shop, "GRINDER-X")
    add(shop, "FILTER-1KG")
    shop.post("/talon/coupon/apply/", {"code": "WELCOME10", "next": "/cart/"})
    talon_emulator.control.add_fault(kind="drop", path="/v2/customer_sessions/*")
    shown = cart_page(shop)
    assert shown == Decimal("100.70")  # the cart did not change: Talon.One's answer holds
    assert checkout_page(shop)[0] == shown
    order = place(shop, shown)
    assert order.total == shown and order.coupon_codes == ["WELCOME10"]
    shop.post(f"/orders/{order.pk}/pay/", {"card_number": "4242424242424242"})
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order_page(shop, order) == shown


def test_cart_changed_during_an_outage_is_shown_and_charged_at_full_price(
    shop: Client, talon_emulator: Any
) -> None:
    add(shop, "GRINDER-X")
    shop.post("/talon/coupon/apply/", {"code": "WELCOME10", "next": "/cart/"})
    assert cart_page(shop) == Decimal("80.10")  # 89.00 - 8.90
    talon_emulator.control.add_fault(kind="drop", path="/v2/customer_sessions/*")
    add(shop, "FILTER-1KG")
    page = shop.get("/cart/").content.decode()
    assert "you&#x27;ll be charged the full price" in page
    shown = cart_page(shop)
    assert shown == Decimal("113.00")  # never 113.00 - the old cart's 8.90
    checkout, page = checkout_page(shop)
    assert checkout == shown and 'data-test="promotions-pending"' in page
    order = place(shop, checkout)
    assert (order.total, order.discount_total, order.coupon_codes) == (shown, Decimal("0.00"), [])
    assert order_page(shop, order) == shown


def test_checkout_never_charges_a_total_the_customer_did_not_see(
    shop: Client, talon_emulator: Any
) -> None:
    add(shop, "GRINDER-X")
    response = shop.post("/orders/checkout/", {"quoted_total": "1.00"})
    assert response.status_code == 200 and not Order.objects.exists()
    assert "Your total is now 89.00 EUR" in response.content.decode()
    assert place(shop, Decimal("89.00")).total == Decimal("89.00")


def test_unrepresentable_stored_amount_never_breaks_the_pages(
    shop: Client, talon_emulator: Any
) -> None:
    from django_talon.models import CustomerSession

    add(shop, "GRINDER-X")
    session = CustomerSession.objects.get()
    broken = {
        **session.effects[0],
        "effectType": "setDiscount",
        "props": {"name": "x", "value": 1e29},
    }
    CustomerSession.objects.filter(pk=session.pk).update(effects=[*session.effects, broken])
    assert cart_page(shop) == Decimal("89.00")
    assert checkout_page(shop)[0] == Decimal("89.00")
    assert shop.get("/api/talon/promotions/").status_code == 200
