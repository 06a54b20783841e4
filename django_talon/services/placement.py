"""Order placement for shops wired through ``TALON["ORDER_MODELS"]``: record the quote.

The order receiver calls :func:`record_placement` when an order becomes placed/paid and
before its session is closed, so the order ledger knows what the order was charged without
the shop writing a line. The quote recorded is the one of the order's session as the cart
shows it (``quote_for_cart``: the mirror, no API call), which is what the shop charges when
it charges from the quote, as the adapter's ``order_charged_quote`` confirms it (a shop
whose own pricing may leave Talon.One's discounts out says so there). Shops that compute their own price, or that do not use the
receivers, call ``services.record_order(order, quote)`` themselves with the quote they
charged, before ``sync_order`` / ``close_session``; the receiver then records nothing more.

A separate module because it needs both the sessions service and the quote, which the
ledger (imported by the sessions service) must not import.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from django_talon.adapters import get_adapter
from django_talon.conf import talon_settings
from django_talon.models import LedgerEntry
from django_talon.services.ledger import charged_entry_for_close, order_key, record_order
from django_talon.services.quotes import quote_for_cart
from django_talon.services.sessions import CLOSED, OPEN, session_for_order

__all__ = ["record_placement"]


def record_placement(order: Any) -> LedgerEntry | None:
    """Record the charged quote of a placed order once (the order receiver's hook).

    Nothing is recorded when the order is not placed (the adapter's
    ``order_session_state`` is not ``closed``), when its session is already closed, or when
    a charged entry exists for this order and session (the shop recorded it, or an earlier
    save did). Fail-closed outside the caller's transaction records nothing: the close
    refuses that before any write.
    """
    if get_adapter().order_session_state(order) != CLOSED:
        return None
    if talon_settings.fail_closed and not transaction.get_connection().in_atomic_block:
        return None  # the close refuses before any write; so does the ledger
    session = session_for_order(order)
    if session is None or session.state != OPEN:
        return None
    recorded = charged_entry_for_close(session.integration_id)
    if recorded is not None and recorded.order_key == order_key(order):
        return None  # recorded already (by the shop, or an earlier save) since any reopen
    quote = get_adapter().order_charged_quote(order, quote_for_cart(session))
    return record_order(order, quote, session=session)
