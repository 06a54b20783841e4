"""Talon.One's discounts charged by Oscar: tax modes, Oscar's own offers off or coexisting,
and the cart-level split that makes Oscar's totals the quote's to the cent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from oscar.apps.partner.strategy import UK, Selector
from oscar.core.loading import get_model
from oscar.test import factories

from django_talon import services
from django_talon.contrib.oscar.charging import settle, split_cart_discount
from django_talon.contrib.oscar.offers import OFFER_SLUG, ensure_talon_offer
from tests.oscar.conftest import (
    add_to_basket,
    basket_of,
    check_out,
    enter_code,
    make_user,
    sessions_of,
)

D = Decimal


@pytest.mark.parametrize(
    ("amount", "rooms", "expected"),
    [
        (D("3.30"), [D("25.00"), D("8.00")], [D("2.50"), D("0.80")]),
        (D("1.00"), [D("1.00"), D("1.00"), D("1.00")], [D("0.34"), D("0.33"), D("0.33")]),
        (D("9.99"), [D("5.00"), D("2.00")], [D("5.00"), D("2.00")]),  # capped at the lines
        (D("0.00"), [D("5.00")], [D("0.00")]),
        (D("0.01"), [D("0.00"), D("3.00")], [D("0.00"), D("0.01")]),
    ],
)
def test_cart_discount_split_adds_up_to_the_cent(
    amount: Decimal, rooms: list[Decimal], expected: list[Decimal]
) -> None:
    shares = split_cart_discount(amount, rooms)
    assert shares == expected
    assert sum(shares) == min(amount, sum(rooms))
    assert all(share <= room for share, room in zip(shares, rooms, strict=True))


@pytest.mark.parametrize(
    ("amounts", "rooms", "expected", "left"),
    [
        ([D("2.988"), D("1.50")], [D("26.388"), D("15")], [D("2.988"), D("1.50")], D(0)),
        ([D("-0.012"), D("1.50")], [D("26.388"), D("15")], [D(0), D("1.488")], D(0)),
        ([D("-0.012"), D("0")], [D("26.388"), D("15")], [D(0), D(0)], D("-0.012")),
        ([D("16"), D("0")], [D("15"), D("10")], [D("15"), D("1")], D(0)),
    ],
)
def test_settle_keeps_each_line_within_its_price(
    amounts: list[Decimal], rooms: list[Decimal], expected: list[Decimal], left: Decimal
) -> None:
    """A rounding difference a line cannot take (its discount would go below 0) is taken
    by the other lines; what no line can take is returned."""
    assert settle(amounts, rooms) == (expected, left)


@pytest.fixture
def uk_tax(monkeypatch: pytest.MonkeyPatch) -> None:
    """Oscar's sample UK strategy (20% VAT) for every basket: incl and excl prices differ."""
    monkeypatch.setattr(Selector, "strategy", lambda self, request=None, user=None, **kw: UK())


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", ["incl_tax", "excl_tax"])
def test_tax_mode_prices_and_charges(
    mode: str, shop: Any, catalogue: dict[str, Any], settings: Any, uk_tax: None
) -> None:
    settings.TALON_OSCAR = {**settings.TALON_OSCAR, "TAX_MODE": mode}
    client = Client()
    add_to_basket(client, catalogue["mug"], 2)  # 12.50 excl, 15.00 incl
    assert enter_code(client, "WELCOME10") == "Code WELCOME10 applied."
    basket, _ = basket_of(client)
    (session,) = sessions_of(basket)
    quote = services.quote_for_cart(basket)
    assert quote.confirmed
    if mode == "incl_tax":
        assert session.cart_items[0]["price"] == 15.0
        assert basket.total_incl_tax == quote.total == D("27.00")
    else:
        assert session.cart_items[0]["price"] == 12.5
        assert basket.total_excl_tax == quote.total == D("22.50")
        assert basket.total_incl_tax == D("27.00")  # Oscar adds the tax back


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("choice", "expected"), [("off", D("22.50")), ("coexist", D("17.50"))])
def test_oscar_offers_off_or_coexisting(
    choice: str, expected: Decimal, shop: Any, catalogue: dict[str, Any], settings: Any
) -> None:
    """A non-exclusive Oscar site offer of 20% next to WELCOME10 (10%): off -> only
    Talon.One's; coexist -> both (Oscar's 20% of the undiscounted price, as Oscar computes
    it; an exclusive Oscar offer never shares a line Talon.One discounted)."""
    settings.TALON_OSCAR = {**settings.TALON_OSCAR, "OSCAR_OFFERS": choice}
    settings.OSCAR_OFFERS_INCL_TAX = True  # the same tax mode as Talon.One's (check E003)
    oscar_offer = factories.create_offer(name="Oscar 20%")
    oscar_offer.exclusive = False
    oscar_offer.save()
    ensure_talon_offer()
    client = Client()
    add_to_basket(client, catalogue["mug"], 2)  # 25.00
    enter_code(client, "WELCOME10")
    basket, _ = basket_of(client)
    names = [d["name"] for d in basket.offer_discounts]
    assert names[0] == "Talon.One promotions"
    assert ("Oscar 20%" in names) is (choice == "coexist")
    assert basket.total_incl_tax == expected
    quote = services.quote_for_cart(basket)
    oscar_discount = sum(d["discount"] for d in basket.offer_discounts[1:])
    assert basket.total_incl_tax == quote.total - oscar_discount


@pytest.mark.django_db(transaction=True)
def test_offer_row_follows_the_settings(settings: Any) -> None:
    from oscar.core.loading import get_model

    offer = get_model("offer", "ConditionalOffer").objects.get(slug=OFFER_SLUG)  # post_migrate
    assert offer.exclusive and offer.max_basket_applications == 1
    settings.TALON_OSCAR = {"OSCAR_OFFERS": "coexist", "OFFER_NAME": "Promotions"}
    offer = ensure_talon_offer()
    offer.refresh_from_db()
    assert not offer.exclusive and offer.name == "Promotions"
    assert offer.benefit.proxy().name == "Talon.One's discounts"


@pytest.mark.django_db(transaction=True)
def test_free_item_is_a_zero_price_line(
    shop: Any, catalogue: dict[str, Any], settings: Any
) -> None:
    """The demo campaign's free tote over 100: with ADD_FREE_ITEMS the tote becomes an
    Oscar line that Talon.One sees at price 0 and Oscar charges nothing for."""
    settings.TALON = {**settings.TALON, "ADD_FREE_ITEMS": True}
    factories.create_product(upc="FREE-TOTE", title="Tote", price=D("5.00"), num_in_stock=5)
    client = Client()
    add_to_basket(client, catalogue["mug"], 9)  # 112.50
    basket, page = basket_of(client)
    tote = [line for line in basket.all_lines() if line.product.upc == "FREE-TOTE"]
    assert len(tote) == 1 and tote[0].quantity == 1
    (session,) = sessions_of(basket)
    prices = {i["sku"]: i["price"] for i in session.cart_items}
    assert prices == {"MUG-1": 12.5, "FREE-TOTE": 0.0}
    quote = services.quote_for_cart(basket)
    assert quote.confirmed and quote.total == D("112.50")
    assert basket.total_incl_tax == quote.total  # the tote's 5.00 comes off in Oscar too
    assert b"Tote" in page.content

    mugs = basket.lines.get(product=catalogue["mug"])
    mugs.quantity = 1  # 12.50: below the threshold, Talon.One no longer grants the tote
    mugs.save()
    basket, _ = basket_of(client)
    assert [line.product.upc for line in basket.all_lines()] == ["MUG-1"]
    assert basket.total_incl_tax == services.quote_for_cart(basket).total == D("12.50")


@pytest.fixture
def us_tax(monkeypatch: pytest.MonkeyPatch) -> None:
    """Oscar's sample US strategy (deferred tax: unknown until checkout) for every basket,
    and a checkout that applies 10% tax when the order is built, as Oscar's docs show a US
    shop doing it (``build_submission``)."""
    from oscar.apps.checkout.views import PaymentDetailsView
    from oscar.apps.partner.strategy import US

    monkeypatch.setattr(Selector, "strategy", lambda self, request=None, user=None, **kw: US())
    original = PaymentDetailsView.build_submission

    def build_submission(self: Any, **kwargs: Any) -> dict[str, Any]:
        submission = original(self, **kwargs)
        basket = submission["basket"]
        for line in basket.all_lines():
            line.purchase_info.price.tax = (line.unit_price_excl_tax * D("0.10")).quantize(
                D("0.01")
            )
        submission["shipping_charge"].tax = D("0.00")
        submission["order_total"] = self.get_order_totals(basket, submission["shipping_charge"])
        return submission

    monkeypatch.setattr(PaymentDetailsView, "build_submission", build_submission)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", ["incl_tax", "excl_tax"])
def test_deferred_tax_lines_are_sent_and_discounted_excluding_tax(
    mode: str, shop: Any, catalogue: dict[str, Any], settings: Any, us_tax: None
) -> None:
    """A line whose tax Oscar does not know yet is sent excluding tax, whatever TAX_MODE
    says, and Talon.One's discount comes off its tax-exclusive price too: with "incl_tax"
    (the default) the basket page raised Oscar's TaxNotKnown (a 500)."""
    from django_talon.models import LedgerEntry

    settings.TALON_OSCAR = {**settings.TALON_OSCAR, "TAX_MODE": mode}
    client = Client()
    client.force_login(make_user("ada@example.com"))
    add_to_basket(client, catalogue["mug"], 1)  # 12.50, tax unknown
    add_to_basket(client, catalogue["tea"], 1)  # 8.00
    assert enter_code(client, "WELCOME10") == "Code WELCOME10 applied."
    basket, page = basket_of(client)
    assert not basket.is_tax_known
    (session,) = sessions_of(basket)
    assert [i["price"] for i in session.cart_items] == [12.5, 8.0]
    quote = services.quote_for_cart(basket)
    assert quote.confirmed and quote.discount_total == D("2.05")
    assert basket.total_excl_tax == quote.total == D("18.45")
    assert b"Talon.One promotions" in page.content

    check_out(client)
    order = get_model("order", "Order").objects.get()
    assert order.total_excl_tax == D("18.45")  # the tax is added at checkout: 10% of it
    assert order.total_incl_tax == D("20.30")
    assert [d.amount for d in order.discounts.all()] == [D("2.05")]
    charged = LedgerEntry.objects.get(kind="charged")
    assert charged.total == order.total_excl_tax and charged.discount_total == D("2.05")


@pytest.mark.django_db(transaction=True)
def test_unrounded_oscar_prices_are_charged_the_quotes_total_to_the_cent(
    shop: Any, catalogue: dict[str, Any], uk_tax: None
) -> None:
    """20% VAT on a net 7.33 is 8.796: Talon.One is sent 8.80 (cents), Oscar's line total is
    3 x 8.796 = 26.388. The rounding difference is charged with the discount, so Oscar's
    total is the quote's (it was 97.73 against the quote's, the ledger's and Talon.One's
    97.74)."""
    from django_talon.models import LedgerEntry

    beans = factories.create_product(upc="BEANS", title="Beans", price=D("7.33"), num_in_stock=50)
    client = Client()
    client.force_login(make_user("ada@example.com"))
    add_to_basket(client, beans, 3)  # 3 x 8.796 incl
    add_to_basket(client, catalogue["mug"], 1)  # 15.00 incl
    add_to_basket(client, catalogue["tea"], 7)  # 7 x 9.60 incl
    assert enter_code(client, "WELCOME10") == "Code WELCOME10 applied."
    basket, _ = basket_of(client)
    (session,) = sessions_of(basket)
    assert session.cart_items[0]["price"] == 8.8
    quote = services.quote_for_cart(basket)
    assert quote.confirmed and quote.subtotal == D("108.60") and quote.total == D("97.74")
    assert basket.total_incl_tax_excl_discounts == D("108.59")  # 108.588, rounded by Oscar
    assert basket.total_incl_tax == quote.total

    check_out(client)
    order = get_model("order", "Order").objects.get()
    entry = LedgerEntry.objects.get(kind="charged")
    assert order.total_incl_tax == entry.total == D("97.74")
    remote = shop.control.state()["sessions"][entry.session_id]
    booked = sum(e["props"]["value"] for e in remote["effects"] if e["effectType"] == "setDiscount")
    assert round(remote["total"] - booked, 2) == 97.74
