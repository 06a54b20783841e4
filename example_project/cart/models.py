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

    class Delivery(models.TextChoices):
        PICKUP = "pickup", "Collect in store (free)"
        STANDARD = "standard", "Standard delivery"

    session_key = models.CharField(max_length=40, blank=True, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    #: How the order reaches the customer: standard delivery costs SHOP_SHIPPING_FEE, sent to
    #: Talon.One as the "shipping" additional cost (the demo's "Free shipping over 50").
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.PICKUP)
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

    @property
    def shipping_fee(self) -> Decimal:
        """What delivery costs before promotions (0 to collect in store or for an empty cart)."""
        from django.conf import settings as django_settings

        if self.delivery != "standard" or not self.items.exists():
            return Decimal("0.00")
        return Decimal(str(getattr(django_settings, "SHOP_SHIPPING_FEE", "4.90")))


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField(default=1)
    #: A free gift a promotion put here (django-talon's ``add_free_item``): priced 0.
    free = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="cart_item_unique_product")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product.sku}"

    @property
    def unit_price(self) -> Decimal:
        return Decimal("0.00") if self.free else self.product.price

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity
