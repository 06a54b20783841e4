"""Talon.One's discounts charged by Oscar: the quote of a basket applied to its lines.

:class:`~django_talon.contrib.oscar.models.TalonBenefit` calls :func:`apply_quote` when
Oscar's offer applicator applies the Talon.One offer (every request, in ``BasketMiddleware``,
and again in the checkout). Each line gets the discounts Talon.One put on it and a share of
the cart-level discounts (proportional to the line's total after its own discounts, cents
handed out so the shares add up exactly), in the tax mode of ``TALON_OSCAR["TAX_MODE"]``
(a line whose tax Oscar does not know yet excluding tax, as its price was sent).
Oscar then computes ``basket.total_incl_tax`` / ``total_excl_tax``, the order total and the
``OrderDiscount`` rows itself, and they equal the quote's ``total`` / ``discount_total``.

The quote is ``django_talon.services.quote_for_cart(basket)`` (the mirror: no API call). It
carries discounts only when Talon.One confirmed them for the cart as it is now, so what the
basket shows is what the order is charged, and nothing while Talon.One is down.

With ``TALON_OSCAR["OSCAR_OFFERS"] == "off"`` (the default) the offer is exclusive and
consumes every line, so Oscar's own offers never apply next to it; with ``"coexist"`` it
consumes only the lines it discounts and Oscar's offers may add their own discounts (then
the order total is the quote's minus Oscar's discounts: the check ``django_talon_oscar.W002``
says so). Free items (``TALON["ADD_FREE_ITEMS"]``): the granted units are sent at price 0
and their whole Oscar price is taken off too; units the shopper added to a free line are
sent and charged at their price (:mod:`django_talon.contrib.oscar.items`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db import transaction
from oscar.core.loading import get_classes

from django_talon import services
from django_talon.contrib.oscar.conf import oscar_settings
from django_talon.contrib.oscar.items import SentItem, sent_items
from django_talon.contrib.oscar.pricing import charges_incl_tax, exact_line_price
from django_talon.services.problems import record_problem, subject_of

logger = logging.getLogger("django_talon.contrib.oscar")

BasketDiscount, ZERO_DISCOUNT = get_classes("offer.results", ["BasketDiscount", "ZERO_DISCOUNT"])

CENT = Decimal("0.01")
#: Attribute of a basket: the quote its Talon.One offer applied (read by the partials).
APPLIED_QUOTE = "_talon_applied_quote"


def _mismatch(quote: Any, items: Sequence[SentItem]) -> str:
    """Why the quote was not computed for these items as they are sent now (same skus,
    quantities and unit prices, same order); empty when it was."""
    if len(quote.lines) != len(items):
        return f"{len(quote.lines)} quoted lines for {len(items)} basket items"
    for q, item in zip(quote.lines, items, strict=True):
        if q.sku != item.sku or q.quantity != item.quantity:
            return f"{q.quantity} x {q.sku} quoted, {item.quantity} x {item.sku} in the basket"
        if q.unit_price != item.price:
            return f"{item.sku} quoted at {q.unit_price}, priced {item.price} now"
    return ""


def _refresh(basket: Any, quote: Any, why: str) -> Any:
    """The quote is for another basket than this one (a price changed in the dashboard, or
    this request's own change is not confirmed yet): mirror the basket again and read the
    quote again.

    ``services.update_cart`` writes nothing when the mirror already is the basket (this
    request's own change, mirrored by the line's receiver); otherwise it queues the update,
    sent right after commit (at once outside a transaction), so the next request is
    charged Talon.One's confirmed answer. It reads fresh line objects, never this basket's
    (Oscar is applying offers to them), and no receiver applies offers, so it cannot
    recurse into this offer. A failure is rolled back to a savepoint, logged and recorded
    as the cart's ``SyncProblem``: the basket page is charged no Talon.One discount, never
    an error.
    """
    logger.warning(
        "basket %s: the Talon.One quote (session %s) is not for the basket as it is now "
        "(%s): no Talon.One discount is charged until Talon.One has priced it; the "
        "basket's session is updated",
        basket.id,
        quote.session_id or "none",
        why,
    )
    in_transaction = transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic() if in_transaction else contextlib.nullcontext():
            services.update_cart(basket)
    except Exception as exc:
        logger.exception("basket %s: updating its Talon.One session failed", basket.id)
        record_problem("cart", subject_of(basket), exc)
        return quote
    return services.quote_for_cart(basket)


def split_cart_discount(amount: Decimal, rooms: Sequence[Decimal]) -> list[Decimal]:
    """Split ``amount`` over lines with ``rooms`` left (their totals after item discounts):
    proportional shares rounded down to the cent, the cents left over given to the lines
    in order while they have room. The shares add up to ``min(amount, sum(rooms))``."""
    total_room = sum(rooms, Decimal(0))
    amount = min(amount, total_room)
    if amount <= 0 or total_room <= 0:
        return [Decimal("0.00") for _ in rooms]
    shares = [(amount * room / total_room).quantize(CENT, rounding=ROUND_DOWN) for room in rooms]
    left = amount - sum(shares, Decimal(0))
    for index, room in enumerate(rooms):
        if left <= 0:
            break
        extra = min(left, room - shares[index])
        shares[index] += extra
        left -= extra
    return shares


def line_discounts(quote: Any) -> list[Decimal]:
    """What each quoted line (one per sent item) is charged off: its own Talon.One
    discounts plus its share of the cart-level discounts taken off the items; they add up
    to ``quote.discount_total`` (a cart discount's part off additional costs, scope
    ``additionalCosts``/``sessionTotal``, is not a line's: the basket sends no additional
    costs, so it is 0 here)."""
    own = [q.discount for q in quote.lines]
    rooms = [q.subtotal - q.discount for q in quote.lines]
    shares = split_cart_discount(quote.cart_discount_on_items, rooms)
    return [a + b for a, b in zip(own, shares, strict=True)]


def settle(amounts: Sequence[Decimal], rooms: Sequence[Decimal]) -> tuple[list[Decimal], Decimal]:
    """``amounts`` made chargeable: each within ``0..room`` (a discount never raises a price
    nor goes past it), what that clamps away moved to the other lines while they have room.
    Returns the amounts and what could not be placed (0 when they add up as asked)."""
    settled = [
        min(max(amount, Decimal(0)), room) for amount, room in zip(amounts, rooms, strict=True)
    ]
    left = sum(amounts, Decimal(0)) - sum(settled, Decimal(0))
    for index, room in enumerate(rooms):
        if left > 0:
            extra = min(left, room - settled[index])
            settled[index] += extra
            left -= extra
        elif left < 0:
            back = min(-left, settled[index])
            settled[index] -= back
            left += back
    return settled, left


def _line_amounts(
    basket: Any, lines: Sequence[Any], items: Sequence[SentItem], quote: Any, incl_tax: bool
) -> list[Decimal]:
    """What each Oscar line is charged off so that its total *is* the quote's for it.

    The quote prices the items as sent: unit prices rounded to the cent, free units at 0.
    Oscar's line total is its strategy's unrounded unit price (20% VAT on 7.33 is 8.796) x
    quantity, so a line is charged off its Oscar total minus the quote's total for its
    items: Talon.One's discounts on them, the free units' whole price, and the rounding
    difference (a fraction of a cent per unit, either way). The basket total then equals
    the quote's to the cent; only when Oscar's prices are below the quote's by more than
    Talon.One's discounts can absorb (:func:`settle` leaves a rest) does it differ, which
    is logged.
    """
    quoted: dict[int, Decimal] = {id(line): Decimal(0) for line in lines}
    for item, q, amount in zip(items, quote.lines, line_discounts(quote), strict=True):
        quoted[id(item.line)] += q.subtotal - amount
    rooms = [exact_line_price(line, incl_tax) for line in lines]
    wanted = [room - quoted[id(line)] for line, room in zip(lines, rooms, strict=True)]
    amounts, left = settle(wanted, rooms)
    if left:
        logger.warning(
            "basket %s: Oscar's line prices are %s below Talon.One's quote (unit prices "
            "rounded to the cent) and its discounts cannot absorb it: the basket total "
            "differs from the quote's by that much",
            basket.id,
            -left,
        )
    return amounts


def apply_quote(basket: Any, offer: Any) -> Any:
    """Apply the basket's quote to its lines as ``offer``'s discount (the benefit's ``apply``).

    Returns Oscar's ``BasketDiscount`` of the total charged off, or ``ZERO_DISCOUNT`` (no
    discounts, an unsaved basket, a quote for other lines or prices than the basket's now,
    or the offer already applied to this basket: Oscar's applicator calls a benefit again
    until it answers zero).
    """
    conf = oscar_settings()
    offer.exclusive = conf.oscar_offers_off  # the setting decides, whatever the row says
    items = sent_items(basket, basket.all_lines(), conf.incl_tax)
    lines = list({id(item.line): item.line for item in items}.values())
    if not basket.id or not items or any(line.discounts.num_consumed(offer) for line in lines):
        return ZERO_DISCOUNT
    if conf.oscar_offers_off:
        for line in basket.all_lines():
            line.consume(line.quantity, offer=offer)
    quote = services.quote_for_cart(basket)
    why = _mismatch(quote, items)
    if why:
        quote = _refresh(basket, quote, why)
        why = _mismatch(quote, items)
    setattr(basket, APPLIED_QUOTE, quote)  # the partials show what was charged, not a later read
    if why or (not quote.discount_total and not any(item.free for item in items)):
        return ZERO_DISCOUNT
    amounts = _line_amounts(basket, lines, items, quote, conf.incl_tax)
    charged = Decimal("0.00")
    for line, amount in zip(lines, amounts, strict=True):
        if amount > 0:
            incl_tax = charges_incl_tax(line, conf.incl_tax)  # as its price was sent
            line.discount(amount, line.quantity, incl_tax=incl_tax, offer=offer)
            charged += amount
    if not charged:
        return ZERO_DISCOUNT
    return BasketDiscount(charged)
