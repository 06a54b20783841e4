"""The example shop's Coffee Club: points earned by a paid order, the "My points" page,
"use my points" in the cart, the checkout charging the points' discount, the close spending
them and a cancel giving them back (the shop's own views, the emulator's ledger)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from example_project.orders.models import Order
from tests.example.test_order_adds_up import add, cart_page, checkout_page, order_page

pytestmark = pytest.mark.django_db(transaction=True)


def buy(shop: Client) -> Order:
    """Check the cart out at the total it shows, and pay."""
    total, _ = checkout_page(shop)
    response = shop.post("/orders/checkout/", {"quoted_total": str(total)})
    assert response.status_code == 302, response.content.decode()
    order: Order = Order.objects.latest("pk")
    shop.post(f"/orders/{order.pk}/pay/", {"card_number": "4242424242424242"})
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    return order


def active_points(shop: Client) -> Decimal:
    page = shop.get("/accounts/points/").content.decode()
    (points,) = re.findall(r'class="talon-points-active" data-points="([\d.]+)"', page)
    return Decimal(points)


def test_my_points_page_shows_what_an_order_earned(shop: Client, talon_emulator: Any) -> None:
    page = shop.get("/accounts/points/").content.decode()
    assert 'data-points="0"' in page and "No points yet." in page
    add(shop, "GRINDER-X")  # 89.00: 89 points
    buy(shop)
    page = shop.get("/accounts/points/").content.decode()
    assert 'class="talon-points-active" data-points="89"' in page
    assert 'data-type="addition"' in page and "+89" in page and "Coffee Club points" in page
    assert 'data-test="points-link"' in page  # the header links the page


def test_use_my_points_in_the_cart_then_cancel(shop: Client, talon_emulator: Any) -> None:
    add(shop, "GRINDER-X")
    buy(shop)
    assert active_points(shop) == 89

    add(shop, "GRINDER-X")
    page = shop.get("/cart/").content.decode()
    assert 'data-test="points"' in page and "Use my points (89 available)" in page
    answer = shop.post("/talon/points/redeem/", {"points": "80", "next": "/cart/"})
    assert answer.status_code == 302 and answer["Location"] == "/cart/"
    page = shop.get("/cart/").content.decode()
    assert "80 points will be used." in page
    assert "Paid with points" in page and "This order uses 80 of your points." in page
    shown = cart_page(shop)  # adds up, with the points' discount
    assert shown == Decimal("89.00") - Decimal("0.80")

    order = buy(shop)
    assert order.total == shown
    assert order_page(shop, order) == shown
    assert active_points(shop) == 89 - 80 + 89
    page = shop.get("/accounts/points/").content.decode()
    assert 'data-type="subtraction"' in page and "-80" in page

    shop.post(f"/orders/{order.pk}/cancel/")
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert active_points(shop) == 89  # the 80 spent are back, the 89 earned are gone


def test_more_points_than_the_balance_are_refused(shop: Client, talon_emulator: Any) -> None:
    add(shop, "GRINDER-X")
    shop.post("/talon/points/redeem/", {"points": "5", "next": "/cart/"})
    page = shop.get("/cart/").content.decode()
    assert "You have 0 points to spend; 5 is more than that." in page
    assert "Paid with points" not in page


def test_a_number_beyond_any_balance_is_refused_at_once(shop: Client, talon_emulator: Any) -> None:
    """The form's text is refused before it becomes an int: "1e999999" was a
    million-digit int, half a minute of the request's CPU."""
    add(shop, "GRINDER-X")
    response = shop.post("/talon/points/redeem/", {"points": "1e999999", "next": "/cart/"})
    assert response.status_code == 302
    page = shop.get("/cart/").content.decode()
    assert "That is more points than any balance holds." in page


def test_guests_see_no_points_form(shop_talon: dict[str, Any], talon_emulator: Any) -> None:
    from example_project.demo.data import load_demo_data

    load_demo_data()
    guest = Client()
    add(guest, "ESPRESSO-250")
    page = guest.get("/cart/").content.decode()
    assert 'data-test="points"' not in page
    assert guest.get("/accounts/points/").status_code == 302  # to the login page
