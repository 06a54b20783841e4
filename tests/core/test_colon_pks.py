"""Keys of carts and orders whose primary key holds a colon (``user:4e93``, ``sess:abc``).

The default key is ``'<app_label.model>:<pk>'``; a shop keying its carts by owner uses a
CharField pk with a colon of its own. Every reader of such a key splits it at the *first*
colon (a label never holds one): the cart is found again (free items are added to it), the
order counts as placed (the double-submit check), the erasure finds the cart's lines.

The models below have no migration: the module's fixture creates (and drops) their tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from django.db import connection, models

from django_talon.adapters import TalonAdapter
from django_talon.services.placement import _is_placed
from django_talon.services.problems import customer_subjects, subject_of

pytestmark = pytest.mark.django_db


class KeyedCart(models.Model):
    id = models.CharField(primary_key=True, max_length=80)
    status = models.CharField(max_length=10, default="open")
    # The managers are declared for mypy: its Django plugin misses a test module's models.
    objects: ClassVar[models.Manager[KeyedCart]] = models.Manager()

    class Meta:
        app_label = "shopapp"

    def __str__(self) -> str:
        return self.id


class KeyedCartItem(models.Model):
    cart = models.ForeignKey(KeyedCart, related_name="items", on_delete=models.CASCADE)
    sku = models.CharField(max_length=50)
    objects: ClassVar[models.Manager[KeyedCartItem]] = models.Manager()

    class Meta:
        app_label = "shopapp"

    def __str__(self) -> str:
        return self.sku


class KeyedOrder(models.Model):
    id = models.CharField(primary_key=True, max_length=80)
    status = models.CharField(max_length=10, default="pending")
    objects: ClassVar[models.Manager[KeyedOrder]] = models.Manager()

    class Meta:
        app_label = "shopapp"

    def __str__(self) -> str:
        return self.id


MODELS = (KeyedCart, KeyedCartItem, KeyedOrder)


@pytest.fixture(scope="module", autouse=True)
def _tables(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        with connection.schema_editor() as editor:
            for model in MODELS:
                editor.create_model(model)
    yield
    with django_db_blocker.unblock():
        with connection.schema_editor() as editor:
            for model in reversed(MODELS):
                editor.delete_model(model)


@pytest.mark.parametrize("pk", ["user:4e93", "sess:abc:def", "plain-4e93"])
def test_the_cart_is_found_again_from_its_key(pk: str) -> None:
    cart = KeyedCart.objects.create(id=pk)
    adapter = TalonAdapter()
    key = adapter.cart_key(cart)
    assert key == f"shopapp.keyedcart:{pk}"
    assert adapter.cart_for_key(key) == cart


def test_a_key_without_a_pk_finds_no_cart() -> None:
    KeyedCart.objects.create(id="")
    adapter = TalonAdapter()
    assert adapter.cart_for_key("shopapp.keyedcart:") is None
    assert adapter.cart_for_key("shopapp.keyedcart") is None
    assert adapter.cart_for_key("no.such:user:1") is None


@pytest.mark.parametrize("pk", ["sess:abc", "plain-abc"])
def test_an_order_whose_pk_holds_a_colon_counts_as_placed(pk: str) -> None:
    order = KeyedOrder.objects.create(id=pk, status="paid")
    assert _is_placed(subject_of(order)) is True
    order.status = "pending"
    order.save()
    assert _is_placed(subject_of(order)) is False


def test_the_erasure_finds_the_lines_of_such_a_cart(settings: Any) -> None:
    cart = KeyedCart.objects.create(id="user:4e93")
    line = KeyedCartItem.objects.create(cart=cart, sku="ESP")
    other = KeyedCartItem.objects.create(cart=KeyedCart.objects.create(id="user:0000"), sku="X")
    settings.TALON = {**settings.TALON, "CART_ITEM_MODELS": ["shopapp.KeyedCartItem"]}
    subjects = customer_subjects(None, [subject_of(cart)])
    assert subject_of(line) in subjects
    assert subject_of(other) not in subjects
