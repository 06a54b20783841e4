"""The example shop on its own: catalog, cart, checkout, payment and order states."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from example_project.cart.models import Cart
from example_project.catalog.models import Product
from example_project.orders.models import Order

pytestmark = pytest.mark.django_db


def add(client: Client, sku: str, quantity: int = 1) -> Any:
    return client.post("/cart/add/", {"sku": sku, "quantity": quantity})


def test_demo_data_matches_the_campaigns_and_is_idempotent(demo_data: Any) -> None:
    from example_project.demo.data import load_demo_data

    load_demo_data()
    assert Product.objects.get(sku="ESPRESSO-250").price == Decimal("8.50")
    assert Product.objects.get(sku="FILTER-1KG").category.slug == "coffee"
    assert Product.objects.get(sku="GRINDER-X").category.slug == "equipment"
    assert Product.objects.get(sku="KETTLE-GOOSENECK").price == Decimal("45.00")
    assert Product.objects.count() == 6  # the free tote is sold too
    assert User.objects.get(username="staff").is_staff
    assert not User.objects.get(username="alice").is_staff


def test_catalog_filters_by_category(demo_data: Any, client: Client) -> None:
    page = client.get("/?category=coffee").content.decode()
    assert "ESPRESSO-250" in page
    assert "GRINDER-X" not in page
    assert client.get("/?category=nope").status_code == 404
    assert client.get("/products/GRINDER-X/").status_code == 200


def test_guest_cart_lives_in_the_database(demo_data: Any, client: Client) -> None:
    add(client, "ESPRESSO-250", 2)
    add(client, "ESPRESSO-250")
    cart = Cart.objects.get()
    assert cart.user is None
    assert cart.items.get().quantity == 3
    assert cart.subtotal == Decimal("25.50")
    page = client.get("/cart/").content.decode()
    assert "25.50 EUR" in page
    client.post("/cart/update/", {"sku": "ESPRESSO-250", "quantity": 0})
    assert not cart.items.exists()


def test_login_keeps_the_guest_cart_and_folds_in_the_older_one(
    demo_data: Any, client: Client
) -> None:
    alice = User.objects.get(username="alice")
    older = Cart.objects.create(user=alice)
    older.items.create(product=Product.objects.get(sku="GRINDER-X"), quantity=1)
    add(client, "ESPRESSO-250")
    guest = Cart.objects.get(user=None)
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice-demo-pass"})
    assert response.status_code == 302
    guest.refresh_from_db()
    older.refresh_from_db()
    assert guest.user == alice
    assert older.status == Cart.Status.MERGED
    assert sorted(i.product.sku for i in guest.items.all()) == ["ESPRESSO-250", "GRINDER-X"]


def test_signup_signs_in(demo_data: Any, client: Client) -> None:
    response = client.post(
        "/accounts/signup/",
        {
            "username": "carol",
            "email": "carol@example.com",
            "password1": "a-long-pass-123",
            "password2": "a-long-pass-123",
        },
    )
    assert response.status_code == 302
    assert "carol" in client.get("/").content.decode()


def test_checkout_needs_login(demo_data: Any, client: Client) -> None:
    add(client, "ESPRESSO-250")
    response = client.get("/orders/checkout/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_checkout_pay_and_cancel(alice_client: Client) -> None:
    add(alice_client, "GRINDER-X")
    add(alice_client, "FILTER-1KG", 2)
    response = alice_client.post("/orders/checkout/")
    order = Order.objects.get()
    assert response["Location"] == f"/orders/{order.pk}/pay/"
    assert order.status == Order.Status.PLACED
    assert order.subtotal == Decimal("137.00")
    assert order.cart.status == Cart.Status.ORDERED
    # The ordered cart is frozen: the next add starts a new cart.
    add(alice_client, "ESPRESSO-250")
    assert Cart.objects.filter(status=Cart.Status.OPEN).count() == 1

    declined = alice_client.post(f"/orders/{order.pk}/pay/", {"card_number": "4000000000000002"})
    assert "declined" in declined.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED

    alice_client.post(f"/orders/{order.pk}/pay/", {"card_number": "4242 4242 4242 4242"})
    order.refresh_from_db()
    assert order.status == Order.Status.PAID

    alice_client.post(f"/orders/{order.pk}/cancel/")
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    # Nothing follows a cancellation.
    alice_client.post(f"/orders/{order.pk}/return/")
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED


def test_paid_order_can_be_returned(alice_client: Client) -> None:
    add(alice_client, "KETTLE-GOOSENECK")
    alice_client.post("/orders/checkout/")
    order = Order.objects.get()
    alice_client.post(f"/orders/{order.pk}/pay/", {"card_number": "4242424242424242"})
    alice_client.post(f"/orders/{order.pk}/return/")
    order.refresh_from_db()
    assert order.status == Order.Status.RETURNED


def test_orders_are_private(alice_client: Client) -> None:
    add(alice_client, "KETTLE-GOOSENECK")
    alice_client.post("/orders/checkout/")
    order = Order.objects.get()
    bob = Client()
    assert bob.login(username="bob", password="bob-demo-pass")
    assert bob.get(f"/orders/{order.pk}/").status_code == 404
    assert bob.post(f"/orders/{order.pk}/cancel/").status_code == 404
