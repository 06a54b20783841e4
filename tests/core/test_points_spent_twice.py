"""The same points spent by two open carts: both were quoted while the balance covered
them, the first close spends them, the second close finds them gone. The shop charged the
second order the full points discount; the difference is recorded with the reason that
says so (it read "campaign changed", which sent the operator to the Campaign Manager)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from django_talon import services
from django_talon.models import Discrepancy, LedgerEntry
from tests.core.shop import KETTLE, make_cart
from tests.core.test_loyalty_redeem import customer, earn, points_shop  # noqa: F401
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def test_points_spent_by_another_order_first_are_named_as_such(
    points_shop: Any,  # noqa: F811
    customer: Any,  # noqa: F811
) -> None:
    earn(customer)  # 106 points
    first = make_cart(user=customer, items=[KETTLE])
    second = make_cart(user=customer, items=[KETTLE])
    services.redeem_points(first, 100)
    services.redeem_points(second, 100)
    assert services.quote_for_cart(second).discounts_by_campaign()[9] == Decimal("1.00")

    Order.objects.create(cart=first, user=customer, status="paid")
    order = Order.objects.create(cart=second, user=customer, status="paid")
    session = services.session_for_order(order)
    assert session is not None
    booked = LedgerEntry.objects.get(session_id=session.integration_id, kind="booked")
    # the first close spent 100 and earned 45: 51 were left for the second order
    assert booked.discounts_by_campaign["9"] == "0.51"
    (discrepancy,) = Discrepancy.objects.filter(session_id=session.integration_id)
    assert discrepancy.reason == "points_unavailable"
    assert discrepancy.detail.startswith(
        "paid with 100 points at checkout, Talon.One deducted 51 at the close"
    )
    assert "campaign 9: charged 1.00, booked 0.51" in discrepancy.detail
    assert discrepancy.get_reason_display() == "loyalty points no longer available"
