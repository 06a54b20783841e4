"""Oscar's voucher form routed to Talon.One: accepted, rejected, removed, malformed, and
Talon.One switched off (then nothing is charged off: shown = charged)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from tests.oscar.conftest import add_to_basket, basket_of, enter_code, sessions_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_rejected_and_removed_codes(shop: Any, catalogue: dict[str, Any]) -> None:
    client = Client()
    add_to_basket(client, catalogue["mug"], 2)
    refused = enter_code(client, "NO-SUCH-CODE")
    assert "NO-SUCH-CODE" not in refused or "applied" not in refused
    assert not refused.startswith("We are checking")  # Talon.One's verdict, in the request
    assert enter_code(client, "WELCOME10") == "Code WELCOME10 applied."
    basket, page = basket_of(client)
    assert basket.total_incl_tax == Decimal("22.50")
    assert b"WELCOME10" in page.content  # the partial shows the code under the totals
    response = client.post("/basket/talon/codes/remove/", {"code": "WELCOME10"}, follow=True)
    assert str(list(response.context["messages"])[-1]) == "Code WELCOME10 removed."
    basket, _ = basket_of(client)
    (session,) = sessions_of(basket)
    assert session.coupon_codes == []
    assert basket.total_incl_tax == Decimal("25.00")


def test_malformed_code_is_refused_before_talon(shop: Any, catalogue: dict[str, Any]) -> None:
    client = Client()
    add_to_basket(client, catalogue["mug"])
    before = len(shop.control.requests("/v2/customer_sessions/"))
    assert "spaces" in enter_code(client, "TWO WORDS")
    assert len(shop.control.requests("/v2/customer_sessions/")) == before


def test_talon_switched_off_charges_nothing_off(
    shop: Any, catalogue: dict[str, Any], settings: Any
) -> None:
    client = Client()
    add_to_basket(client, catalogue["mug"], 2)
    settings.TALON = {**settings.TALON, "ENABLED": False}
    message = enter_code(client, "WELCOME10")
    assert "WELCOME10" in message and "applied" not in message
    basket, page = basket_of(client)
    assert basket.total_incl_tax == Decimal("25.00")  # no confirmed discount: full price
    assert b"full price" in page.content  # the quote's message under the totals
