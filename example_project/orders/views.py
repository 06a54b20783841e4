"""Checkout, the simulated payment step, and the customer's orders."""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from django_talon.exceptions import OrderRefused
from example_project.cart.services import get_cart
from example_project.orders.forms import PaymentForm
from example_project.orders.models import Order
from example_project.orders.pricing import order_totals, price_cart
from example_project.orders.services import (
    CheckoutError,
    cancel_order,
    pay_order,
    place_order,
    return_order,
)

logger = logging.getLogger(__name__)


@login_required
def checkout(request: HttpRequest) -> HttpResponse:
    """Show the cart's quote and, on POST, place the order charged exactly that quote.

    The form carries the total the customer was shown; when the quote changed meanwhile
    (Talon.One's answer arrived, a code expired), the new quote is shown instead of charging
    a total the customer never saw.
    """
    cart = get_cart(request)
    if cart is None or not cart.items.exists():
        messages.info(request, "Your cart is empty.")
        return redirect("cart:detail")
    quote = price_cart(request, cart)
    shown = request.POST.get("quoted_total") if request.method == "POST" else None
    if shown is not None and _amount(shown) != quote.total:
        messages.warning(
            request, f"Your total is now {quote.total} {quote.currency}. Please check it."
        )
    elif request.method == "POST":
        try:
            order = place_order(request.user, cart, quote)  # type: ignore[arg-type]
        except CheckoutError as exc:
            messages.error(request, str(exc))
            return redirect("cart:detail")
        return redirect("orders:pay", order.pk)
    return render(request, "orders/checkout.html", {"cart": cart, "quote": quote})


def _amount(text: str) -> Decimal | None:
    """The total the checkout form carried, as a number (``1068.000`` equals ``1068``); None
    for anything that is not a finite number, which then never matches the quote, so the
    customer is shown the current total instead of being charged one they did not see."""
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _own_order(request: HttpRequest, pk: int) -> Order:
    return get_object_or_404(Order, pk=pk, user_id=request.user.pk)


@login_required
def pay(request: HttpRequest, pk: int) -> HttpResponse:
    order = _own_order(request, pk)
    if order.status != Order.Status.PLACED:
        return redirect(order)
    form = PaymentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.declined:
            messages.error(request, "The payment was declined. Try another card.")
        else:
            try:
                order = pay_order(order)
            except OrderRefused as exc:
                return _not_placed(request, order, exc, "placed")
            except CheckoutError as exc:
                messages.error(request, str(exc))
                return redirect(order)
            messages.success(request, f"Thank you! Order {order.pk} is paid.")
            return redirect(order)
    return render(request, "orders/pay.html", {"order": order, "form": form})


def _not_placed(request: HttpRequest, order: Order, exc: OrderRefused, action: str) -> HttpResponse:
    """Talon.One could not confirm the change (fail-closed): the transaction rolled back,
    nothing was charged or changed. 503: the refusal is temporary, try again."""
    order.refresh_from_db()
    context = {"order": order, "action": action, "message": str(exc)}
    return render(request, "orders/not_placed.html", context, status=503)


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    orders = Order.objects.filter(user_id=request.user.pk)
    return render(request, "orders/order_list.html", {"orders": orders})


@login_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = _own_order(request, pk)
    return render(
        request,
        "orders/order_detail.html",
        {"order": order, "lines": order.lines.all(), "totals": order_totals(order)},
    )


@require_POST
@login_required
def order_change(request: HttpRequest, pk: int, status: str) -> HttpResponse:
    """Cancel or return an order (the customer's buttons on the order page)."""
    order = _own_order(request, pk)
    if not order.can_become(status):
        messages.error(request, f"An order that is {order.status} cannot be {status}.")
    else:
        try:
            if status == Order.Status.RETURNED:
                return_order(order)
            else:
                cancel_order(order)
        except OrderRefused as exc:
            return _not_placed(request, order, exc, str(status))
        except ValueError as exc:
            # Refused before anything was saved or queued (the transaction rolled back): the
            # Talon.One session cannot take this change (services.SessionStateError), or
            # the order changed meanwhile (another tab). The detail is for the logs.
            logger.warning("order %s could not become %s: %s", order.pk, status, exc)
            messages.error(request, f"Order {order.pk} could not be {status}. Please contact us.")
            return redirect(order)
        messages.success(request, f"Order {order.pk} is {status}.")
    return redirect(order)
