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

**The mirror must be the cart.** All of the above compares the session with what was sent;
it cannot see a cart that changed without the session hearing of it. A cart whose model
the receivers watch (``CART_MODELS``) is mirrored by its own saves, in the save's
transaction (the two commit or roll back together; a hook failing there is a recorded
``SyncProblem``), so it is not read again here: a change written without a signal
(``QuerySet.update()``) is the shop's to announce (docs/services.md). A cart nothing
announces is another matter: a cart that is not a model (``request.session``) whose request
failed after ``update_cart`` (the shop's storage was never saved, the mirror and the outbox
row were), or a shop that forgot ``update_cart``. So :func:`quote_for_cart`, given such a
cart (or a request whose adapter ``cart_for_request`` names one), first compares the cart as
the adapter reads it now with what its session holds, through the path a cart change takes
(``_mirror``: the adapter's ``cart_items``, ``cart_attributes``, ``additional_costs``,
``loyalty_cards``, normalised as the receivers send them; then ``session_payload`` and the
outbox fingerprint). On a difference it mirrors the cart first (``update_cart``, as a cart
change would: one outbox row; outside a transaction the immediate attempt runs now, inside
one after commit, so the quote is then ``pending``) and quotes the result. If that fails,
the quote is ``unavailable`` for the cart's current lines at full price, never the mirror's.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from django.db import transaction

from django_talon import outbox, resilience
from django_talon.adapters import cart_key, get_adapter
from django_talon.conf import talon_settings
from django_talon.models import CustomerSession
from django_talon.promotions import summarize_stored
from django_talon.promotions.quote import Quote, QuoteStatus
from django_talon.promotions.quoting import build_quote, quote_message
from django_talon.services.carts import UNMIRRORED, _mirror, update_cart
from django_talon.services.problems import record_problem, subject_of
from django_talon.services.sessions import SessionOrCart, session_payload
from django_talon.services.stored import StoredPromotions, get_promotions

if TYPE_CHECKING:
    from django.http import HttpRequest

logger = logging.getLogger("django_talon.services")

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
    cart_or_session: SessionOrCart | None = None,
    *,
    request: HttpRequest | None = None,
    confirm: bool = False,
) -> Quote:
    """The quote of a shop cart, a ``CustomerSession`` or the request's current cart.

    It reads the mirror through ``get_promotions`` (no API call; one or two queries). A cart
    that no receiver watches (its model is not in ``CART_MODELS``: a ``request.session``
    cart, given or found by the adapter's ``cart_for_request(request)``), open and with a
    key, is first compared with its session (the adapter's cart hooks: one more query
    when your ``cart_items`` makes one); when they differ it is mirrored before the quote
    (``update_cart(cart, request=request)``: a write, and outside a transaction the
    immediate attempt, an API call), so its quote is never ``confirmed`` for other lines
    than the cart's (see the module docstring). A ``CustomerSession`` is quoted as it is.

    Shops charge ``quote.total``; ``quote.summary`` is what the template tags and the REST
    API show for it. See the module docstring for when discounts are carried.

    ``confirm=True`` (the checkout page, before the customer is shown what they will be
    charged): a quote that is not confirmed because the cart's last change still waits in
    the outbox (Celery not there yet, an immediate attempt that failed a moment ago) has
    that change delivered now, once, with the short ``IMMEDIATE_TIMEOUT`` (nothing when the
    circuit is open or the kill switch is on), and is quoted again from the answer. A
    failure leaves the quote as it was (``pending``/``unavailable``, full price): the
    checkout never breaks. One query when the quote is confirmed already: none.
    """
    quote = _quote(cart_or_session, request)
    if confirm and not quote.confirmed and quote.session_id and _deliver_pending(quote):
        if isinstance(cart_or_session, CustomerSession):
            cart_or_session.refresh_from_db()  # the answer was stored on the row
        quote = _quote(cart_or_session, request)
    return quote


def _deliver_pending(quote: Quote) -> bool:
    """Deliver the quoted session's pending outbox rows now (``confirm=True``); whether
    there were any. Failures are recorded on the rows (the outbox retries them) and logged
    there; the caller quotes what the mirror then holds."""
    from django_talon.models import OutboxMessage
    from django_talon.services.handlers import session_key

    key = session_key(quote.session_id)
    if not OutboxMessage.objects.filter(key=key, state=OutboxMessage.State.PENDING).exists():
        return False
    report = outbox.deliver_key(key, immediate=True, force=True)
    if report.last_exception is not None:
        logger.info(
            "checkout quote of session %s: its pending change could not be confirmed (%s)",
            quote.session_id,
            resilience.describe(report.last_exception),
        )
    return True


def _quote(cart_or_session: SessionOrCart | None, request: HttpRequest | None) -> Quote:
    target = cart_or_session
    if target is None and request is not None:
        cart = get_adapter().cart_for_request(request)
        if cart is not None and cart_key(cart) is not None:
            target = cart
    if target is None or isinstance(target, CustomerSession):
        return quote_for_stored(get_promotions(target, request=request))
    return _quote_for_shop_cart(target, request)


def _quote_for_shop_cart(cart: Any, request: HttpRequest | None) -> Quote:
    """:func:`quote_for_cart` of a shop cart: the mirror's quote once the mirror is the cart.

    The adapter's hooks are the shop's code: when reading the cart or mirroring it fails,
    the failure is rolled back to a savepoint (inside the caller's transaction), logged and
    recorded as the cart's ``SyncProblem``, and the quote is ``unavailable`` at full price;
    the page renders, and nothing unverified is charged as confirmed.
    """
    stored = get_promotions(cart)
    try:
        with _savepoint():
            current = _unmirrored_state(cart, stored.session)
    except Exception as exc:
        _failed(cart, stored, "reading it", exc)
        return _unconfirmed_quote(stored, None)
    if current is None:
        return quote_for_stored(stored)
    # The mirror holds another cart (its change never reached the session, or the shop's
    # own storage of it was rolled back): mirror it as a cart change would.
    try:
        with _savepoint():
            update_cart(cart, request=request)
    except Exception as exc:
        _failed(cart, stored, "mirroring it", exc)
        return _unconfirmed_quote(stored, current)
    logger.info(
        "cart %s differed from its Talon.One session (a change the session did not hear "
        "of): mirrored before quoting",
        cart_key(cart),
    )
    return quote_for_stored(get_promotions(cart))


def _savepoint() -> contextlib.AbstractContextManager[Any]:
    """A savepoint inside the caller's transaction (a failure leaves it usable); outside
    one nothing (``update_cart`` has its own transaction, the reads need none)."""
    if transaction.get_connection().in_atomic_block:
        return transaction.atomic()
    return contextlib.nullcontext()


def _failed(cart: Any, stored: StoredPromotions, doing: str, exc: Exception) -> None:
    session = stored.session.integration_id if stored.session is not None else "(none)"
    logger.exception(
        "quoting cart %s (session %s): %s failed; quoted at full price",
        cart_key(cart),
        session,
        doing,
    )
    record_problem("cart", subject_of(cart), exc)


def _unmirrored_state(cart: Any, session: CustomerSession | None) -> CustomerSession | None:
    """The cart as the adapter reads it now, on an unsaved copy of ``session``, when that
    differs from what ``session`` holds; None when the mirror is the cart (or the cart is
    finished or keyless: nothing can be mirrored for it, as ``update_cart`` says).

    A watched model cart (:func:`_watched`) is not read: its saves mirror it. Unless its
    last save could not be mirrored (the session is marked
    :data:`~django_talon.services.carts.UNMIRRORED`): then it is read as any other cart.

    Built by ``update_cart``'s own ``_mirror`` (the adapter's hooks, normalised as the
    receivers send them) and compared by the outbox fingerprint of the session body, so
    "differs" means "``update_cart`` would send another cart". The owner is not compared
    (a login attaches the session; the items are what a quote charges). Without a session
    an empty cart is no difference: ``update_cart`` writes nothing for it either.
    """
    adapter = get_adapter()
    key = cart_key(cart)
    if key is None:
        return None
    if _watched(cart) and (session is None or session.fingerprint != UNMIRRORED):
        return None
    if not adapter.cart_is_open(cart):
        return None
    held = session if session is not None else CustomerSession(cart_key=key)
    current = copy.copy(held)
    _mirror(current, cart, adapter, owner=None)
    if session is None:
        return current if current.cart_items else None
    if session.fingerprint == UNMIRRORED:
        return current  # mirrored again even if equal: the mark goes, the answer is fresh
    if outbox.fingerprint(session_payload(current)) == outbox.fingerprint(session_payload(session)):
        return None
    return current


def _watched(cart: Any) -> bool:
    """Is ``cart`` a model the receivers mirror at every save (``CART_MODELS``)? Its mirror
    changes in the save's own transaction; reading the cart again for every quote would
    cost its ``cart_items`` queries (django-oscar: a basket's lines and categories, on every
    request) to find what the receivers already wrote. No query."""
    meta = getattr(cart, "_meta", None)
    if meta is None:
        return False
    return meta.label_lower in {label.lower() for label in talon_settings.CART_MODELS}


def _unconfirmed_quote(stored: StoredPromotions, current: CustomerSession | None) -> Quote:
    """The cart at full price, ``unavailable``: the mirror could not be brought up to date
    (``current``: the cart's lines as read now, quoted instead of the mirror's) or the cart
    could not be read (None: the mirror's lines, the only ones known)."""
    shown = dataclasses.replace(stored, effects_raw=[], in_sync=False)
    if current is not None:
        shown = dataclasses.replace(
            shown, session=current, cart_items=list(current.cart_items or [])
        )
    session = stored.session
    if current is not None:
        fingerprint = outbox.fingerprint(session_payload(current))
    else:
        fingerprint = session.fingerprint if session is not None else ""
    status = QuoteStatus.UNAVAILABLE
    return build_quote(
        summarize_stored(shown, carries=False),
        session_id=session.integration_id if session is not None else "",
        fingerprint=fingerprint,
        status=status,
        message=quote_message(status),
        referral_code=stored.referral_code,
    )


def uncharged_quote(quote: Quote, message: str) -> Quote:
    """``quote``'s cart as charged without Talon.One's discounts: full price, status
    ``unavailable``, ``message`` saying why.

    For a shop whose own pricing left Talon.One's discounts out of an order (adapter
    ``order_charged_quote``; django-oscar with its Talon.One offer suspended): the ledger
    records this as charged, so the close sends no codes (as for an order charged during an
    outage, ``TALON["CLOSE_UNCONFIRMED"]``) and what Talon.One still books is reconciled as
    a difference instead of passing for charged.
    """
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
