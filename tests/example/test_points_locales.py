"""The Coffee Club's points under a German (and French) shop: numbers a browser or a script
reads (``max``, ``value``, ``data-points``) stay plain digits, the points the shopper types
are read for the locale, messages show numbers as the page does, and the history shows the
shop's date, not Talon.One's UTC date (the shop's views against the emulator)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client, override_settings

from django_talon.client.loyalty_models import LoyaltyTransaction
from django_talon.models import CustomerSession
from django_talon.services.loyalty import LoyaltyHistory
from tests.example.test_order_adds_up import add
from tests.example.test_points import active_points, buy

pytestmark = pytest.mark.django_db(transaction=True)

GERMAN = {"LANGUAGE_CODE": "de", "USE_THOUSAND_SEPARATOR": True}


def rich(shop: Client) -> Decimal:
    """Earn more than a thousand points (checked out in English), a grinder in the cart."""
    add(shop, "GRINDER-X", 12)
    buy(shop)
    points = active_points(shop)
    assert points > 1000
    add(shop, "GRINDER-X")
    return points


def points_input(shop: Client) -> str:
    page = shop.get("/cart/").content.decode()
    match = re.search(r'<input id="talon-points"[^>]*>', page)
    assert match is not None, page
    return match.group(0)


def messages_of(shop: Client) -> str:
    return shop.get("/cart/").content.decode()


def wish() -> int | None:
    session = CustomerSession.objects.exclude(points_to_redeem=None).order_by("-pk").first()
    return session.points_to_redeem if session is not None else None


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_form_and_the_balance_carry_plain_numbers(
    shop: Client, talon_emulator: Any, language: str
) -> None:
    points = rich(shop)
    with override_settings(LANGUAGE_CODE=language, USE_THOUSAND_SEPARATOR=True):
        page = shop.get("/accounts/points/").content.decode()  # remembers the balance
        assert f'class="talon-points-active" data-points="{points:f}"' in page
        assert f'max="{points:f}"' in points_input(shop)  # was max="1.068": 0 or 1 allowed


def test_the_wish_comes_back_as_a_plain_value(shop: Client, talon_emulator: Any) -> None:
    rich(shop)
    with override_settings(**GERMAN):
        shop.post("/talon/points/redeem/", {"points": "1000", "next": "/cart/"})
        assert wish() == 1000
        assert 'value="1000"' in points_input(shop)  # was value="1.000": 1 point when resent


def test_german_grouped_points_are_a_thousand(shop: Client, talon_emulator: Any) -> None:
    rich(shop)
    with override_settings(**GERMAN):
        shop.post("/talon/points/redeem/", {"points": "1.000", "next": "/cart/"})
        assert wish() == 1000  # was 1
        assert "1.000 points will be used." in messages_of(shop)
        shop.post("/talon/points/redeem/", {"points": "1,5", "next": "/cart/"})
        assert "Enter a whole number of points (0 or more)." in messages_of(shop)
        assert wish() == 1000


@pytest.mark.parametrize("language", ["de", "fr"])
def test_an_ambiguous_dot_is_refused_not_guessed(
    shop: Client, talon_emulator: Any, language: str
) -> None:
    """Without USE_THOUSAND_SEPARATOR a German/French "1.000" may mean 1 or 1000."""
    rich(shop)
    with override_settings(LANGUAGE_CODE=language, USE_THOUSAND_SEPARATOR=False):
        shop.post("/talon/points/redeem/", {"points": "1.000", "next": "/cart/"})
        page = messages_of(shop)
        assert "Enter a whole number of points without separators, such as 1000." in page
        assert wish() is None
        shop.post("/talon/points/redeem/", {"points": "1000", "next": "/cart/"})
        assert wish() == 1000


def test_english_points_stay_as_they_were(shop: Client, talon_emulator: Any) -> None:
    rich(shop)
    with override_settings(LANGUAGE_CODE="en", USE_THOUSAND_SEPARATOR=True):
        shop.post("/talon/points/redeem/", {"points": "1,000", "next": "/cart/"})
        assert wish() == 1000
        shop.post("/talon/points/redeem/", {"points": "1.0", "next": "/cart/"})
        assert wish() == 1


def test_messages_count_and_group_like_the_page(shop: Client, talon_emulator: Any) -> None:
    points = rich(shop)
    with override_settings(**GERMAN):
        shop.post("/talon/points/redeem/", {"points": "1", "next": "/cart/"})
        assert "1 point will be used." in messages_of(shop)  # was "1 points"
        shop.post("/talon/points/redeem/", {"points": "5000", "next": "/cart/"})
        grouped = f"{int(points):,}".replace(",", ".")
        assert f"You have {grouped} points to spend; 5.000 is more than that." in messages_of(shop)


def history_html(created: str) -> str:
    entry = LoyaltyTransaction.from_json(
        {
            "id": 1,
            "transactionUUID": "u",
            "type": "addition",
            "amount": 1093,
            "name": "Coffee Club points",
            "programId": 1,
            "created": created,
            "startDate": "immediate",
            "expiryDate": "unlimited",
            "subledgerId": "",
        }
    )
    history = LoyaltyHistory(program_id=1, entries=[entry])
    return render_to_string("django_talon/loyalty/history.html", {"history": history})


@pytest.mark.parametrize("use_tz", [True, False])
def test_the_history_shows_the_shops_date(use_tz: bool) -> None:
    """20:30 UTC on 2 December is 02:00 on 3 December in Kolkata (was "2026-12-02")."""
    with override_settings(TIME_ZONE="Asia/Kolkata", USE_TZ=use_tz, **GERMAN):
        html = history_html("2026-12-02T20:30:00Z")
    assert "<td>3. Dezember 2026</td>" in html and "2026-12-02" not in html
    with override_settings(TIME_ZONE="America/New_York", USE_TZ=use_tz, LANGUAGE_CODE="en"):
        assert "<td>Dec. 2, 2026</td>" in history_html("2026-12-03T01:00:00Z")
        assert "<td></td>" in history_html("not a timestamp")  # no crash, no date
