"""Card-based loyalty through the emulator: the adapter's card travels as the session's
``loyaltyCards`` (so the close books the points on the card), and
``services.loyalty_card`` reads a card's balance and history for its own customer only,
remembered like the other loyalty reads."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from django_talon import services
from django_talon.models import CustomerSession
from django_talon.services.profiles import profile_for_user
from django_talon.services.sessions import loyalty_cards_payload, session_payload
from tests.core.shop import ESPRESSO, GRINDER, make_cart
from tests.shopapp.adapters import ShopAdapter
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

PROGRAM = 7
CARD_FILE: dict[str, Any] = {
    "loyaltyPrograms": [
        {
            "id": PROGRAM,
            "name": "card_club",
            "title": "Card club",
            "cardBased": True,
            "cards": ["CARD-ANN", "CARD-BOB"],
        }
    ],
    "campaigns": [
        {
            "id": 70,
            "name": "Ten points on the card",
            "effects": [{"type": "addLoyaltyPoints", "programId": PROGRAM, "points": 10}],
        }
    ],
}


class CardAdapter(ShopAdapter):
    """The test shop; a signed-in customer's cart carries their card ``CARD-<NAME>``."""

    def loyalty_cards(self, cart: Any) -> list[str]:
        user = self.cart_user(cart)
        return [f"CARD-{user.username.upper()}"] if user is not None else []


@pytest.fixture
def card_shop(shop: Any, settings: Any) -> Any:
    settings.TALON = {**settings.TALON, "ADAPTER": f"{__name__}.CardAdapter"}
    shop.load_campaigns(CARD_FILE)
    return shop


def customer(card_shop: Any, django_user_model: Any, name: str) -> Any:
    """A user whose profile is linked to their card ``CARD-<NAME>``."""
    user = django_user_model.objects.create_user(name, password="pw")
    profile = profile_for_user(user)
    card_shop.client().link_loyalty_card_to_profile(
        PROGRAM, f"CARD-{name.upper()}", profile.integration_id
    )
    return user


def test_the_session_sends_the_adapters_card_and_the_close_books_points_on_it(
    card_shop: Any, django_user_model: Any
) -> None:
    ann = customer(card_shop, django_user_model, "ann")
    cart = make_cart(ann, [ESPRESSO, GRINDER])
    session = CustomerSession.objects.get(cart_key__endswith=str(cart.pk))
    assert session.loyalty_cards == ["CARD-ANN"]
    assert session_payload(session)["loyaltyCards"] == ["CARD-ANN"]
    remote = card_shop.state()["sessions"][session.integration_id]
    assert remote["loyaltyCards"] == ["CARD-ANN"]
    Order.objects.create(cart=cart, user=ann, status="paid")
    card = services.loyalty_card(ann, "CARD-ANN")
    assert card is not None
    assert (card.identifier, card.program_id, card.card.status) == ("CARD-ANN", PROGRAM, "active")
    assert card.balance.active == Decimal(10)
    (line,) = card.history
    assert (line.type, line.amount, line.customer_session_id) == (
        "addition",
        Decimal(10),
        session.integration_id,
    )


def test_an_anonymous_cart_sends_no_card(card_shop: Any) -> None:
    cart = make_cart(None, [ESPRESSO])
    session = CustomerSession.objects.get(cart_key__endswith=str(cart.pk))
    assert session.loyalty_cards == []
    assert "loyaltyCards" not in session_payload(session)


def test_more_than_one_card_sends_the_first_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="django_talon.services"):
        assert loyalty_cards_payload(["A", "", "B"]) == ["A"]
    assert "returned 2 cards" in caplog.text
    assert loyalty_cards_payload([]) == []


def test_a_customer_never_reads_another_customers_card(
    card_shop: Any, django_user_model: Any
) -> None:
    ann = customer(card_shop, django_user_model, "ann")
    bob = customer(card_shop, django_user_model, "bob")
    Order.objects.create(cart=make_cart(ann, [ESPRESSO]), user=ann, status="paid")
    assert services.loyalty_card(bob, "CARD-ANN") is None  # exists, but is ann's
    assert services.loyalty_card(bob, "CARD-NONE") is None
    assert services.loyalty_card(AnonymousUser(), "CARD-ANN") is None
    own = services.loyalty_card(bob, "CARD-BOB")
    assert own is not None and own.balance.active == 0 and own.history == []
    assert [c.identifier for c in services.loyalty_cards(bob)] == ["CARD-BOB"]


def test_a_card_unlinked_since_the_inventory_read_is_not_shown(
    card_shop: Any, django_user_model: Any
) -> None:
    ann = customer(card_shop, django_user_model, "ann")
    assert [c.identifier for c in services.loyalty_cards(ann)] == ["CARD-ANN"]  # remembered
    card_shop.client().unlink_loyalty_card_from_profile(
        PROGRAM, "CARD-ANN", profile_for_user(ann).integration_id
    )
    assert services.loyalty_card(ann, "CARD-ANN") is None  # the card's own answer decides


def test_a_card_is_remembered_until_the_next_close(card_shop: Any, django_user_model: Any) -> None:
    ann = customer(card_shop, django_user_model, "ann")
    card_shop.clear_requests()
    first = services.loyalty_card(ann, "CARD-ANN")
    assert len(card_shop.requests()) == 4  # inventory, balances, points, transactions
    card_shop.clear_requests()
    assert services.loyalty_card(ann, "CARD-ANN") == first
    assert card_shop.requests() == []
    Order.objects.create(cart=make_cart(ann, [ESPRESSO]), user=ann, status="paid")
    card = services.loyalty_card(ann, "CARD-ANN")
    assert card is not None and card.balance.active == Decimal(10)
