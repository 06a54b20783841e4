"""The shop's "my coupons" and cart pages on django-talon's public services and tags.

The loyalty balance is rendered server-side (``services.customer_inventory`` with a short
timeout, falling back to a sentence when Talon.One is down); referral codes come from
``services.referrals_for_user``; the cart page uses ``{% talon_cart_summary %}`` itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from example_project.orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

SHOP_DIR = Path(__file__).resolve().parents[2] / "example_project"


def balance_text(page: str) -> str:
    start = page.index('data-test="loyalty-balance"')
    return " ".join(page[start : page.index("</p>", start)].split(">", 1)[1].split())


def test_my_coupons_shows_the_loyalty_balance_server_side(
    shop: Client, talon_emulator: Any
) -> None:
    page = shop.get("/accounts/coupons/").content.decode()
    assert balance_text(page) == "Coffee Club: 0 points"
    shop.post("/cart/add/", {"sku": "GRINDER-X", "quantity": 1})
    shop.post("/orders/checkout/")
    order = Order.objects.get()
    shop.post(f"/orders/{order.pk}/pay/", {"card_number": "4242424242424242"})
    talon_emulator.control.clear_requests()
    page = shop.get("/accounts/coupons/").content.decode()
    assert balance_text(page) == "Coffee Club: 89 points"
    assert "<script" not in page
    (call,) = talon_emulator.control.requests("/v1/customer_profiles/")
    assert set(call["query"]) == {"loyalty"}  # only the part the page shows


def test_my_coupons_still_renders_while_talon_is_down(shop: Client, talon_emulator: Any) -> None:
    talon_emulator.control.add_fault(kind="drop", path="/v1/customer_profiles/*")
    response = shop.get("/accounts/coupons/")
    assert response.status_code == 200
    assert balance_text(response.content.decode()) == "Your balance is not available right now."


def test_cart_page_shows_one_item_discount_line_without_position_suffix(
    shop: Client, talon_emulator: Any
) -> None:
    shop.post("/cart/add/", {"sku": "ESPRESSO-250", "quantity": 2})
    page = shop.get("/cart/").content.decode()
    assert "Item discounts" in page and "-2.00 EUR" in page
    assert "#0" not in page
    assert 'class="talon-total">15.00 EUR' in page


def test_the_shop_reads_no_django_talon_model_outside_the_demo_loader() -> None:
    """Referral codes and the inventory come from services; only the demo data loader reads
    the documented ``CouponReservation`` mirror to replay it."""
    offenders = [
        str(path.relative_to(SHOP_DIR))
        for path in SHOP_DIR.rglob("*.py")
        if "django_talon.models" in path.read_text() and path.name != "data.py"
    ]
    assert offenders == []
