"""``{% load talon_oscar %}``: the quote of an Oscar basket for the basket and checkout
partials. Reads the mirror (one or two queries), never calls the API."""

from __future__ import annotations

from typing import Any

from django import template

from django_talon import services
from django_talon.contrib.oscar.charging import APPLIED_QUOTE
from django_talon.contrib.oscar.offers import NOT_APPLIED, talon_offer_applies
from django_talon.promotions.quote import Quote

register = template.Library()


@register.simple_tag
def talon_oscar_quote(basket: Any) -> Quote | None:
    """``{% talon_oscar_quote basket as quote %}``: the basket's quote, None for a basket
    without a row yet (nothing was added: nothing to show).

    The quote the Talon.One offer charged when Oscar applied offers to this basket object:
    a later read could already hold a newer answer (the request's own changes are sent on
    commit) and the page would show discounts its totals do not have.
    """
    if basket is None or getattr(basket, "pk", None) is None:
        return None
    applied: Quote | None = getattr(basket, APPLIED_QUOTE, None)
    if applied is not None:
        return applied
    quote = services.quote_for_cart(basket)
    if quote.discount_total and not talon_offer_applies():
        return services.uncharged_quote(quote, NOT_APPLIED)  # Oscar charges none of them
    return quote
