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
says so). Free items (``TALON["ADD_FREE_ITEMS"]``) are lines sent at price 0; their whole
Oscar price is taken off too.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal
from typing import Any

from oscar.core.loading import get_classes

from django_talon import services
from django_talon.contrib.oscar.conf import oscar_settings
from django_talon.contrib.oscar.free_items import free_value, is_free_line
from django_talon.contrib.oscar.pricing import charges_incl_tax, line_price, line_sku

logger = logging.getLogger("django_talon.contrib.oscar")

BasketDiscount, ZERO_DISCOUNT = get_classes("offer.results", ["BasketDiscount", "ZERO_DISCOUNT"])

CENT = Decimal("0.01")
#: Attribute of a basket: the quote its Talon.One offer applied (read by the partials).
APPLIED_QUOTE = "_talon_applied_quote"


def talon_lines(basket: Any) -> list[Any]:
    """The basket lines that are sent to Talon.One, in the order they are sent: quantity at
    least 1 and a known price (the adapter and the charge use this one list)."""
    return [
        line
        for line in basket.all_lines()
        if line.quantity >= 1 and line_price(line, oscar_settings().incl_tax) is not None
    ]


def _matches(quote: Any, lines: Sequence[Any]) -> bool:
    """The quote was computed for these lines (same skus and quantities, same order)."""
    if len(quote.lines) != len(lines):
        return False
    return all(
        q.sku == line_sku(line) and q.quantity == line.quantity
        for q, line in zip(quote.lines, lines, strict=True)
    )


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


def line_discounts(quote: Any, lines: Sequence[Any]) -> list[Decimal]:
    """What each line is charged off: its own Talon.One discounts plus its share of the
    cart-level discounts; they add up to ``quote.discount_total``."""
    own = [q.discount for q in quote.lines]
    rooms = [q.subtotal - q.discount for q in quote.lines]
    shares = split_cart_discount(quote.cart_discount_applied, rooms)
    return [a + b for a, b in zip(own, shares, strict=True)]


def apply_quote(basket: Any, offer: Any) -> Any:
    """Apply the basket's quote to its lines as ``offer``'s discount (the benefit's ``apply``).

    Returns Oscar's ``BasketDiscount`` of the total charged off, or ``ZERO_DISCOUNT`` (no
    discounts, an unsaved basket, or the offer already applied to this basket: Oscar's
    applicator calls a benefit again until it answers zero).
    """
    conf = oscar_settings()
    offer.exclusive = conf.oscar_offers_off  # the setting decides, whatever the row says
    lines = talon_lines(basket)
    if not basket.id or not lines or any(line.discounts.num_consumed(offer) for line in lines):
        return ZERO_DISCOUNT
    if conf.oscar_offers_off:
        for line in basket.all_lines():
            line.consume(line.quantity, offer=offer)
    quote = services.quote_for_cart(basket)
    setattr(basket, APPLIED_QUOTE, quote)  # the partials show what was charged, not a later read
    if not quote.discount_total and not any(is_free_line(line) for line in lines):
        return ZERO_DISCOUNT
    if not _matches(quote, lines):
        logger.warning(
            "basket %s: the Talon.One quote (session %s) is for other lines than the basket "
            "has; no Talon.One discount is charged",
            basket.id,
            quote.session_id,
        )
        return ZERO_DISCOUNT
    amounts = line_discounts(quote, lines)
    for index, line in enumerate(lines):
        if is_free_line(line):  # sent at price 0: its whole price comes off in Oscar too
            amounts[index] += free_value(line, line_price(line, conf.incl_tax) or Decimal(0))
    charged = Decimal("0.00")
    for line, amount in zip(lines, amounts, strict=True):
        if amount > 0:
            incl_tax = charges_incl_tax(line, conf.incl_tax)  # as its price was sent
            line.discount(amount, line.quantity, incl_tax=incl_tax, offer=offer)
            charged += amount
    if not charged:
        return ZERO_DISCOUNT
    return BasketDiscount(charged)
