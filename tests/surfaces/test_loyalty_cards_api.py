"""The loyalty-card REST endpoints and template tag against the emulator: the caller's own
cards only (another customer's card is 404, as is an unknown one), anonymous callers
refused, and the tag rendering a card with no API call on a re-render."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import Client, RequestFactory

from django_talon.services.profiles import profile_for_user
from tests.core.shop import ESPRESSO, make_cart
from tests.core.test_loyalty_cards import CARD_FILE, PROGRAM
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

API = "/api/talon/"


@pytest.fixture
def card_shop(shop: Any, settings: Any) -> Any:
    settings.TALON = {
        **settings.TALON,
        "ADAPTER": "tests.core.test_loyalty_cards.CardAdapter",
    }
    shop.load_campaigns(CARD_FILE)
    return shop


def member(card_shop: Any, django_user_model: Any, name: str, *, orders: int = 0) -> Any:
    """A signed-in customer linked to card ``CARD-<NAME>`` with ``orders`` paid orders
    (10 points each, on the card)."""
    user = django_user_model.objects.create_user(name, password="pw")
    card_shop.client().link_loyalty_card_to_profile(
        PROGRAM, f"CARD-{name.upper()}", profile_for_user(user).integration_id
    )
    for _ in range(orders):
        Order.objects.create(cart=make_cart(user, [ESPRESSO]), user=user, status="paid")
    client = Client()
    client.force_login(user)
    return user, client


def test_my_cards_are_my_own(card_shop: Any, django_user_model: Any) -> None:
    _, ann = member(card_shop, django_user_model, "ann", orders=2)
    _, bob = member(card_shop, django_user_model, "bob")
    (card,) = ann.get(API + "me/loyalty/cards/").json()
    assert (card["identifier"], card["program_id"], card["status"]) == ("CARD-ANN", 7, "active")
    assert card["ledger"]["current_balance"] == "20"
    assert [c["identifier"] for c in bob.get(API + "me/loyalty/cards/").json()] == ["CARD-BOB"]
    detail = ann.get(API + "me/loyalty/cards/CARD-ANN/").json()
    assert (detail["identifier"], detail["program_id"], detail["status"]) == (
        "CARD-ANN",
        7,
        "active",
    )
    assert detail["balance"]["active"] == "20"
    assert [line["amount"] for line in detail["results"]] == ["10", "10"]
    assert detail["has_more"] is False
    page = ann.get(API + "me/loyalty/cards/CARD-ANN/?limit=1").json()
    assert len(page["results"]) == 1 and page["has_more"] is True


def test_another_customers_card_is_not_found(card_shop: Any, django_user_model: Any) -> None:
    member(card_shop, django_user_model, "ann", orders=1)
    _, bob = member(card_shop, django_user_model, "bob")
    answer = bob.get(API + "me/loyalty/cards/CARD-ANN/")
    assert answer.status_code == 404
    assert "CARD-ANN" not in answer.content.decode()  # nothing of ann's card is told
    assert bob.get(API + "me/loyalty/cards/CARD-NOPE/").status_code == 404
    assert bob.get(API + "me/loyalty/cards/CARD-BOB/?limit=0").status_code == 400


def test_anonymous_callers_are_refused(card_shop: Any) -> None:
    card_shop.clear_requests()
    for path in ("me/loyalty/cards/", "me/loyalty/cards/CARD-ANN/"):
        assert Client().get(API + path).status_code in (401, 403)
    assert card_shop.requests() == []


# --------------------------------------------------------------------------- template tag

PAGE = Template("{% load talon_loyalty %}{% talon_loyalty_card %}")


def _request(user: Any) -> Any:
    request = RequestFactory().get("/account/card/")
    request.user = user
    request.session = {}  # type: ignore[assignment]
    return request


def test_the_tag_renders_my_card_and_costs_no_call_on_a_re_render(
    card_shop: Any, django_user_model: Any
) -> None:
    user, _ = member(card_shop, django_user_model, "ann", orders=2)
    card_shop.clear_requests()
    first = PAGE.render(Context({"request": _request(user)}))
    assert len(card_shop.requests()) == 4  # inventory, balances, points, transactions
    assert 'class="talon-loyalty-card" data-card="CARD-ANN" data-status="active"' in first
    assert 'class="talon-points-active" data-points="20"' in first
    assert first.count('data-type="addition"') == 2
    card_shop.clear_requests()
    assert PAGE.render(Context({"request": _request(user)})) == first
    assert card_shop.requests() == []  # remembered: zero API calls


def test_the_tag_shows_another_customers_card_as_none(
    card_shop: Any, django_user_model: Any
) -> None:
    member(card_shop, django_user_model, "ann", orders=1)
    bob, _ = member(card_shop, django_user_model, "bob")
    page = Template('{% load talon_loyalty %}{% talon_loyalty_card card_id="CARD-ANN" %}')
    html = page.render(Context({"request": _request(bob)}))
    assert "talon-card-none" in html and "CARD-ANN" not in html


def test_the_tag_shows_nothing_to_anonymous_visitors(card_shop: Any) -> None:
    card_shop.clear_requests()
    assert PAGE.render(Context({"request": _request(AnonymousUser())})).strip() == ""
    assert card_shop.requests() == []


def test_the_tag_says_unavailable_when_talon_one_is_off(
    card_shop: Any, settings: Any, django_user_model: Any
) -> None:
    user, _ = member(card_shop, django_user_model, "ann")
    settings.TALON = {**settings.TALON, "ENABLED": False}
    html = PAGE.render(Context({"request": _request(user)}))
    assert "talon-unavailable" in html
