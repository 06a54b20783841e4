"""Returning a paid order in parts, through the library: the ledger and the balance add up.

Each ``services.return_items`` books a ``returned`` ledger entry with the emulator's rollbacks;
after the last unit is back, the entries take back exactly the points earned and spent at close
and the customer's balance is what it was before the order. (The emulator took each later
return's share of the whole cart from what earlier returns had left: of 134 points earned and
100 spent, the grinder then the kettle gave back 89 + 15 and 66.42 + 11.28, and 30 earned and
22.30 spent points stayed booked.)
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from django_talon import services
from django_talon.models import LedgerEntry
from tests.core.shop import GRINDER, KETTLE, make_cart
from tests.core.test_loyalty_redeem import customer, earn, points_shop  # noqa: F401
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def _taken(entry: LedgerEntry, etype: str) -> Decimal:
    return sum(
        (Decimal(str(e["props"]["value"])) for e in entry.effects if e["effectType"] == etype),
        Decimal(0),
    )


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_returning_every_item_in_parts_gives_back_all_points(
    points_shop: Any,  # noqa: F811
    customer: Any,  # noqa: F811
    order: tuple[int, int],
) -> None:
    earn(customer)  # 106 points
    cart = make_cart(user=customer, items=[GRINDER, KETTLE])  # 134.00: earns 134
    services.redeem_points(cart, 100)
    paid = Order.objects.create(cart=cart, user=customer, status="paid")
    session = services.session_for_order(paid)
    assert session is not None
    assert services.loyalty_balance(customer).active == Decimal(106 - 100 + 134)
    for position in order:
        services.return_items(session, [{"position": position, "quantity": 1}])
    entries = list(
        LedgerEntry.objects.filter(session_id=session.integration_id, kind="returned").order_by(
            "pk"
        )
    )
    assert len(entries) == 2
    earned = [_taken(e, "rollbackAddedLoyaltyPoints") for e in entries]
    spent = [_taken(e, "rollbackDeductedLoyaltyPoints") for e in entries]
    # the grinder 89/134 of it, the kettle 45/134 (to the point, to the cent), in any order
    shares = {0: (Decimal(89), Decimal("66.42")), 1: (Decimal(45), Decimal("33.58"))}
    assert list(zip(earned, spent, strict=True)) == [shares[p] for p in order]
    assert services.loyalty_balance(customer).active == Decimal(106)
