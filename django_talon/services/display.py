"""The promotions summary of a stored session or of the current request's cart.

The summary a page or the REST API shows is the view of the cart's quote
(:func:`django_talon.services.quotes.quote_for_cart`), not a second computation: it is
built from exactly the effects the quote carries and its totals are the quote's, so what
is shown is what the shop charges. These read the mirror through the service layer
(``get_promotions``: staleness, outbox state) and hand the answer to the pure display layer
(:mod:`django_talon.promotions`). They live here, not in ``promotions``, so that the
dependency goes one way: services, template tags, views and the REST API import
promotions; promotions imports no services. No API call is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django_talon.promotions import PromotionsSummary, summarize
from django_talon.promotions.quote import Quote
from django_talon.services.quotes import quote_for_cart
from django_talon.services.stored import get_promotions

if TYPE_CHECKING:
    from django.http import HttpRequest

    from django_talon.models import CustomerSession

__all__ = ["quote_view", "summarize_answer", "summarize_request", "summarize_session"]


def quote_view(quote: Quote) -> PromotionsSummary:
    """The summary ``quote`` was built from (its totals are the quote's)."""
    if quote.summary is None:  # a Quote made by hand: a summary of its lines only
        summary = summarize([], [], quote.currency)
        summary.quote = quote
        return summary
    return quote.summary


def summarize_session(session: CustomerSession | None) -> PromotionsSummary:
    """The summary for a stored ``CustomerSession`` (``None`` gives an empty cart summary)."""
    return quote_view(quote_for_cart(session))


def summarize_request(request: HttpRequest) -> PromotionsSummary:
    """The summary for the current visitor's cart (one or two queries, no API call)."""
    return quote_view(quote_for_cart(request=request))


def summarize_answer(session: CustomerSession) -> PromotionsSummary:
    """The summary of the last answer *as stored*, for staff (the admin): unlike the
    shopper's view it still shows an older cart's discounts while a newer state waits in
    the outbox (``in_sync`` is then False). Never charge from it."""
    stored = get_promotions(session)
    summary = summarize(
        stored.effects_raw,
        stored.cart_items,
        stored.currency,
        coupon_codes=stored.coupon_codes,
        referral_code=stored.referral_code,
        additional_costs=stored.session.additional_costs if stored.session else None,
    )
    summary.received_at, summary.stale, summary.in_sync = (
        stored.received_at,
        stored.stale,
        stored.in_sync,
    )
    return summary
