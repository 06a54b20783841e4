"""A cart stored in the database, for guests (by Django session key) and signed-in users.

Each cart is one Talon.One customer session: its id is stable for the cart's whole life,
so every change re-evaluates the same session. When a cart becomes an order it is marked
``ordered`` and never changes again; the customer gets a fresh cart (and so a fresh
Talon.One session) for the next purchase.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from example_project.catalog.models import Product


class Cart(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        ORDERED = "ordered"
        MERGED = "merged"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="carts",
    )
    session_key = models.CharField(max_length=40, blank=True, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        owner = self.user.get_username() if self.user else f"guest {self.session_key[:6]}"
        return f"cart {self.pk} ({owner}, {self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    def lines(self) -> list[CartItem]:
        return list(self.items.select_related("product__category").order_by("pk"))

    @property
    def item_count(self) -> int:
        return sum(item.quantity for item in self.items.all())

    @property
    def subtotal(self) -> Decimal:
        return sum((item.line_total for item in self.items.all()), Decimal("0.00"))


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="cart_item_unique_product")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product.sku}"

    @property
    def line_total(self) -> Decimal:
        return self.product.price * self.quantity
