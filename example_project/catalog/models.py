"""The catalog: products grouped in categories.

The SKU and the category slug are what Talon.One rules match on (e.g. the demo's
"Coffee 1 off each" campaign targets the category ``coffee``), so both are stable,
human-readable identifiers rather than database ids.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.urls import reverse


class Category(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    price = models.DecimalField(max_digits=10, decimal_places=2)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category__name", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"

    def get_absolute_url(self) -> str:
        return reverse("catalog:detail", args=[self.sku])

    @property
    def price_decimal(self) -> Decimal:
        return Decimal(self.price)
