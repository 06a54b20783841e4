"""The cart page and the forms that change it.

Every change goes through ``cart.services``, which saves the cart; django-talon's
receivers pick that save up and re-evaluate the customer session, so the next page
render already shows the new discounts (rendering itself never calls Talon.One).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from django_talon import services as talon
from example_project.cart import services
from example_project.cart.forms import AddToCartForm, QuantityForm
from example_project.catalog.models import Product


def cart_detail(request: HttpRequest) -> HttpResponse:
    cart = services.get_cart(request)
    context: dict[str, object] = {"cart": cart, "lines": []}
    if cart is not None:
        # django-talon's quote for this cart (its mirror, no API call): the tags show it and
        # checkout charges it, so the total on this page is the total the order gets.
        quote = talon.quote_for_cart(cart, request=request)
        context.update(lines=cart.lines(), quote=quote, promotions=quote.summary)
    context["shipping_fee"] = getattr(settings, "SHOP_SHIPPING_FEE", "4.90")
    return render(request, "cart/cart_detail.html", context)


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    form = AddToCartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Could not add that to the cart.")
        return redirect("catalog:list")
    product = get_object_or_404(Product, sku=form.cleaned_data["sku"], active=True)
    cart = services.get_cart(request, create=True)
    assert cart is not None
    services.add_product(cart, product, form.cleaned_data["quantity"])
    messages.success(request, f"Added {product.name} to your cart.")
    return redirect("cart:detail")


@require_POST
def cart_update(request: HttpRequest) -> HttpResponse:
    form = QuantityForm(request.POST)
    cart = services.get_cart(request)
    if cart is None or not form.is_valid():
        messages.error(request, "Could not update the cart.")
        return redirect("cart:detail")
    product = get_object_or_404(Product, sku=form.cleaned_data["sku"])
    services.set_quantity(cart, product, form.cleaned_data["quantity"])
    return redirect("cart:detail")


@require_POST
def cart_delivery(request: HttpRequest) -> HttpResponse:
    """Choose how the order is delivered (standard delivery is the shipping cost)."""
    cart = services.get_cart(request)
    if cart is None:
        return redirect("cart:detail")
    try:
        services.set_delivery(cart, str(request.POST.get("delivery", "")))
    except ValueError:
        messages.error(request, "Please choose a delivery option.")
    return redirect("cart:detail")
