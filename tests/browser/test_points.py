"""Paying with points in the example shop, in a real browser: an order earns points, the
cart's "Use my points" takes them off, the checkout and the payment charge that total, the
"My points" page shows the ledger (the emulator's)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from tests.browser.conftest import ShopServer
from tests.browser.test_journeys import add_to_cart, log_in, user_id

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def euros(text: str) -> Decimal:
    return Decimal(text.replace("EUR", "").replace(",", "").strip())


def check_out_and_pay(page: Any) -> Decimal:
    """Place the cart's order and pay it; the amount charged."""
    page.get_by_role("link", name="Checkout").click()
    total = euros(page.locator('[data-test="checkout-total"]').inner_text())
    page.get_by_role("button", name="Place order").click()
    page.wait_for_url(re.compile(r"/orders/\d+/pay/$"))
    assert euros(page.locator('[data-test="amount-due"]').inner_text()) == total
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    assert page.locator('[data-test="order-status"]').inner_text() == "PAID"
    return total


def test_use_my_points_in_the_cart(new_page: Any, shop: ShopServer, talon_emulator: Any) -> None:
    page = new_page()
    log_in(page, "alice", "alice-demo-pass")
    add_to_cart(page, "GRINDER-X")  # 89.00: 89 points once paid
    check_out_and_pay(page)
    page.get_by_role("link", name="My points").click()
    assert page.locator(".talon-points-active").get_attribute("data-points") == "89"
    assert "+89" in page.locator(".talon-points-history").inner_text()

    add_to_cart(page, "GRINDER-X")
    before = euros(page.locator(".talon-total").inner_text())
    form = page.locator('[data-test="points"] .talon-points-form')
    assert "Use my points (89 available)" in form.inner_text()
    form.get_by_label(re.compile("Use my points")).fill("50")
    form.get_by_role("button", name="Use points").click()
    page.wait_for_url("**/cart/")
    assert "50 points will be used." in page.locator(".messages").inner_text()
    discount = page.locator(".talon-discount", has_text="Paid with points")
    assert discount.locator(".talon-discount-amount").inner_text() == "-0.50 EUR"
    after = euros(page.locator(".talon-total").inner_text())
    assert after == before - Decimal("0.50")

    # Changed her mind, then back: the discount goes and comes with the wish.
    page.locator('[data-test="points"]').get_by_role("button", name="Don't use points").click()
    page.wait_for_url("**/cart/")
    assert euros(page.locator(".talon-total").inner_text()) == before
    form = page.locator('[data-test="points"] .talon-points-form')
    form.get_by_label(re.compile("Use my points")).fill("50")
    form.get_by_role("button", name="Use points").click()
    page.wait_for_url("**/cart/")
    assert euros(page.locator(".talon-total").inner_text()) == after

    assert check_out_and_pay(page) == after
    profile_id = f"user-{user_id(shop, 'alice')}"
    assert talon_emulator.control.state()["profiles"][profile_id]["loyalty"] == {"1": 128.0}
    page.get_by_role("link", name="My points").click()
    assert page.locator(".talon-points-active").get_attribute("data-points") == "128"
    assert "-50" in page.locator(".talon-points-history").inner_text()
