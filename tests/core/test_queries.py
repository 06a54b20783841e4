"""Query budgets (docs/services.md "What a cart update costs").

Counted without transaction-control statements (BEGIN/COMMIT/SAVEPOINT/RELEASE), which
differ between SQLite and PostgreSQL. Delivery goes to a recording fake client here; the
same numbers hold against the emulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from django_talon import services
from tests.core.conftest import ESPRESSO, GRINDER, FakeClient, make_cart
from tests.shopapp.models import CartItem

pytestmark = pytest.mark.django_db(transaction=True)

CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")

#: Documented budgets (docs/services.md).
ENQUEUE_QUERIES = 4  # session (+profile) lookup, the shop's cart items, session update, insert
DELIVERY_QUERIES = 4  # the row was claimed when written: lock head(+next), session lookup,
# store effects, row done + "anything left?" (one UPDATE ... RETURNING); one transaction
UNCHANGED_QUERIES = 2  # session lookup, the shop's cart items


@contextmanager
def count_queries() -> Iterator[list[str]]:
    sql: list[str] = []
    with CaptureQueriesContext(connection) as ctx:
        yield sql
    sql.extend(q["sql"] for q in ctx.captured_queries if not q["sql"].upper().startswith(CONTROL))


@pytest.fixture
def cart(fake_client: FakeClient, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("q", "q@example.com", "pw")
    cart = make_cart(user=user, items=[ESPRESSO])
    CartItem.objects.filter(cart=cart).update(quantity=5)  # changes the cart, no signal
    return cart


def test_cart_update_enqueue_budget(cart: Any, fake_client: FakeClient) -> None:
    calls = len(fake_client.calls)
    with transaction.atomic():
        with count_queries() as sql:
            services.update_cart(cart)
        assert len(sql) == ENQUEUE_QUERIES, sql
        assert len(fake_client.calls) == calls  # nothing sent before commit


def test_cart_update_total_budget(cart: Any, fake_client: FakeClient) -> None:
    with count_queries() as sql:
        services.update_cart(cart)  # autocommit: enqueue + immediate delivery
    assert len(sql) == ENQUEUE_QUERIES + DELIVERY_QUERIES, sql
    assert fake_client.names()[-1] == "update_customer_session_v2"


def test_unchanged_cart_budget(cart: Any, fake_client: FakeClient) -> None:
    services.update_cart(cart)
    calls = len(fake_client.calls)
    with count_queries() as sql:
        services.update_cart(cart)
    assert len(sql) == UNCHANGED_QUERIES, sql
    assert len(fake_client.calls) == calls


def test_budget_does_not_grow_with_cart_size(cart: Any, fake_client: FakeClient) -> None:
    CartItem.objects.bulk_create(
        [
            CartItem(cart=cart, sku=f"SKU-{i}", name=f"Item {i}", price=1, quantity=1)
            for i in range(50)
        ]
    )
    with count_queries() as sql:
        services.update_cart(cart)
    assert len(sql) == ENQUEUE_QUERIES + DELIVERY_QUERIES, sql


def test_stored_promotions_cost_no_query(cart: Any, fake_client: FakeClient) -> None:
    services.update_cart(cart)
    session = services.session_for_cart(cart, create=False)
    with count_queries() as sql:
        promotions = services.get_promotions(session)
    assert sql == [] and promotions.in_sync


def test_item_saves_in_one_transaction_send_once(cart: Any, fake_client: FakeClient) -> None:
    calls = len(fake_client.calls)
    with transaction.atomic():
        for sku, name, price, qty, _cat in [GRINDER, ("KETTLE", "Kettle", "45.00", 1, "")]:
            CartItem.objects.create(cart=cart, sku=sku, name=name, price=price, quantity=qty)
    assert len(fake_client.calls) == calls + 1
