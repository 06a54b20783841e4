"""Free shipping in a real browser: the shopper picks standard delivery, sees the 4.90
shipping below 50.00 and "Shipping -4.90" above it, and pays the total the cart showed.

The shop runs on its own SQLite copy of the demo data against the ``talon_emulator``
fixture with the shipped demo campaigns ("Free shipping over 50" is campaign 8).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import ShopServer
from tests.browser.test_journeys import add_to_cart, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def choose_standard_delivery(page: Any) -> None:
    page.goto("/cart/")
    page.get_by_label("Standard delivery").check()
    page.get_by_role("button", name="Update delivery").click()
    page.wait_for_url("**/cart/")


def test_shipping_becomes_free_over_50(
    new_page: Any, shop: ShopServer, talon_emulator: Any
) -> None:
    page = new_page()
    log_in(page, "alice", "alice-demo-pass")
    add_to_cart(page, "ESPRESSO-250", 2)  # 17.00 - 2 x 1.00 coffee 1 off each
    choose_standard_delivery(page)
    cost = page.locator('.talon-additional-cost[data-cost="shipping"]')
    assert cost.locator(".talon-cost-price").inner_text() == "4.90 EUR"
    assert page.locator(".talon-cost-discount").count() == 0
    assert page.locator(".talon-total").inner_text() == "19.90 EUR"

    add_to_cart(page, "KETTLE-GOOSENECK")  # 62.00: shipping is free now
    discount = page.locator('.talon-cost-discount[data-cost="shipping"]')
    assert discount.locator(".talon-discount-name").inner_text() == "Shipping"
    assert discount.locator(".talon-discount-amount").inner_text() == "-4.90 EUR"
    assert page.locator(".talon-total").inner_text() == "60.00 EUR"
    # never taken off the items: the lines keep their own totals
    assert (
        page.locator('tr[data-sku="KETTLE-GOOSENECK"] [data-test="line-total"]').inner_text()
        == "45.00"
    )

    page.get_by_role("link", name="Checkout").click()
    page.wait_for_url("**/orders/checkout/")
    assert page.locator('[data-test="additional-cost-discount"]').count() == 1
    assert page.locator('[data-test="checkout-total"]').inner_text() == "60.00 EUR"
    page.get_by_role("button", name="Place order").click()
    page.wait_for_url("**/pay/")
    assert page.locator('[data-test="amount-due"]').inner_text() == "60.00 EUR"

    sessions = talon_emulator.control.state()["sessions"]
    (session,) = [s for s in sessions.values() if s["cartItems"] and s["state"] == "open"]
    assert session["additionalCosts"] == {"shipping": {"price": 4.9}}
