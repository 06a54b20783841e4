"""Adapter ``cart_user_id``: whose cart it is, read on every cart change without loading the
user (issue 13), and the fallbacks for adapters and carts of other shapes."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from django_talon import services
from django_talon.adapters import TalonAdapter
from tests.core.shop import ESPRESSO, make_cart
from tests.shopapp.models import Cart

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("owner", "owner@example.com", "pw")


def test_the_default_reads_the_foreign_key_column_without_a_query(customer: Any) -> None:
    cart = Cart.objects.create(user=customer)
    fresh = Cart.objects.get(pk=cart.pk)  # the user is not loaded
    with CaptureQueriesContext(connection) as ctx:
        assert TalonAdapter().cart_user_id(fresh) == customer.pk
    assert ctx.captured_queries == []


def test_an_anonymous_cart_has_no_owner() -> None:
    assert TalonAdapter().cart_user_id(Cart.objects.create()) is None


def test_an_adapter_with_its_own_cart_user_is_asked_for_the_user(customer: Any) -> None:
    class OwnerAdapter(TalonAdapter):
        def cart_user(self, cart: Any) -> Any | None:
            return cart.owner

    cart = SimpleNamespace(owner=customer, user_id=12345)  # user_id is not the owner here
    assert OwnerAdapter().cart_user_id(cart) == customer.pk
    assert OwnerAdapter().cart_user_id(SimpleNamespace(owner=None)) is None


def test_a_cart_that_is_not_a_model_falls_back_to_cart_user(customer: Any) -> None:
    assert TalonAdapter().cart_user_id(SimpleNamespace(user=customer)) == customer.pk
    assert TalonAdapter().cart_user_id(SimpleNamespace(user=None)) is None


@pytest.mark.django_db(transaction=True)
def test_a_cart_change_does_not_load_the_owner(customer: Any, fake_client: Any) -> None:
    cart = make_cart(user=customer, items=[ESPRESSO])
    services.update_cart(cart)
    fresh = Cart.objects.get(pk=cart.pk)
    fresh.items.update(quantity=3)
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        session = services.update_cart(fresh)
    assert not any('FROM "auth_user"' in q["sql"] for q in ctx.captured_queries)
    assert "user" not in fresh._state.fields_cache
    assert session.profile is not None and session.profile.user_id == customer.pk
    assert [i["quantity"] for i in session.cart_items] == [3]


@pytest.mark.django_db(transaction=True)
def test_a_cart_given_to_a_customer_gets_their_profile(customer: Any, fake_client: Any) -> None:
    cart = make_cart(items=[ESPRESSO])  # anonymous first
    services.update_cart(cart)
    Cart.objects.filter(pk=cart.pk).update(user=customer)
    session = services.update_cart(Cart.objects.get(pk=cart.pk))
    assert session.profile is not None and session.profile.user_id == customer.pk
