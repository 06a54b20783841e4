"""What the shop shows and charges for a cart, read from the mirror (zero API calls).

:func:`get_promotions` reads a session's stored answer; :class:`StoredPromotions` decides
whether that answer may be carried for the cart as it is now (:meth:`StoredPromotions.
carries_effects`, the rule the quote charges by: ``services.quote_for_cart``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from django_talon import outbox
from django_talon.conf import talon_settings
from django_talon.models import CustomerSession
from django_talon.services.sessions import (
    CANCELLED,
    CLOSED,
    OPEN,
    PARTIALLY_RETURNED,
    SessionOrCart,
    session_for_cart,
    session_for_request,
    session_payload,
)

logger = logging.getLogger("django_talon.services")

if TYPE_CHECKING:
    from django.http import HttpRequest

    from django_talon.client.effects import Effect

__all__ = ["StoredPromotions", "get_promotions"]


@dataclass
class StoredPromotions:
    """What the shop shows for a cart, read from the mirror (zero API calls).

    ``effects_raw`` is empty when the stored answer is older than ``EFFECTS_MAX_AGE``
    (``stale`` is then True); ``in_sync`` is False while a newer cart state waits in the
    outbox (the page can say "updating your discounts").
    """

    session: CustomerSession | None
    effects_raw: list[dict[str, Any]] = field(default_factory=list)
    received_at: datetime | None = None
    stale: bool = False
    in_sync: bool = True
    cart_items: list[dict[str, Any]] = field(default_factory=list)
    coupon_codes: list[str] = field(default_factory=list)
    referral_code: str = ""
    currency: str = "EUR"
    last_error: str = ""

    @property
    def effects(self) -> list[Effect]:
        from django_talon.client.effects import decode_effects

        return list(decode_effects(self.effects_raw))

    def carries_effects(self) -> bool:
        """May the stored effects be shown and charged for the cart as it is now? Yes when
        the answer was computed for exactly the local state, or for this cart in another
        session state (only the state changed since: an order's close still queued); no
        when stale, or when the cart changed since (its discounts would price another cart).
        The rule of :func:`~django_talon.services.quote_for_cart`."""
        session = self.session
        if session is None or self.stale:
            return False
        if session.fingerprint == session.pushed_fingerprint:
            return True
        return session.effects_received_at is not None and _same_cart_as_answer(session)

    def summary(self) -> Any:
        """The display layer's neutral ``PromotionsSummary`` for these effects: the quote's
        (same effects, same rule: :meth:`carries_effects`), so what is shown is charged."""
        from django_talon.promotions import summarize_stored

        return summarize_stored(self, carries=self.carries_effects())


#: Every state a session's pushed body can carry (what :func:`_same_cart_as_answer` tries).
_ANSWER_STATES = (OPEN, CLOSED, CANCELLED, PARTIALLY_RETURNED)


def _same_cart_as_answer(session: CustomerSession) -> bool:
    """True when the stored answer was computed for this cart in some session state.

    ``pushed_fingerprint`` is the hash of the pushed body, state included; the cart (lines,
    codes, profile, attributes) is unchanged since that answer when the local body with one
    of the session states hashes to it.
    """
    body = session_payload(session)
    for state in _ANSWER_STATES:
        if outbox.fingerprint({**body, "state": state}) == session.pushed_fingerprint:
            return True
    return False


def _currency_without_session(cart: Any) -> str:
    """The currency of the Application a cart's session would go to (none yet): the
    adapter's ``application_for_cart``, else the default Application's. Not the top-level
    ``CURRENCY``: with ``APPLICATIONS`` set that is only a fallback ("EUR" next to a JPY
    shop's empty cart)."""
    config = talon_settings.config
    name = talon_settings.default_application
    if cart is not None and not isinstance(cart, CustomerSession):
        from django_talon.adapters import get_adapter

        try:
            name = get_adapter().application_for_cart(cart)
        except Exception:
            # The shop's hook: a page showing an empty cart must render anyway; the cart's
            # first change records the failure as its sync problem.
            logger.exception("adapter.application_for_cart failed; default currency shown")
    return config.currency_of(name)


def get_promotions(
    target: SessionOrCart | None = None, *, request: HttpRequest | None = None
) -> StoredPromotions:
    """Stored promotions for a session, a cart, or the request's current session."""
    session: CustomerSession | None
    if isinstance(target, CustomerSession):
        session = target
    elif target is not None:
        session = session_for_cart(target, create=False)
    elif request is not None:
        session = session_for_request(request)
    else:
        session = None
    if session is None:
        return StoredPromotions(session=None, currency=_currency_without_session(target))
    currency = talon_settings.config.currency_of(session.application)
    received = session.effects_received_at
    max_age = talon_settings.EFFECTS_MAX_AGE
    stale = bool(
        received is not None
        and max_age > 0
        and timezone.now() - received > timedelta(seconds=max_age)
    )
    return StoredPromotions(
        session=session,
        effects_raw=[] if stale else list(session.effects or []),
        received_at=received,
        stale=stale,
        in_sync=session.fingerprint == session.pushed_fingerprint,
        cart_items=list(session.cart_items or []),
        coupon_codes=list(session.coupon_codes or []),
        referral_code=session.referral_code,
        currency=currency,
        last_error=session.last_error,
    )
