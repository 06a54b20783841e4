"""Staff suspend the Talon.One offer in Oscar's dashboard: Oscar charges none of Talon.One's
discounts, so the basket shows none, the order ledger records the order as charged at full
price, the close sends no codes (nothing is redeemed), and what Talon.One still books is a
recorded difference. Against the emulator over HTTP, through Oscar's own views."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from oscar.core.loading import get_model

from django_talon.contrib.oscar.offers import NOT_APPLIED, OFFER_SLUG
from django_talon.models import Discrepancy, LedgerEntry
from tests.oscar.conftest import (
    add_to_basket,
    basket_of,
    check_out,
    enter_code,
    make_user,
    sessions_of,
)

pytestmark = pytest.mark.django_db(transaction=True)

Order = get_model("order", "Order")
ConditionalOffer = get_model("offer", "ConditionalOffer")


def suspend_talon_offer() -> None:
    offer = ConditionalOffer.objects.get(slug=OFFER_SLUG)
    offer.status = ConditionalOffer.SUSPENDED
    offer.save()


def test_a_suspended_offer_charges_shows_and_books_no_talon_discount(
    shop: Any, catalogue: dict[str, Any]
) -> None:
    make_user("sue@example.com")
    shopper = Client()
    shopper.login(username="sue@example.com", password="pw") or shopper.force_login(
        get_model("auth", "User").objects.get(email="sue@example.com")
    )
    add_to_basket(shopper, catalogue["mug"], 2)  # 25.00
    add_to_basket(shopper, catalogue["tea"], 1)  # 8.00
    assert enter_code(shopper, "WELCOME10") == "Code WELCOME10 applied."
    basket, _ = basket_of(shopper)
    assert basket.total_incl_tax == Decimal("29.70")  # the offer applies: 10% off

    suspend_talon_offer()
    basket, page = basket_of(shopper)
    assert basket.total_incl_tax == Decimal("33.00")  # Oscar charges no Talon.One discount
    assert b"3.30" not in page.content  # and the page does not show one

    check_out(shopper)
    order = Order.objects.get()
    assert order.total_incl_tax == Decimal("33.00") and not order.discounts.exists()
    charged = LedgerEntry.objects.get(kind="charged")
    assert charged.total == Decimal("33.00") and charged.discount_total == Decimal("0.00")
    assert charged.coupon_codes == [] and NOT_APPLIED in charged.quote["message"]
    (session,) = sessions_of(basket)
    remote = shop.control.state()["sessions"][session.integration_id]
    assert remote["state"] == "closed" and remote["couponCodes"] == []  # nothing redeemed
    booked = LedgerEntry.objects.get(kind="booked")
    if booked.discount_total:  # an automatic campaign Talon.One still booked: recorded
        assert Discrepancy.objects.filter(entry=booked).exists()
