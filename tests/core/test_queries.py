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


# -- one lookup per cart and transaction (issue 13) ---------------------------------------------
#: A later update of the same cart in the same transaction: only the shop's cart items.
REPEATED_UPDATE_QUERIES = 1


def last_body(fake_client: FakeClient) -> dict[str, Any]:
    """The ``customerSession`` body of the last session update the client was given."""
    name, args, _kwargs = fake_client.calls[-1]
    assert name == "update_customer_session_v2"
    body: dict[str, Any] = args[1]
    return body


def test_a_second_update_of_a_cart_in_one_transaction_reads_only_its_items(
    cart: Any, fake_client: FakeClient
) -> None:
    with transaction.atomic():
        services.update_cart(cart)
        with count_queries() as sql:
            cart.save()  # the shop's own "the cart changed" save, after the line's
    assert len(sql) == 1 + REPEATED_UPDATE_QUERIES, sql  # the shop's own UPDATE, then ours
    assert "cartitem" in sql[1]


def test_a_change_after_the_first_update_in_one_transaction_is_still_sent(
    cart: Any, fake_client: FakeClient
) -> None:
    with transaction.atomic():
        services.update_cart(cart)
        CartItem.objects.filter(cart=cart).update(quantity=7)  # no signal
        with count_queries() as sql:
            cart.save()
    # the shop's UPDATE, then the items, the session's UPDATE and the outbox row
    assert len(sql) == 1 + REPEATED_UPDATE_QUERIES + 2, sql
    sent = last_body(fake_client)["cartItems"]
    assert [i["quantity"] for i in sent] == [7]


def test_a_code_applied_between_two_line_saves_is_not_lost(
    cart: Any, fake_client: FakeClient
) -> None:
    """The coupon is saved through another instance of the session than the one the first
    line's update remembered: the second line's update must look the session up again."""
    with transaction.atomic():
        sku, name, price, qty, _cat = GRINDER
        CartItem.objects.create(cart=cart, sku=sku, name=name, price=price, quantity=qty)
        services.apply_coupon(cart, "SAVE10")
        CartItem.objects.create(cart=cart, sku="KETTLE", name="Kettle", price="45.00", quantity=1)
    body = last_body(fake_client)
    assert body["couponCodes"] == ["SAVE10"]
    assert [i["sku"] for i in body["cartItems"]] == ["ESPRESSO-250", "GRINDER-X", "KETTLE"]
    session = services.session_for_cart(cart, create=False)
    assert session is not None and session.coupon_codes == ["SAVE10"]


def test_a_rolled_back_savepoint_forgets_the_remembered_session(
    cart: Any, fake_client: FakeClient
) -> None:
    with transaction.atomic():
        services.update_cart(cart)
        try:
            with transaction.atomic():
                CartItem.objects.filter(cart=cart).update(quantity=9)
                services.update_cart(cart)  # mirrored 9, then rolled back with the savepoint
                raise RuntimeError("the shop's own failure")
        except RuntimeError:
            pass
        with count_queries() as sql:
            services.update_cart(cart)
    assert len(sql) == UNCHANGED_QUERIES, sql  # looked up again: the session and the items
    session = services.session_for_cart(cart, create=False)
    assert session is not None and [i["quantity"] for i in session.cart_items] == [5]
    assert [i["quantity"] for i in last_body(fake_client)["cartItems"]] == [5]
