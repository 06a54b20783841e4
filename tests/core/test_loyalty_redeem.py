"""Paying with points, end to end through the emulator's ledger.

Earn at close -> the balance shows the points -> the next cart asks to spend some
(``services.redeem_points``: the session attribute ``pointsToRedeem``) -> the demo's "Pay
with points" campaign (9: 100 points = 1.00) answers ``deductLoyaltyPoints`` and a
discount -> the quote charges it -> the close books it (ledger entries on both sides) -> a
cancel gives the points back.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from django_talon import services
from django_talon.client.effects import DeductLoyaltyPoints, SetDiscount
from django_talon.emulator import DEMO_CAMPAIGNS
from django_talon.models import CustomerSession, Discrepancy, LedgerEntry
from django_talon.promotions import decoded_effects
from django_talon.services.quotes import quote_for_cart
from tests.core.shop import ESPRESSO, GRINDER, KETTLE, make_cart
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def demo_campaigns(**program: Any) -> dict[str, Any]:
    """The demo campaigns, the Coffee Club program changed by ``program``."""
    data: dict[str, Any] = json.loads(DEMO_CAMPAIGNS.read_text())
    data["loyaltyPrograms"][0].update(program)
    return data


@pytest.fixture
def points_shop(shop: Any, settings: Any) -> Any:
    settings.TALON = {**settings.TALON, "LOYALTY_PROGRAM_ID": 1}
    shop.load_campaigns(demo_campaigns())
    return shop


@pytest.fixture
def customer(db: Any) -> Any:
    return get_user_model().objects.create_user("ada", "ada@example.com", "pw")


def earn(user: Any, items: list[Any] | None = None) -> Order:
    """A paid order of ``user`` (GRINDER + 2 ESPRESSO: 106.00 earns 106 points)."""
    cart = make_cart(user=user, items=items or [ESPRESSO, GRINDER])
    order: Order = Order.objects.create(cart=cart, user=user, status="paid")
    return order


def test_points_earned_at_close_are_the_balance(points_shop: Any, customer: Any) -> None:
    assert services.loyalty_balance(customer).active == 0
    earn(customer)
    balance = services.loyalty_balance(customer)
    assert balance.found
    assert (balance.active, balance.pending, balance.spent) == (
        Decimal(106),
        Decimal(0),
        Decimal(0),
    )
    history = services.loyalty_history(customer)
    (entry,) = history.entries
    assert (entry.type, entry.amount, entry.name) == (
        "addition",
        Decimal(106),
        "Coffee Club points",
    )


def test_redeem_at_checkout_is_quoted_booked_and_given_back_on_cancel(
    points_shop: Any, customer: Any
) -> None:
    earn(customer)
    cart = make_cart(user=customer, items=[KETTLE])  # 45.00
    session = services.redeem_points(cart, 106)  # every point earned
    assert session.points_to_redeem == 106
    session.refresh_from_db()
    remote = points_shop.control.state()["sessions"][session.integration_id]
    assert remote["attributes"]["pointsToRedeem"] == 106

    effects = decoded_effects(session)
    (deduct,) = [e for e in effects if isinstance(e, DeductLoyaltyPoints)]
    assert deduct.value == Decimal(106)
    discount = next(e for e in effects if isinstance(e, SetDiscount) and e.campaign_id == 9)
    assert discount.value == Decimal("1.06")

    quote = quote_for_cart(cart)
    assert quote.confirmed
    assert quote.points_to_spend == Decimal(106)
    assert quote.discounts_by_campaign()[9] == Decimal("1.06")
    assert quote.total == Decimal("45.00") - Decimal("1.06")

    order = Order.objects.create(cart=cart, user=customer, status="paid")
    closed = services.session_for_order(order)
    assert closed is not None and closed.state == "closed"
    charged = LedgerEntry.objects.get(session_id=closed.integration_id, kind="charged")
    booked = LedgerEntry.objects.get(session_id=closed.integration_id, kind="booked")
    assert charged.total == Decimal("43.94")
    assert charged.discounts_by_campaign["9"] == "1.06"
    assert booked.discounts_by_campaign == charged.discounts_by_campaign
    assert any(e["effectType"] == "deductLoyaltyPoints" for e in booked.effects)
    assert not Discrepancy.objects.exists()

    balance = services.loyalty_balance(customer)  # the close changed the cache key
    assert (balance.active, balance.spent) == (Decimal(45), Decimal(106))
    kinds = [(e.type, e.amount) for e in services.loyalty_history(customer).entries]
    assert ("subtraction", Decimal(106)) in kinds and ("addition", Decimal(45)) in kinds

    order.status = "cancelled"
    order.save()
    cancelled = LedgerEntry.objects.get(session_id=closed.integration_id, kind="cancelled")
    assert any(e["effectType"] == "rollbackDeductedLoyaltyPoints" for e in cancelled.effects)
    balance = services.loyalty_balance(customer)
    assert (balance.active, balance.spent) == (Decimal(106), Decimal(0))
    assert not Discrepancy.objects.exists()


def test_clear_redemption_sends_zero_and_drops_the_discount(
    points_shop: Any, customer: Any
) -> None:
    earn(customer)
    cart = make_cart(user=customer, items=[KETTLE])
    services.redeem_points(cart, 100)
    assert quote_for_cart(cart).discounts_by_campaign().get(9) == Decimal("1.00")
    session = services.clear_redemption(cart)
    assert session.points_to_redeem == 0
    remote = points_shop.control.state()["sessions"][session.integration_id]
    assert remote["attributes"]["pointsToRedeem"] == 0
    quote = quote_for_cart(cart)
    assert 9 not in quote.discounts_by_campaign() and quote.points_to_spend == 0
    assert services.redeem_points(cart, "0").points_to_redeem == 0  # 0 is "none"


def test_a_wish_survives_cart_changes(points_shop: Any, customer: Any) -> None:
    earn(customer)
    cart = make_cart(user=customer, items=[KETTLE])
    services.redeem_points(cart, 100)
    cart.items.create(sku="ESPRESSO-250", name="Espresso", price=Decimal("8.50"), quantity=1)
    session = CustomerSession.objects.get(cart_key=f"shopapp.cart:{cart.pk}")
    assert session.points_to_redeem == 100
    assert quote_for_cart(cart).discounts_by_campaign().get(9) == Decimal("1.00")


@pytest.mark.parametrize(
    ("points", "message"),
    [
        (-1, "whole number"),
        (1.5, "whole number"),
        ("12.5", "whole number"),
        ("many", "whole number"),
        (True, "whole number"),
        ("NaN", "whole number"),
        (107, "107 is more than that"),
        # refused before int(): "1e999999" was a million-digit int (half a minute of CPU)
        ("1e999999", "more points than any balance"),
        ("1E+18", "more points than any balance"),
        (10**18, "more points than any balance"),
    ],
)
def test_a_wish_is_validated_before_anything_is_saved(
    points_shop: Any, customer: Any, points: Any, message: str
) -> None:
    earn(customer)
    cart = make_cart(user=customer, items=[KETTLE])
    with pytest.raises(services.RedemptionError, match=message):
        services.redeem_points(cart, points)
    session = CustomerSession.objects.get(cart_key=f"shopapp.cart:{cart.pk}")
    assert session.points_to_redeem is None


def test_anonymous_carts_and_finished_carts_cannot_spend(points_shop: Any, customer: Any) -> None:
    anonymous = make_cart(items=[KETTLE])
    with pytest.raises(services.RedemptionError, match="Sign in"):
        services.redeem_points(anonymous, 10)
    order = earn(customer)
    assert order.cart is not None
    closed = services.session_for_order(order)
    with pytest.raises(services.RedemptionError, match="checked out"):
        services.redeem_points(closed, 10)


def test_pending_points_and_expiring_points(shop: Any, settings: Any, customer: Any) -> None:
    settings.TALON = {**settings.TALON, "LOYALTY_PROGRAM_ID": 1}
    shop.load_campaigns(demo_campaigns(pendingDuration="2D"))
    earn(customer)
    balance = services.loyalty_balance(customer)
    assert (balance.active, balance.pending) == (Decimal(0), Decimal(106))
    cart = make_cart(user=customer, items=[KETTLE])
    with pytest.raises(services.RedemptionError, match="0 points"):
        services.redeem_points(cart, 1)  # pending points cannot be spent yet

    shop.load_campaigns(demo_campaigns(expiryDuration="10D"))
    other = get_user_model().objects.create_user("bob", "bob@example.com", "pw")
    earn(other)
    balance = services.loyalty_balance(other)
    assert balance.active == Decimal(106)
    assert balance.expiring_points == Decimal(106)
    assert balance.next_expiry is not None


def test_the_balance_is_remembered_until_the_next_close(points_shop: Any, customer: Any) -> None:
    earn(customer)
    points_shop.clear_requests()
    for _ in range(3):
        assert services.loyalty_balance(customer).active == Decimal(106)
        services.loyalty_history(customer)
        services.customer_achievements(customer)
    reads = [r for r in points_shop.requests() if r["method"] == "GET"]
    assert len(reads) == 4  # balances + points, transactions, achievements: once each
    earn(customer, items=[KETTLE])
    assert services.loyalty_balance(customer).active == Decimal(151)


def test_join_and_forget(points_shop: Any, customer: Any) -> None:
    earn(customer)
    assert services.join_loyalty_program(customer) is True
    assert services.loyalty_balance(customer).active == Decimal(106)
    anonymous = get_user_model()()
    assert services.join_loyalty_program(anonymous) is False


def test_a_return_gives_back_the_returned_items_share(points_shop: Any, customer: Any) -> None:
    earn(customer)  # 106 points
    cart = make_cart(user=customer, items=[GRINDER, KETTLE])  # 134.00
    services.redeem_points(cart, 100)
    order = Order.objects.create(cart=cart, user=customer, status="paid")
    session = services.session_for_order(order)
    assert session is not None
    assert services.loyalty_balance(customer).active == Decimal(106 - 100 + 134)
    services.return_items(session, [{"position": 0, "quantity": 1}])  # the grinder
    returned = LedgerEntry.objects.get(session_id=session.integration_id, kind="returned")
    kinds = {e["effectType"] for e in returned.effects}
    assert {"rollbackDeductedLoyaltyPoints", "rollbackAddedLoyaltyPoints"} <= kinds
    balance = services.loyalty_balance(customer)
    # the grinder's 89 earned points go; its share of the 100 spent (89/134) comes back
    assert balance.active == Decimal(140 - 89) + Decimal("66.42")


def test_redeeming_while_talon_one_is_off_says_so(
    points_shop: Any, settings: Any, customer: Any
) -> None:
    from django_talon.exceptions import TalonUnavailableError

    earn(customer)
    cart = make_cart(user=customer, items=[KETTLE])
    settings.TALON = {**settings.TALON, "ENABLED": False}
    with pytest.raises(TalonUnavailableError):
        services.redeem_points(cart, 10)
    session = CustomerSession.objects.get(cart_key=f"shopapp.cart:{cart.pk}")
    assert session.points_to_redeem is None
