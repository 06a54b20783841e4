"""The quote of a cart: what it costs after promotions, as shown and as charged.

:func:`quote_for_cart` reads the mirror (``get_promotions``: no API call) and decides which
of the stored effects the quote may carry. **Shown = charged**: a quote carries only
discounts that apply to the cart as it is now.

* ``confirmed``: the stored answer was computed for exactly the local state
  (``fingerprint == pushed_fingerprint``) and is not older than ``EFFECTS_MAX_AGE``.
* ``pending`` with the last-good discounts: a newer state waits in the outbox but the cart
  itself did not change since the answer (only the session's state did, e.g. the order's
  close is queued while Talon.One is down); the answer still prices this cart.
* ``pending`` / ``unavailable`` without discounts: the cart changed since the last answer
  (or there never was one). ``unavailable`` when Talon.One is known to be down (kill switch,
  open circuit, or the last delivery failed), else ``pending``. Showing the old cart's
  discounts against the new subtotal would be a total that was never valid, so the quote
  carries none and says so in ``message``.
* ``stale``: the answer is older than ``EFFECTS_MAX_AGE``; no discounts.

The effects the quote may not carry are not handed to the summary at all, so the template
tags and the REST API (which show the summary, see :mod:`django_talon.services.display`)
show exactly the quote's numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django_talon import resilience
from django_talon.promotions import summarize_stored
from django_talon.promotions.quote import Quote, QuoteStatus
from django_talon.promotions.quoting import build_quote, quote_message
from django_talon.services.sessions import SessionOrCart
from django_talon.services.stored import StoredPromotions, get_promotions

if TYPE_CHECKING:
    from django.http import HttpRequest

    from django_talon.models import CustomerSession

__all__ = [
    "Quote",
    "QuoteStatus",
    "quote_for_cart",
    "quote_for_stored",
    "quote_status",
    "uncharged_quote",
]


def _talon_down(session: CustomerSession) -> bool:
    """Known to be down: kill switch, open circuit (of the session's Application), or the
    last delivery failed."""
    return (
        bool(session.last_error)
        or not resilience.is_enabled(session.application)
        or resilience.breaker_for(session.application).state() == "open"
    )


def quote_status(stored: StoredPromotions) -> tuple[QuoteStatus, bool]:
    """How far the stored answer can be trusted: the status and whether the quote may carry
    the stored effects."""
    session = stored.session
    if session is None:
        return QuoteStatus.CONFIRMED, False  # no cart: nothing to discount
    if stored.stale:
        return QuoteStatus.STALE, False
    if session.fingerprint == session.pushed_fingerprint:
        return QuoteStatus.CONFIRMED, True
    if stored.carries_effects():  # only the session's state changed since the answer
        return QuoteStatus.PENDING, True
    if _talon_down(session):
        return QuoteStatus.UNAVAILABLE, False
    return QuoteStatus.PENDING, False


def quote_for_stored(stored: StoredPromotions) -> Quote:
    """The quote for ``get_promotions(...)``'s answer (no query, no API call; the cache is
    read to know whether Talon.One is down)."""
    status, carries = quote_status(stored)
    session = stored.session
    summary = summarize_stored(stored, carries=carries)
    last_good = carries and status is not QuoteStatus.CONFIRMED
    return build_quote(
        summary,
        session_id=session.integration_id if session is not None else "",
        fingerprint=session.fingerprint if session is not None else "",
        status=status,
        message=quote_message(status, last_good=last_good),
        referral_code=stored.referral_code,
    )


def quote_for_cart(
    cart_or_session: SessionOrCart | None = None, *, request: HttpRequest | None = None
) -> Quote:
    """The quote of a shop cart, a ``CustomerSession`` or the request's current cart.

    Zero API calls (one or two queries): it reads the mirror through ``get_promotions``.
    Shops charge ``quote.total``; ``quote.summary`` is what the template tags and the REST
    API show for it. See the module docstring for when discounts are carried.
    """
    return quote_for_stored(get_promotions(cart_or_session, request=request))


def uncharged_quote(quote: Quote, message: str) -> Quote:
    """``quote``'s cart as charged without Talon.One's discounts: full price, status
    ``unavailable``, ``message`` saying why.

    For a shop whose own pricing left Talon.One's discounts out of an order (adapter
    ``order_charged_quote``; django-oscar with its Talon.One offer suspended): the ledger
    records this as charged, so the close sends no codes (as for an order charged during an
    outage, ``TALON["CLOSE_UNCONFIRMED"]``) and what Talon.One still books is reconciled as
    a difference instead of passing for charged.
    """
    from django_talon.models import CustomerSession

    session = CustomerSession.objects.filter(integration_id=quote.session_id).first()
    if session is None:
        return quote
    stored = get_promotions(session)
    return build_quote(
        summarize_stored(stored, carries=False),
        session_id=quote.session_id,
        fingerprint=quote.fingerprint,
        status=QuoteStatus.UNAVAILABLE,
        message=message,
        referral_code=stored.referral_code,
    )
