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

import dataclasses
from typing import TYPE_CHECKING

from django_talon.models import OutboxMessage
from django_talon.promotions import PromotionsSummary, summarize
from django_talon.promotions.quote import Quote
from django_talon.services.handlers import session_key
from django_talon.services.quotes import quote_for_cart, quote_for_stored
from django_talon.services.stored import get_promotions

if TYPE_CHECKING:
    from django.http import HttpRequest

    from django_talon.models import CustomerSession
    from django_talon.promotions.codes import CodeResult

__all__ = [
    "quote_view",
    "refused_update",
    "summarize_answer",
    "summarize_request",
    "summarize_session",
]


def quote_view(quote: Quote) -> PromotionsSummary:
    """The summary ``quote`` was built from (its totals are the quote's)."""
    if quote.summary is None:  # a Quote made by hand: a summary of its lines only
        summary = summarize([], [], quote.currency)
        summary.quote = quote
        return summary
    return quote.summary


def refused_update(session: CustomerSession | None) -> int | None:
    """The dead outbox row of the session's current state (Talon.One refused it for good),
    or None.

    Why: a code whose update Talon.One refused (a 400/404 is permanent: dead at the first
    attempt) has no answer and never gets one until the cart changes, so "pending" (202,
    "the outbox delivers it later") would be a promise nobody keeps. The row counts when it
    is the newest of the session's key and carries the local state (``fingerprint``). No
    query unless the last delivery failed and the local state is unanswered.
    """
    if (
        session is None
        or not session.last_error
        or session.fingerprint == session.pushed_fingerprint
    ):
        return None
    newest = (
        OutboxMessage.objects.filter(key=session_key(session.integration_id))
        .order_by("-id")
        .values_list("pk", "state", "fingerprint")
        .first()
    )
    if newest is None or newest[1:] != (OutboxMessage.State.DEAD, session.fingerprint):
        return None
    return int(newest[0])


def _mark_refused(summary: PromotionsSummary, session: CustomerSession | None) -> PromotionsSummary:
    """The codes still waiting for an answer are ``rejected`` with an empty ``reason`` (the
    generic "could not be applied" message) when Talon.One refused their update for good
    (:func:`refused_update`): never ``pending`` forever."""
    waiting = any(r.status == "pending" for r in (*summary.coupons, *summary.referrals))
    if not waiting or refused_update(session) is None:
        return summary

    def refused(results: list[CodeResult]) -> list[CodeResult]:
        return [
            dataclasses.replace(r, status="rejected", reason="") if r.status == "pending" else r
            for r in results
        ]

    summary.coupons = refused(summary.coupons)
    summary.referrals = refused(summary.referrals)
    return summary


def summarize_session(session: CustomerSession | None) -> PromotionsSummary:
    """The summary for a stored ``CustomerSession`` (``None`` gives an empty cart summary)."""
    return _mark_refused(quote_view(quote_for_cart(session)), session)


def summarize_request(request: HttpRequest) -> PromotionsSummary:
    """The summary for the current visitor's cart (one or two queries, no API call)."""
    stored = get_promotions(request=request)
    return _mark_refused(quote_view(quote_for_stored(stored)), stored.session)


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
