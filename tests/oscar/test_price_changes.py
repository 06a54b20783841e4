"""A price changed in Oscar's dashboard while a basket holds a confirmed quote.

Changing a stock record's price saves no basket line, so the mirror (and Talon.One) still
have the old price. The Talon.One offer charges a quote only for the basket's items as they
would be sent now: on the first request after the change it charges nothing and updates
the session; once Talon.One has priced the new basket, the discount is charged again, and
the order, the ledger and Talon.One agree.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from oscar.core.loading import get_model

from django_talon import services
from django_talon.models import LedgerEntry, SyncProblem
from tests.oscar.conftest import (
    add_to_basket,
    basket_of,
    check_out,
    enter_code,
    make_user,
    sessions_of,
)

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal
Order = get_model("order", "Order")


def _shopper_with_welcome10(catalogue: dict[str, Any]) -> Client:
    client = Client()
    client.force_login(make_user("ada@example.com"))
    add_to_basket(client, catalogue["mug"], 2)  # 25.00
    add_to_basket(client, catalogue["tea"], 1)  # 8.00
    assert enter_code(client, "WELCOME10") == "Code WELCOME10 applied."
    basket, _ = basket_of(client)
    assert basket.total_incl_tax == D("29.70")
    return client


def _set_price(product: Any, price: str) -> None:
    """What staff do in Oscar's dashboard: edit the stock record's price."""
    stockrecord = product.stockrecords.get()
    stockrecord.price = D(price)
    stockrecord.save()


@pytest.mark.parametrize(
    ("price", "undiscounted", "charged"),
    [("1.00", D("10.00"), D("9.00")), ("125.00", D("258.00"), D("232.20"))],
)
def test_a_changed_price_is_charged_only_once_talon_one_priced_it(
    price: str,
    undiscounted: Decimal,
    charged: Decimal,
    shop: Any,
    catalogue: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = _shopper_with_welcome10(catalogue)
    _set_price(catalogue["mug"], price)

    with caplog.at_level(logging.WARNING, logger="django_talon.contrib.oscar"):
        basket, page = basket_of(client)
    # The old quote's 3.30 is not charged against the new price (it made 0.00 or 254.70).
    assert basket.total_incl_tax == undiscounted
    assert "Talon.One promotions" not in str(basket.offer_discounts)
    assert b"Welcome 10%" not in page.content  # the page shows what was charged
    assert f"MUG-1 quoted at 12.50, priced {price} now" in caplog.text
    (session,) = sessions_of(basket)
    assert [i["price"] for i in session.cart_items] == [float(price), 8.0]

    basket, page = basket_of(client)  # Talon.One answered after that request's commit
    quote = services.quote_for_cart(basket)
    assert quote.confirmed and quote.lines[0].unit_price == D(price)
    assert basket.total_incl_tax == quote.total == charged
    assert b"Welcome 10%" in page.content

    check_out(client)
    order = Order.objects.get()
    assert order.total_incl_tax == charged
    assert [d.amount for d in order.discounts.all()] == [undiscounted - charged]
    entry = LedgerEntry.objects.get(kind="charged")
    assert entry.total == charged and entry.subtotal == undiscounted
    remote = shop.control.state()["sessions"][session.integration_id]
    assert remote["state"] == "closed"
    assert [(i["sku"], i["price"]) for i in remote["cartItems"]] == [
        ("MUG-1", float(price)),
        ("TEA-1", 8.0),
    ]


def test_a_failed_session_update_charges_nothing_and_is_recorded(
    shop: Any, catalogue: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Updating the session from inside Oscar's offer application must never make the
    basket page fail: the failure is logged and recorded, nothing is charged."""
    client = _shopper_with_welcome10(catalogue)
    _set_price(catalogue["mug"], "20.00")

    def broken(cart: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "update_cart", broken)
    basket, _ = basket_of(client)
    assert basket.total_incl_tax == D("48.00")  # 2 x 20.00 + 8.00, no stale 3.30 off
    problem = SyncProblem.objects.get(stage="cart")
    assert "database went away" in problem.error
