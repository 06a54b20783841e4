"""Placing an order from a cart and moving it through its states."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from django_talon import services as talon
from example_project.cart.models import Cart, CartItem
from example_project.orders.models import Order, OrderLine
from example_project.orders.pricing import Quote

logger = logging.getLogger(__name__)


def return_order(order: Order) -> None:
    """The customer sent back everything not returned yet: the order becomes ``returned``
    and Talon.One is told which cart items came back (it adjusts redemptions and loyalty
    points). Units returned before (staff returned one through ``services.return_items``)
    are not sent again: Talon.One would refuse them, and so does ``return_items``.

    Raises ``ValueError`` (``services.SessionStateError`` among them) when the return
    cannot be made; the transaction rolls back and the order stays as it was.
    """
    with transaction.atomic():
        order.transition(Order.Status.RETURNED)
        session = talon.session_for_order(order)
        if session is None:
            logger.warning("order %s has no Talon.One session: nothing to return", order.pk)
            return
        # Positions are those of the cart items sent to Talon.One: the order's first lines
        # are the cart's, in cart order (a free gift added to the cart included, at its own
        # position); gifts the order added at placement come after them and were never sent.
        # A gift is kept (it was never bought), so only bought lines go back.
        sent = list(order.lines.order_by("pk"))[: len(session.cart_items or [])]
        # Only what is left: units returned before (one by staff) are not sent again.
        left = talon.returnable_quantities(session)
        items = []
        for index, line in enumerate(sent):
            quantity = min(line.quantity, left[index]) if index < len(left) else 0
            if not line.free_item and quantity > 0:
                items.append({"position": index, "quantity": quantity})
        if not items:
            logger.info("order %s: every unit was returned before, nothing to send", order.pk)
            return
        talon.return_items(session, items)


class CheckoutError(Exception):
    """The cart cannot become an order (empty, already ordered, ...)."""


def pay_order(order: Order) -> Order:
    """Take the payment and mark the order paid, in one transaction with the Talon.One close.

    The paid save is what closes the Talon.One session (the shop's adapter maps paid ->
    closed). With ``TALON["ORDER_PLACEMENT"] = "fail_closed"`` django-talon confirms the close
    with Talon.One inside this transaction and raises
    :class:`~django_talon.exceptions.OrderRefused` when it cannot: the transaction rolls
    back and the order stays ``placed``, unpaid (a real payment would be captured only after
    this commits, or voided on the refusal). Fail-open just queues the close. Raises
    :class:`CheckoutError` when the order can no longer be paid (paid in another tab, ...).
    """
    with transaction.atomic():
        locked: Order = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != Order.Status.PLACED:
            raise CheckoutError(f"Order {locked.pk} is {locked.status}: it cannot be paid.")
        locked.transition(Order.Status.PAID)  # the receiver closes the session (or refuses)
    return locked


def cancel_order(order: Order) -> Order:
    """Cancel the order in one transaction with the Talon.One cancel (fail-closed confirms
    it inside, like :func:`pay_order`; a refusal leaves the order as it was)."""
    with transaction.atomic():
        locked: Order = Order.objects.select_for_update().get(pk=order.pk)
        locked.transition(Order.Status.CANCELLED)
    return locked


def _quoted(lines: list[CartItem], quote: Quote) -> bool:
    """True when ``quote`` prices exactly these cart lines (same items, quantities, prices)."""
    shop = [(i.product.sku, i.quantity, i.unit_price) for i in lines]
    quoted = [(line.sku, line.quantity, line.unit_price) for line in quote.lines]
    return shop == quoted


def place_order(user: AbstractBaseUser, cart: Cart, quote: Quote) -> Order:
    """Freeze the cart into an order charged exactly what the quote says (what checkout
    showed: ``services.quote_for_cart``) and record that quote on the order."""
    with transaction.atomic():
        locked = Cart.objects.select_for_update().get(pk=cart.pk)
        if not locked.is_open:
            raise CheckoutError("This cart has already been ordered.")
        lines = locked.lines()
        if not lines:
            raise CheckoutError("Your cart is empty.")
        mirrored = bool(quote.session_id)  # False: django-talon is not wired to this cart
        if mirrored and not _quoted(lines, quote):
            raise CheckoutError("Your cart changed while you were checking out; please review it.")
        subtotal = sum((item.line_total for item in lines), Decimal("0.00"))
        shipping = quote.additional_cost_total if mirrored else locked.shipping_fee
        order: Order = Order.objects.create(
            user=user,
            cart=locked,
            currency=quote.currency,
            subtotal=quote.subtotal if mirrored else subtotal,
            discount_total=quote.discount_total,
            total=quote.total if mirrored else subtotal + shipping,
            shipping=shipping,
            coupon_codes=list(quote.coupon_codes),
            loyalty_points=quote.points_to_earn,
        )
        discounts = {line.position: line.discount for line in quote.lines}
        OrderLine.objects.bulk_create(
            [
                OrderLine(
                    order=order,
                    sku=item.product.sku,
                    name=item.product.name,
                    category=item.product.category.slug,
                    unit_price=item.unit_price,
                    quantity=item.quantity,
                    discount=discounts.get(position, Decimal("0.00")),
                    free_item=item.free,
                )
                for position, item in enumerate(lines)
            ]
            + [
                OrderLine(
                    order=order,
                    sku=free.sku,
                    name=free.name or free.sku,
                    unit_price=0,
                    quantity=free.desired_quantity,
                    free_item=True,
                )
                for free in quote.free_items
                if not free.in_cart  # a gift already in the cart is one of its lines
            ]
        )
        # The order ledger: what this order was charged, per line and campaign; the close
        # sends exactly that to Talon.One (no coupon redeemed that the customer did not get).
        if mirrored:
            talon.record_order(order, quote)
        locked.status = Cart.Status.ORDERED
        locked.save(update_fields=["status", "updated_at"])
    return order
