"""Test-only models: a basket, its lines (``Line.basket``) and orders (``Order.basket``, a
one-to-one field), inert unless a test lists them in ``TALON["CART_MODELS"]`` and co."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Basket(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="baskets",
        on_delete=models.SET_NULL,
    )
    status = models.CharField(max_length=20, default="open")

    def __str__(self) -> str:
        return f"basket {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == "open"


class Line(models.Model):
    # related_name "items": the default cart_items reads cart.items.
    basket = models.ForeignKey(Basket, related_name="items", on_delete=models.CASCADE)
    sku = models.CharField(max_length=50)
    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class Order(models.Model):
    basket = models.OneToOneField(
        Basket, null=True, blank=True, related_name="order", on_delete=models.SET_NULL
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="basket_orders",
        on_delete=models.SET_NULL,
    )
    status = models.CharField(max_length=20, default="pending")

    def __str__(self) -> str:
        return f"order {self.pk} ({self.status})"


class Exchange(models.Model):
    """Two foreign keys to a basket: which one is *the* cart only the adapter can say."""

    basket = models.ForeignKey(Basket, related_name="+", on_delete=models.CASCADE)
    replacement = models.ForeignKey(Basket, related_name="+", on_delete=models.CASCADE)
    sku = models.CharField(max_length=50)

    def __str__(self) -> str:
        return f"{self.sku}: basket {self.basket_id} -> {self.replacement_id}"


class Crate(models.Model):
    """A cart whose lines are ``crate.lines`` (not ``items``) and whose owner is ``shopper``
    (not ``user``): the default ``cart_items`` follows the line's foreign key, and W005 warns
    while ``cart_user`` is the default one."""

    shopper = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="crates",
        on_delete=models.SET_NULL,
    )

    def __str__(self) -> str:
        return f"crate {self.pk}"


class CrateLine(models.Model):
    crate = models.ForeignKey(Crate, related_name="lines", on_delete=models.CASCADE)
    sku = models.CharField(max_length=50)
    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class SessionOrder(models.Model):
    """An order of a cart kept in the visitor's session (no cart model to point at): it
    records its Talon.One session in ``talon_session_id``, which the default
    ``order_session_id`` reads (docs/integrating.md, Carts that are not models)."""

    talon_session_id = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=20, default="pending")

    def __str__(self) -> str:
        return f"order {self.pk} ({self.status})"


class Checkout(models.Model):
    """A cart keyed by a UUID token (as Saleor's checkouts are), its lines
    ``checkout.lines`` and its order ``CheckoutOrder.checkout``."""

    token = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="checkouts",
        on_delete=models.SET_NULL,
    )

    def __str__(self) -> str:
        return f"checkout {self.token}"


class CheckoutLine(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    checkout = models.ForeignKey(Checkout, related_name="lines", on_delete=models.CASCADE)
    sku = models.CharField(max_length=50)
    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class CheckoutOrder(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    checkout = models.ForeignKey(
        Checkout, null=True, blank=True, related_name="orders", on_delete=models.SET_NULL
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="checkout_orders",
        on_delete=models.SET_NULL,
    )
    status = models.CharField(max_length=20, default="pending")

    def __str__(self) -> str:
        return f"order {self.pk} ({self.status})"
