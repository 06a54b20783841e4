"""Order placement for shops wired through ``TALON["ORDER_MODELS"]``: record the quote.

The order receiver calls :func:`record_placement` when an order becomes placed/paid and
before its session is closed, so the order ledger knows what the order was charged without
the shop writing a line. The quote recorded is the one of the order's session as the cart
shows it (``quote_for_cart``: the mirror, no API call), which is what the shop charges when
it charges from the quote, as the adapter's ``order_charged_quote`` confirms it (a shop
whose own pricing may leave Talon.One's discounts out says so there). Shops that compute their own price, or that do not use the
receivers, call ``services.record_order(order, quote)`` themselves with the quote they
charged, before ``sync_order`` / ``close_session``; the receiver then records nothing more.

Two orders placed at once for one session (a double click, two tabs) must not both be
recorded: Talon.One books the session once, so the other order's charged entry would never be
reconciled. :func:`record_placement` therefore reads the session under its row lock
(``SELECT ... FOR UPDATE``, as the close does), so the second placement waits for the first
one's transaction and then finds the session placed by another order. That placement is
refused (:class:`DuplicatePlacementError`): with ``TALON["ORDER_PLACEMENT"] =
"fail_closed"`` it is raised as :class:`AlreadyPlacedRefusedError` (an
``OrderRefusedError``: the shop's order save fails and its transaction rolls back); otherwise
the order receiver records it as a ``SyncProblem`` (the order is saved, the admin and
``talon_check`` show the problem) and no charged entry is written. See
docs/reconciliation.md.

A separate module because it needs both the sessions service and the quote, which the
ledger (imported by the sessions service) must not import.
"""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction

from django_talon.adapters import get_adapter, split_model_key
from django_talon.conf import talon_settings
from django_talon.exceptions import OrderRefusedError
from django_talon.models import CustomerSession, LedgerEntry
from django_talon.services.ledger import (
    charged_entry_for,
    charged_entry_for_close,
    order_key,
    record_order,
)
from django_talon.services.quotes import quote_for_cart
from django_talon.services.sessions import CLOSED, OPEN, SessionStateError, session_for_order

logger = logging.getLogger("django_talon.services")

__all__ = ["AlreadyPlacedRefusedError", "DuplicatePlacementError", "record_placement"]


class DuplicatePlacementError(SessionStateError):
    """An order was placed for a session another order already placed (a double submit).

    Talon.One books a session once, for the order that closed it, so this order's discounts
    are neither booked nor recorded in the ledger: refund or cancel one of the orders.
    Raised before anything is saved or queued. ``order_key``, ``session_id`` and
    ``placed_by`` (the other order's key) say which.
    """

    def __init__(self, order_key: str, session_id: str, placed_by: str) -> None:
        self.order_key = order_key
        self.session_id = session_id
        self.placed_by = placed_by
        super().__init__(
            f"order {order_key} was placed for session {session_id}, which order {placed_by} "
            "placed already: Talon.One books that order only, so no charged entry is "
            "recorded for this one (a double submit? refund or cancel one of them)"
        )


class AlreadyPlacedRefusedError(OrderRefusedError):
    """Fail-closed: :class:`DuplicatePlacementError` as a refusal of the order (``str()``
    is for the customer, ``cause`` and ``__cause__`` say which orders)."""

    default_message = "This cart has already been ordered, so it was not ordered a second time."


def _locked(session: CustomerSession) -> CustomerSession:
    """The session row re-read under ``SELECT ... FOR UPDATE`` (the caller's transaction),
    so a concurrent placement of the same session waits here until this one commits."""
    locked: CustomerSession = (
        CustomerSession.objects.select_related("profile")
        .select_for_update(of=("self",))
        .get(pk=session.pk)
    )
    return locked


def _is_placed(key: str) -> bool:
    """Whether the shop order behind ``key`` (``'<app_label.model>:<pk>'``) exists and is
    placed (the adapter's ``order_session_state`` says ``closed``)."""
    label, pk = split_model_key(key)
    try:
        model = apps.get_model(label)
        other = model._default_manager.filter(pk=pk).first()
    except (LookupError, ValueError, ValidationError) as exc:
        logger.info("order %s of a charged entry cannot be read (%s): not placed", key, exc)
        return False
    return other is not None and get_adapter().order_session_state(other) == CLOSED


def _placed_by(session: CustomerSession, key: str) -> tuple[str, LedgerEntry | None]:
    """Which other order placed the (locked) session ("" when none did), and the charged
    entry this placement works from (None: none since any reopen)."""
    if session.state != OPEN:
        # Closed (or returned, cancelled) for an order: a charged entry of another order
        # says which one. Without any, nothing tells (the shop closed it by hand).
        latest = charged_entry_for(session.integration_id)
        if latest is not None and latest.order_key and latest.order_key != key:
            return latest.order_key, latest
        return "", latest
    recorded = charged_entry_for_close(session.integration_id)
    if recorded is not None and recorded.order_key and recorded.order_key != key:
        # Still open, but another placed order was recorded: its close is on the way (the
        # placements ran outside a transaction, so the lock did not span the close).
        if _is_placed(recorded.order_key):
            return recorded.order_key, recorded
    return "", recorded


def record_placement(order: Any) -> LedgerEntry | None:
    """Record the charged quote of a placed order once (the order receiver's hook).

    Nothing is recorded when the order is not placed (the adapter's
    ``order_session_state`` is not ``closed``), when its session is already closed, or when
    a charged entry exists for this order and session (the shop recorded it, or an earlier
    save did). Fail-closed outside the caller's transaction records nothing: the close
    refuses that before any write.

    The session is read under its row lock, so two placements of one session are
    serialized. When another order placed the session already, :class:`DuplicatePlacementError`
    is raised (fail-closed: :class:`AlreadyPlacedRefusedError`) and nothing is recorded.
    """
    adapter = get_adapter()
    if adapter.order_session_state(order) != CLOSED:
        return None
    fail_closed = talon_settings.fail_closed
    if fail_closed and not transaction.get_connection().in_atomic_block:
        return None  # the close refuses before any write; so does the ledger
    found = session_for_order(order)
    if found is None:
        return None
    key = order_key(order)
    entry: LedgerEntry | None = None
    # The lock is held to the end of the caller's transaction (which also closes the
    # session); outside one, to the end of this block.
    with transaction.atomic(savepoint=False):
        session = _locked(found)
        placed_by, recorded = _placed_by(session, key)
        if not placed_by and session.state == OPEN:
            if recorded is None or recorded.order_key != key:
                quote = adapter.order_charged_quote(order, quote_for_cart(session))
                entry = record_order(order, quote, session=session)
            # else: recorded already (by the shop, or an earlier save) since any reopen
    if placed_by:
        # Raised outside the atomic block: the caller's transaction stays usable (fail-open)
        # or is rolled back by the caller (fail-closed), not poisoned from in here.
        duplicate = DuplicatePlacementError(key, session.integration_id, placed_by)
        if fail_closed:
            raise AlreadyPlacedRefusedError(cause=str(duplicate)) from duplicate
        raise duplicate
    return entry
