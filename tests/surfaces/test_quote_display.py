"""What the pages and the REST API show is the quote: never an older cart's discounts, and
never a 500 on money that cannot be represented (1e29, NaN, Infinity, huge exponents)."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client

from django_talon import services
from django_talon.adapters import REQUEST_SESSION_KEY
from django_talon.outbox import fingerprint
from django_talon.promotions import summarize
from tests.surfaces.helpers import CART, effect, make_session, request_for

pytestmark = pytest.mark.django_db

API = "/api/talon/promotions/"

GOOD = [
    effect("setDiscount", 1, name="Welcome 10%", value=10.6),
    effect("setDiscountPerItem", 4, name="Coffee#0", value=1.0, position=0),
    effect("acceptCoupon", 1, value="WELCOME10"),
]

#: As a database JSON column can hold them (NaN/Infinity floats are not valid JSON there).
UNREPRESENTABLE = [1e29, -1e26, "Infinity", "-Infinity", "NaN", "1e999999", "1E+30"]


def render(source: str, request: Any) -> str:
    return Template("{% load talon %}" + source).render(Context({"request": request}))


def client_for(session: Any) -> Client:
    client = Client()
    web = client.session
    web[REQUEST_SESSION_KEY] = session.integration_id
    web.save()
    return client


@pytest.mark.parametrize("value", UNREPRESENTABLE, ids=repr)
def test_unrepresentable_amount_is_listed_unusable_and_pages_render(
    value: Any, caplog: pytest.LogCaptureFixture
) -> None:
    bad = [
        effect("setDiscount", 9, name="Broken", value=value),
        effect("setDiscountPerItem", 9, name="Broken#1", value=value, position=1),
    ]
    session = make_session(effects=[*GOOD, *bad], coupon_codes=["WELCOME10"])
    with caplog.at_level(logging.WARNING, logger="django_talon.promotions"):
        response = client_for(session).get(API)
    assert response.status_code == 200
    data = response.json()
    assert len(data["unusable_effects"]) == 2
    assert "Unusable setDiscount" in caplog.text
    # The usable effects still count; the broken ones are neither shown nor charged.
    assert (data["total_discount"], data["total"]) == ("11.60", "94.40")
    assert data["quote"]["total"] == "94.40" and data["quote"]["status"] == "confirmed"
    assert [d["name"] for d in data["cart_discounts"]] == ["Welcome 10%"]
    html = render(
        "{% talon_cart_summary %}{% talon_coupon_form %}{% talon_loyalty %}",
        request_for(session),
    )
    assert 'class="talon-total">94.40 EUR' in html and "Broken" not in html
    quote = services.quote_for_cart(session)
    assert len(quote.unusable_effects) == 2 and quote.total == Decimal("94.40")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), 1e29], ids=repr)
def test_unrepresentable_floats_as_decoded_are_unusable(value: float) -> None:
    s = summarize([*GOOD, effect("setDiscount", 9, name="Broken", value=value)], CART, "EUR")
    assert len(s.unusable_effects) == 1 and s.total == Decimal("94.40")


def test_unrepresentable_points_and_prices_never_raise() -> None:
    s = summarize(
        [effect("addLoyaltyPoints", 6, name="Club", programId=1, value=1e29)],
        [{"sku": "X", "name": "X", "quantity": 1, "price": 1e29}],
        "EUR",
    )
    assert s.total == Decimal("0.00") and s.points_to_earn == Decimal(0)


def test_money_filter_renders_unrepresentable_values_as_zero() -> None:
    html = Template("{% load talon %}{{ a|talon_money }}|{{ b|talon_money }}").render(
        Context({"a": Decimal("1e29"), "b": "NaN"})
    )
    assert html == "0.00 EUR|0.00 EUR"


def test_a_changed_cart_waiting_for_its_answer_shows_no_old_discounts() -> None:
    """The old cart's discounts against the new subtotal were a total never valid."""
    session = make_session(
        effects=GOOD, coupon_codes=["WELCOME10"], fingerprint="new", pushed_fingerprint="old"
    )
    data = client_for(session).get(API).json()
    assert (data["subtotal"], data["total_discount"], data["total"]) == ("106.00", "0.00", "106.00")
    assert data["cart_discounts"] == [] and data["lines"][0]["discount"] == "0.00"
    assert data["quote"]["status"] == "pending" and "full price" in data["quote"]["message"]
    assert data["quote"]["coupon_codes"] == []
    html = render("{% talon_cart_summary %}", request_for(session))
    assert "Welcome 10%" not in html and 'class="talon-total">106.00 EUR' in html
    assert 'data-quote-status="pending"' in html and "full price" in html


def test_only_a_state_change_waiting_keeps_the_last_good_discounts() -> None:
    """The answer was for this very cart (only the state differs): it is still shown."""
    session = make_session(effects=GOOD, coupon_codes=["WELCOME10"], state="closed")
    answered = {**services.session_payload(session), "state": "open"}
    session.pushed_fingerprint = fingerprint(answered)
    session.fingerprint = fingerprint(services.session_payload(session))
    session.save()
    data = client_for(session).get(API).json()
    assert data["total"] == "94.40" and data["quote"]["status"] == "pending"
    assert data["quote"]["coupon_codes"] == ["WELCOME10"] and data["quote"]["message"]


def test_talon_down_and_a_changed_cart_is_unavailable(settings: Any) -> None:
    session = make_session(
        effects=GOOD, fingerprint="new", pushed_fingerprint="old", last_error="TalonTimeout"
    )
    quote = services.quote_for_cart(session)
    assert quote.status.value == "unavailable" and quote.total == Decimal("106.00")
    tag = render("{% talon_quote as q %}[{{ q.status.value }}|{{ q.total }}]", request_for(session))
    assert tag == "[unavailable|106.00]"


def test_summary_totals_are_the_quotes() -> None:
    session = make_session(effects=GOOD, coupon_codes=["WELCOME10"])
    quote = services.quote_for_cart(session)
    summary = quote.summary
    assert summary is not None and summary.quote is quote
    assert (summary.total, summary.total_discount) == (quote.total, quote.discount_total)
    assert summary.status == "confirmed" and summary.message == ""
    assert CART[0]["sku"] == quote.lines[0].sku
