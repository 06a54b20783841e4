"""The checkout's "Place order" under a German locale: the hidden total the form carries is
rendered unlocalized and compared as a number (it rendered "1068,000", never equal to
"1068.000", so every attempt answered "Your total is now ... Please check it.")."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from example_project.orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def german(settings: Any) -> Any:
    settings.LANGUAGE_CODE = "de"
    settings.USE_THOUSAND_SEPARATOR = True
    return settings


def hidden_total(client: Client) -> str:
    page = client.get("/orders/checkout/").content.decode()
    found = re.search(r'name="quoted_total" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def test_place_order_with_the_total_shown_under_de(german: Any, shop: Client) -> None:
    shop.post("/cart/add/", {"sku": "GRINDER-X", "quantity": 12})
    shown = hidden_total(shop)
    assert "," not in shown  # 1068.00, not 1.068,00
    response = shop.post("/orders/checkout/", {"quoted_total": shown})
    assert response.status_code == 302, [str(m) for m in get_messages(response.wsgi_request)]
    assert Order.objects.filter(user__username="alice").count() == 1


@pytest.mark.parametrize("sent", ["1.00", "abc", "NaN", "sNaN", ""])
def test_a_different_or_garbled_total_shows_the_current_one(
    german: Any, shop: Client, sent: str
) -> None:
    shop.post("/cart/add/", {"sku": "GRINDER-X", "quantity": 1})
    response = shop.post("/orders/checkout/", {"quoted_total": sent})
    assert response.status_code == 200
    notes = [str(m) for m in get_messages(response.wsgi_request) if "total" in str(m)]
    assert notes == ["Your total is now 89.00 EUR. Please check it."]
    assert not Order.objects.exists()


@pytest.fixture
def kwd_shop(german: Any, shop_talon: dict[str, Any], request: pytest.FixtureRequest) -> Client:
    german.TALON = {**german.TALON, "CURRENCY": "KWD"}
    german.SHOP_CURRENCY = "KWD"
    client: Client = request.getfixturevalue("shop")
    return client


def test_the_notice_names_the_quotes_currency(kwd_shop: Client) -> None:
    kwd_shop.post("/cart/add/", {"sku": "GRINDER-X", "quantity": 1})
    response = kwd_shop.post("/orders/checkout/", {"quoted_total": "1"})
    notes = [str(m) for m in get_messages(response.wsgi_request) if "total" in str(m)]
    assert notes == ["Your total is now 89.000 KWD. Please check it."]


def test_the_price_rows_name_the_quotes_currency(kwd_shop: Client) -> None:
    """The checkout's rows (items, discounts, costs, total) carry the quote's currency; they
    were hard-coded "EUR"."""
    kwd_shop.post("/cart/add/", {"sku": "GRINDER-X", "quantity": 1})
    page = kwd_shop.get("/orders/checkout/").content.decode()
    total = re.search(r'data-test="checkout-total">([^<]+)<', page)
    items = re.search(r'data-test="items-total">([^<]+)<', page)
    assert total and items, page
    assert total.group(1).endswith(" KWD") and items.group(1).endswith(" KWD")
    assert " EUR<" not in page
