"""The summary of what a session has stored, given what the service layer read for it.

Deciding *what* is shown (effects older than ``TALON["EFFECTS_MAX_AGE"]`` are dropped, a
cart state still waiting in the outbox means "not in sync") is the service layer's job
(``services.get_promotions``). This module only turns such an answer into the display
summary, so the display layer depends on nothing but the shape of that answer
(:class:`StoredEffects`) and never imports the services: services, template tags and the
REST API import promotions, not the other way round.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from django_talon.client.effects import Effect, decode_effects
from django_talon.promotions.building import summarize
from django_talon.promotions.summary import PromotionsSummary

if TYPE_CHECKING:
    from django_talon.models import CustomerSession

__all__ = ["StoredEffects", "decoded_effects", "summarize_stored"]


class StoredEffects(Protocol):
    """What ``services.get_promotions(...)`` answers (``StoredPromotions``), as read here."""

    @property
    def effects_raw(self) -> Sequence[Any]: ...
    @property
    def cart_items(self) -> Sequence[Any]: ...
    @property
    def currency(self) -> str: ...
    @property
    def coupon_codes(self) -> Sequence[str]: ...
    @property
    def referral_code(self) -> str: ...
    @property
    def received_at(self) -> datetime | None: ...
    @property
    def stale(self) -> bool: ...
    @property
    def in_sync(self) -> bool: ...


def summarize_stored(stored: StoredEffects, *, carries: bool | None = None) -> PromotionsSummary:
    """The summary for ``services.get_promotions(...)``'s answer (the mirror, no API call).

    CORE decides what is shown (effects older than ``TALON["EFFECTS_MAX_AGE"]`` are dropped
    and flagged ``stale``; ``carries``: may the stored effects be shown for the cart as it is
    now); this turns it into the display summary, including codes that are still waiting
    for Talon.One's answer (``pending``). The services pass the quote's rule
    (``services.quote_for_stored``, ``StoredPromotions.summary()``), so what is shown is what
    is charged. Without ``carries`` the effects are shown only while ``in_sync``: while a
    newer state waits in the outbox they were computed for another cart state, and the old
    cart's discounts against the new subtotal would be a total that was never valid.
    """
    shown = stored.in_sync if carries is None else carries
    summary = summarize(
        stored.effects_raw if shown else (),
        stored.cart_items,
        stored.currency,
        coupon_codes=stored.coupon_codes,
        referral_code=stored.referral_code,
        # the session's additional costs (shipping) when the answer names its session
        additional_costs=getattr(getattr(stored, "session", None), "additional_costs", None),
    )
    summary.received_at = stored.received_at
    summary.stale = stored.stale
    summary.in_sync = stored.in_sync
    return summary


def decoded_effects(session: CustomerSession) -> list[Effect]:
    """The raw effects stored on ``session``, decoded into typed ``Effect`` objects.

    This was ``CustomerSession.decoded_effects()``: models stay plain (they do not import
    the client), so decoding lives with the code that reads effects. Unlike
    ``services.get_promotions(session).effects`` it ignores ``EFFECTS_MAX_AGE``.
    """
    return decode_effects(list(session.effects or []))
