"""The promotions summary of a stored session or of the current request's cart.

These read the mirror through the service layer (``get_promotions``: staleness, outbox
state) and hand the answer to the pure display layer (:mod:`django_talon.promotions`).
They live here, not in ``promotions``, so that the dependency goes one way: services,
template tags, views and the REST API import promotions; promotions imports no services.
No API call is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django_talon.conf import talon_settings
from django_talon.promotions import PromotionsSummary, summarize, summarize_stored
from django_talon.services.sessions import get_promotions

if TYPE_CHECKING:
    from django.http import HttpRequest

    from django_talon.models import CustomerSession

__all__ = ["summarize_request", "summarize_session"]


def summarize_session(session: CustomerSession | None) -> PromotionsSummary:
    """The summary for a stored ``CustomerSession`` (``None`` gives an empty cart summary)."""
    if session is None:
        return summarize([], [], talon_settings.CURRENCY or "EUR")
    return summarize_stored(get_promotions(session))


def summarize_request(request: HttpRequest) -> PromotionsSummary:
    """The summary for the current visitor's cart (one or two queries, no API call)."""
    return summarize_stored(get_promotions(request=request))
