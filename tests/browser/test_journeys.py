"""What a shopper and a staff member do in the example shop, in a real browser.

Each test gets a fresh shop (its own SQLite copy of the demo data) talking over HTTP to the
``talon_emulator`` fixture with the shipped demo campaigns, and checks the emulator's
state where the journey promises something about Talon.One.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest

from tests.browser.conftest import ShopServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def add_to_cart(page: Any, sku: str, quantity: int = 1) -> None:
    page.goto("/")
    card = page.locator(f'.card[data-sku="{sku}"]')
    card.locator('input[name="quantity"]').fill(str(quantity))
    card.get_by_role("button", name="Add to cart").click()
    page.wait_for_url("**/cart/")


def apply_coupon(page: Any, code: str) -> None:
    page.goto("/cart/")
    page.locator("#talon-coupon-code").fill(code)
    page.locator('.talon-coupon-apply button[value="apply"]').click()
    page.wait_for_url("**/cart/")


def log_in(page: Any, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def user_id(shop: ShopServer, username: str) -> int:
    with sqlite3.connect(f"file:{shop.db}?mode=ro", uri=True) as db:
        row = db.execute("SELECT id FROM auth_user WHERE username = ?", [username]).fetchone()
    return int(row[0])


def sessions_of(state: dict[str, Any], profile_id: str) -> list[dict[str, Any]]:
    return [s for s in state["sessions"].values() if s.get("profileId") == profile_id]


def test_guest_applies_welcome_coupon_and_sees_unknown_code_message(new_page: Any) -> None:
    page = new_page()
    add_to_cart(page, "ESPRESSO-250", 2)
    add_to_cart(page, "KETTLE-GOOSENECK")
    # Coffee 1 off each applies by itself: 62.00 - 2 x 1.00.
    assert page.locator(".talon-total").inner_text() == "60.00 EUR"
    assert "Spend 100 EUR, get a free tote bag" in page.locator(".talon-notifications").inner_text()

    apply_coupon(page, "WELCOME10")
    assert "Code WELCOME10 applied." in page.locator(".messages").inner_text()
    discount = page.locator(".talon-discount", has_text="Welcome 10%")
    assert discount.locator(".talon-discount-amount").inner_text() == "-6.20 EUR"
    assert page.locator(".talon-total").inner_text() == "53.80 EUR"

    apply_coupon(page, "NOPE42")
    message = "Coupon NOPE42 does not exist. Please check the code and try again."
    assert message in page.locator(".messages").inner_text()
    # The unknown code changed nothing.
    assert page.locator(".talon-total").inner_text() == "53.80 EUR"


def test_customer_gets_free_item_pays_then_cancels(
    new_page: Any, shop: ShopServer, talon_emulator: Any
) -> None:
    page = new_page()
    log_in(page, "alice", "alice-demo-pass")
    add_to_cart(page, "GRINDER-X")
    add_to_cart(page, "FILTER-1KG")
    # 113.00 is over the threshold: the tote is granted; coffee 1 off each.
    assert "Canvas tote bag" in page.locator(".talon-free-items").inner_text()
    assert page.locator(".talon-total").inner_text() == "112.00 EUR"

    page.get_by_role("link", name="Checkout").click()
    assert "Canvas tote bag (free)" in page.locator('[data-test="free-item"]').inner_text()
    assert page.locator('[data-test="checkout-total"]').inner_text() == "112.00 EUR"
    page.get_by_role("button", name="Place order").click()
    page.wait_for_url(re.compile(r"/orders/\d+/pay/$"))
    assert page.locator('[data-test="amount-due"]').inner_text() == "112.00 EUR"
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    assert page.locator('[data-test="order-status"]').inner_text() == "PAID"

    order_url = page.url

    # Paid: the customer session is closed in Talon.One and the points are earned.
    profile_id = f"user-{user_id(shop, 'alice')}"
    state = talon_emulator.control.state()
    (session,) = sessions_of(state, profile_id)
    assert session["state"] == "closed"
    assert state["profiles"][profile_id]["loyalty"] == {"1": 113.0}
    page.goto("/accounts/coupons/")
    balance = page.locator('[data-test="loyalty-balance"]')
    balance.filter(has_text="Coffee Club: 113 points").wait_for()

    # Cancelled: Talon.One rolls the closed session back (points and redemptions).
    page.goto(order_url)
    page.get_by_role("button", name="Cancel order").click()
    assert page.locator('[data-test="order-status"]').inner_text() == "CANCELLED"
    state = talon_emulator.control.state()
    (session,) = sessions_of(state, profile_id)
    assert session["state"] == "cancelled"
    assert state["profiles"][profile_id]["loyalty"] == {"1": 0.0}


def test_staff_reserve_vip_coupon_for_one_customer(new_page: Any, talon_emulator: Any) -> None:
    staff = new_page()
    log_in(staff, "staff", "staff-demo-pass")
    staff.goto("/admin/django_talon/customerprofile/?q=alice")
    staff.locator('input[name="_selected_action"]').first.check()
    staff.locator('select[name="action"]').select_option("reserve_coupon")
    # The admin's action button says "Go" up to Django 5.2 and "Run" from 6.0 on.
    staff.get_by_role("button", name=re.compile(r"^(Go|Run)$")).click()
    staff.get_by_label("Coupon code").fill("VIP20")
    staff.get_by_role("button", name="Reserve").click()
    assert "Reserved VIP20 for 1 customer." in staff.locator(".messagelist").inner_text()
    vip = talon_emulator.control.state()["coupons"]["VIP20"]
    assert len(vip["reservedFor"]) == 1

    alice = new_page()
    log_in(alice, "alice", "alice-demo-pass")
    alice.goto("/accounts/coupons/")
    assert "VIP20" in alice.locator(".talon-reserved-coupons").inner_text()
    alice.get_by_role("button", name="Create my referral code").click()
    code = alice.locator('[data-test="referral-code"]').inner_text()
    assert code in talon_emulator.control.state()["referrals"]
    add_to_cart(alice, "KETTLE-GOOSENECK")
    apply_coupon(alice, "VIP20")
    assert "Code VIP20 applied." in alice.locator(".messages").inner_text()
    discount = alice.locator(".talon-discount", has_text="VIP 20%")
    assert discount.locator(".talon-discount-amount").inner_text() == "-9.00 EUR"

    bob = new_page()
    log_in(bob, "bob", "bob-demo-pass")
    add_to_cart(bob, "KETTLE-GOOSENECK")
    apply_coupon(bob, "VIP20")
    refused = "Coupon VIP20 is reserved for selected customers and is not available to you."
    assert refused in bob.locator(".messages").inner_text()
    assert bob.locator(".talon-total").inner_text() == "45.00 EUR"
