"""Several databases: the default adapter reads the cart where the shop writes it, not from
a read replica, and fail-closed placement names the alias its transaction must be on.

django-talon mirrors a cart inside the shop's transaction; a read-replica router (Django's
primary/replica pattern: every read to 'replica') sent the default ``cart_items`` query
(``cart.items.all()``) to a replica that does not see that transaction yet, so every
Talon.One session was one cart change behind (docs/adapters.md#several-databases).

The router here sends the shop's reads to 'replica', an alias that is not in ``DATABASES``:
a read made there fails with ``ConnectionDoesNotExist``, so each test proves the read went
to the write alias ('default') without a second connection in the test settings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from django_talon.adapters import TalonAdapter
from django_talon.models import CustomerSession, SyncProblem
from tests.core.conftest import ESPRESSO, make_cart
from tests.shopapp.models import Cart, CartItem, Order

pytestmark = pytest.mark.django_db(transaction=True)


class ShopReadReplica:
    """The shop's rows read from 'replica' (not configured), written to default; the rest
    (django-talon's models, users) on default, as docs/adapters.md tells a shop to route."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return "replica" if model._meta.app_label == "shopapp" else None

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return "default"


replica = override_settings(DATABASE_ROUTERS=[f"{__name__}.ShopReadReplica"])


def test_default_cart_items_reads_the_write_alias(shop_settings: Any) -> None:
    cart = make_cart(items=[ESPRESSO])
    with replica:
        assert [row["sku"] for row in TalonAdapter().cart_items(cart)] == ["ESPRESSO-250"]
        assert Cart.objects.all().db == "replica"  # the router is in force


def test_one_database_adds_no_query(shop_settings: Any) -> None:
    """Without routers the related manager's queryset is used as it is: one query."""
    cart = make_cart(items=[ESPRESSO])
    with CaptureQueriesContext(connection) as queries:
        TalonAdapter().cart_items(cart)
    assert len(queries) == 1


def test_cart_of_a_line_and_of_an_order_is_read_on_the_write_alias(shop_settings: Any) -> None:
    cart = make_cart(items=[ESPRESSO])
    order = Order.objects.create(cart=cart, status="pending")
    with replica:
        line = CartItem.objects.using("default").get(cart=cart)  # the cart is not loaded
        found = TalonAdapter().cart_for_item(line)
        assert found == cart and found._state.db == "default"
        assert line.cart is found  # cached, as the foreign key caches it
        order = Order.objects.using("default").get(pk=order.pk)
        assert TalonAdapter().order_cart(order) == cart


def test_cart_for_key_reads_the_write_alias(shop_settings: Any) -> None:
    """Work done after Talon.One answered (adding a free item) finds the cart on default:
    right after the commit a lagging replica may not have it yet."""
    cart = make_cart(items=[ESPRESSO])
    with replica:
        found = TalonAdapter().cart_for_key(f"shopapp.cart:{cart.pk}")
    assert found == cart and found._state.db == "default"


def test_mirror_inside_the_shops_transaction_is_current(shop: Any) -> None:
    """The receivers' path (item saved in the shop's transaction): the session holds the
    cart as it is now, and nothing failed (a replica read was a recorded problem)."""
    from django.db import transaction

    with replica:
        cart = Cart.objects.create()
        with transaction.atomic():
            line = CartItem.objects.create(
                cart=cart, sku="ESPRESSO-250", name="Espresso", price=Decimal("8.50"), quantity=1
            )
            line.quantity = 3
            line.save(update_fields=["quantity"])
        session = CustomerSession.objects.get(cart_key=f"shopapp.cart:{cart.pk}")
    assert [(i["sku"], i["quantity"]) for i in session.cart_items] == [("ESPRESSO-250", 3)]
    assert not SyncProblem.objects.exists()


def test_fail_closed_outside_a_transaction_names_the_alias(settings: Any, shop: Any) -> None:
    """A shop whose orders live on another alias wraps them in that alias's atomic block and
    was told "wrap the order's save/payment in transaction.atomic()", which it had done."""
    from django_talon import services

    cart = make_cart(items=[ESPRESSO])
    settings.TALON = {**settings.TALON, "ORDER_PLACEMENT": "fail_closed"}
    with pytest.raises(services.FailClosedOutsideTransactionError) as refused:
        services.close_session(cart)
    assert "outside a transaction on the database alias 'default'" in str(refused.value)
    assert "docs/adapters.md#several-databases" in str(refused.value)


def test_a_line_moved_to_another_cart_is_seen_on_the_write_alias(shop_settings: Any) -> None:
    """The item receiver reads the line's old cart before the save; through the router that
    read went to the replica (here: no such alias), so the move was not seen and the cart
    it left kept the line in its session."""
    from django_talon import services
    from tests.core.conftest import GRINDER

    origin = make_cart(items=[ESPRESSO, GRINDER])
    later = make_cart(items=[])
    with replica:
        line = CartItem.objects.using("default").get(cart=origin, sku="GRINDER-X")
        line.cart = later
        line.save()
    assert not SyncProblem.objects.exists()
    left = services.session_for_cart(origin, create=False)
    moved = services.session_for_cart(later, create=False)
    assert left is not None and moved is not None
    assert [i["sku"] for i in left.cart_items] == ["ESPRESSO-250"]
    assert [i["sku"] for i in moved.cart_items] == ["GRINDER-X"]
