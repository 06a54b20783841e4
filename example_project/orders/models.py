"""Orders and their lifecycle: placed -> paid, and cancelled or returned.

An order is made from one cart and keeps a link to it, because the cart *is* the
Talon.One customer session: the order's state is what closes (paid) or cancels that
session. Prices, discounts and free items are copied onto the order lines when it is
placed, so later catalog or campaign changes never rewrite history.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse

from example_project.cart.models import Cart


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed"
        PAID = "paid"
        CANCELLED = "cancelled"
        RETURNED = "returned"

    #: Which status may follow which; anything else is refused by ``transition``.
    TRANSITIONS: dict[str, tuple[str, ...]] = {
        Status.PLACED: (Status.PAID, Status.CANCELLED),
        Status.PAID: (Status.CANCELLED, Status.RETURNED),
        Status.CANCELLED: (),
        Status.RETURNED: (),
    }

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    cart = models.OneToOneField(Cart, on_delete=models.PROTECT, related_name="order")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLACED)
    currency = models.CharField(max_length=3, default="EUR")
    subtotal = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    discount_total = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    total = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    #: Delivery as charged: the quote's additional costs after their discounts.
    shipping = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    coupon_codes = models.JSONField(default=list, blank=True)
    loyalty_points = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"order {self.pk} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("orders:detail", args=[self.pk])

    def can_become(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, ())

    def transition(self, status: str) -> None:
        """Move to ``status`` and save; the save is what django-talon listens to."""
        if not self.can_become(status):
            raise ValueError(f"an order that is {self.status} cannot become {status}")
        self.status = status
        self.save(update_fields=["status", "updated_at"])


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=50, blank=True)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()
    discount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    free_item = models.BooleanField(default=False, help_text="Added by a promotion, at no cost.")

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity - self.discount
