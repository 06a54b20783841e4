"""The documented query budgets (docs/outbox.md "What it costs") hold against the emulator's
real answers too, not only against the recording fake client of test_queries.py."""

from __future__ import annotations

from typing import Any

import pytest

from django_talon import services
from tests.core.conftest import ESPRESSO, make_cart
from tests.core.test_queries import (
    DELIVERY_QUERIES,
    ENQUEUE_QUERIES,
    UNCHANGED_QUERIES,
    count_queries,
)
from tests.shopapp.models import CartItem

pytestmark = pytest.mark.django_db(transaction=True)


def test_budgets_against_the_emulator(shop: Any, django_user_model: Any) -> None:
    user = django_user_model.objects.create_user("q", "q@example.com", "pw")
    cart = make_cart(user=user, items=[ESPRESSO])
    CartItem.objects.filter(cart=cart).update(quantity=5)  # changes the cart, no signal
    shop.control.clear_requests()

    with count_queries() as sql:
        services.update_cart(cart)  # autocommit: enqueue + immediate delivery
    assert len(sql) == ENQUEUE_QUERIES + DELIVERY_QUERIES, sql
    assert [r["method"] for r in shop.control.requests("/v2/customer_sessions/")] == ["PUT"]

    with count_queries() as sql:
        services.update_cart(cart)
    assert len(sql) == UNCHANGED_QUERIES, sql
    assert len(shop.control.requests("/v2/customer_sessions/")) == 1  # no call

    # An answer that rejects a code costs one more query (the session re-read under lock)
    # than one that accepts it, on the same path.
    costs = {}
    for code in ("WELCOME10", "NOPE-123"):
        session = services.session_for_cart(make_cart(user=user, items=[ESPRESSO]))
        assert session is not None
        with count_queries() as sql:
            session = services.apply_coupon(session, code)
        costs[code] = len(sql)
    assert session.coupon_codes == []  # the rejected code was dropped
    assert costs["NOPE-123"] == costs["WELCOME10"] + 1, costs
