"""Catalog pages: products by category, and one product."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from example_project.catalog.models import Category, Product


def product_list(request: HttpRequest) -> HttpResponse:
    products = Product.objects.filter(active=True).select_related("category")
    category = None
    slug = request.GET.get("category")
    if slug:
        category = get_object_or_404(Category, slug=slug)
        products = products.filter(category=category)
    return render(
        request,
        "catalog/product_list.html",
        {"products": products, "categories": Category.objects.all(), "category": category},
    )


def product_detail(request: HttpRequest, sku: str) -> HttpResponse:
    product = get_object_or_404(Product.objects.select_related("category"), sku=sku, active=True)
    return render(request, "catalog/product_detail.html", {"product": product})
