"""After the order: returns and reopening a closed session (data flow 2 in DESIGN.md).

Talon.One allows ``closed -> partially_returned`` (``POST .../returns``) and ``closed -> open``
(``PUT .../reopen``) only. These functions check the local state first, under the session's
row lock, and raise :class:`~django_talon.services.sessions.SessionStateError` (a
``ValueError``) before anything is saved or queued: a write the API would refuse would
otherwise change the mirror (``partially_returned`` locally, ``open`` in Talon.One) and then
die in the outbox.

The state changes of an order (close, cancel) stay in :mod:`django_talon.services.sessions`
next to the push they share.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction

from django_talon import outbox
from django_talon.adapters import cart_key
from django_talon.models import CustomerSession, OutboxMessage
from django_talon.services.handlers import SESSION_REOPEN, SESSION_RETURN, session_key
from django_talon.services.sessions import (
    CLOSED,
    OPEN,
    PARTIALLY_RETURNED,
    SessionOrCart,
    SessionStateError,
    _locked,
)

logger = logging.getLogger("django_talon.services")

#: The states a return may start from (Talon.One: closed or already partially returned).
RETURNABLE = (CLOSED, PARTIALLY_RETURNED)
#: The states a reopen may start from (Talon.One: closed only).
REOPENABLE = (CLOSED,)


def _session_in(target: SessionOrCart, states: tuple[str, ...], action: str) -> CustomerSession:
    """The session to change, locked: ``target`` itself, or the newest session of the cart
    ``target`` in one of ``states`` (a cart's open session is never the one returned)."""
    if isinstance(target, CustomerSession):
        session = _locked(target)
    else:
        key = cart_key(target)
        found = (
            CustomerSession.objects.select_for_update()
            .filter(cart_key=key, state__in=states)
            .order_by("-id")
            .first()
        )
        if found is None:
            raise SessionStateError(
                f"cannot {action}: cart {key} has no session that is " + _or(states)
            )
        session = found
    if session.state not in states:
        raise SessionStateError(
            f"cannot {action} session {session.integration_id}: it is {session.state}, "
            f"not {_or(states)}"
        )
    return session


def _or(states: tuple[str, ...]) -> str:
    return " or ".join(states)


def return_items(target: SessionOrCart, items: list[dict[str, Any]]) -> CustomerSession:
    """Return items of a closed (or partially returned) session:
    ``[{"position": 0, "quantity": 1}, ...]``; queued for the returns API (the outbox row id
    is the Idempotency-Key).

    Raises :class:`SessionStateError` for an open or cancelled session, or ``ValueError`` for
    no items or items the session cannot return (a position it has no line at, a quantity
    below 1 or beyond what is left of the line after earlier returns), before anything is
    saved or queued: Talon.One refuses such a return, and its row became a dead letter while
    the session already said ``partially_returned`` (and could no longer be reopened).
    """
    if not items:
        raise ValueError("return_items needs at least one item")
    with transaction.atomic(savepoint=False):
        session = _session_in(target, RETURNABLE, "return items of")
        _check_returnable(session, items)
        session.state = PARTIALLY_RETURNED
        session.save(update_fields=["state", "updated_at"])
        outbox.enqueue(
            SESSION_RETURN,
            session_key(session.integration_id),
            {"session_id": session.integration_id, "returned_items": list(items)},
            application=session.application,
        )
    return session


def returnable_quantities(session: CustomerSession) -> list[int]:
    """Per position of the session's cart items, the units not returned yet: the line's
    quantity minus the returns queued or delivered before (a refused one, a dead letter,
    returned nothing). What :func:`return_items` accepts; a shop's "return the rest" button
    sends these (the example shop's does)."""
    lines = list(session.cart_items or [])
    left = [int(line.get("quantity") or 0) for line in lines if isinstance(line, dict)]
    earlier = OutboxMessage.objects.filter(
        key=session_key(session.integration_id), operation=SESSION_RETURN
    ).exclude(state=OutboxMessage.State.DEAD)
    for payload in earlier.values_list("payload", flat=True):
        for item in (payload or {}).get("returned_items") or []:
            position = item.get("position") if isinstance(item, dict) else None
            if isinstance(position, int) and 0 <= position < len(left):
                left[position] -= int(item.get("quantity") or 0)
    return [max(units, 0) for units in left]


def _check_returnable(session: CustomerSession, items: list[dict[str, Any]]) -> None:
    """Each item names a line of the session and at most what is left of it
    (:func:`returnable_quantities`)."""
    left = returnable_quantities(session)
    for index, item in enumerate(items):
        position = item.get("position") if isinstance(item, dict) else None
        quantity = item.get("quantity") if isinstance(item, dict) else None
        if isinstance(position, bool) or not isinstance(position, int):
            raise ValueError(f"returned item {index}: 'position' must be a line's index")
        if not 0 <= position < len(left):
            raise ValueError(
                f"returned item {index}: the session has no line at position {position}"
            )
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ValueError(f"returned item {index}: 'quantity' must be a whole number >= 1")
        if quantity > left[position]:
            raise ValueError(
                f"returned item {index}: {quantity} unit(s) of line {position}, but "
                f"{left[position]} are left to return"
            )
        left[position] -= quantity


def reopen_session(target: SessionOrCart) -> CustomerSession:
    """Reopen a closed session (Talon.One answers with rollback effects).

    Only one session per cart can be open. When the cart already has a newer open session
    (the customer went on shopping with the same cart object), **the newer session keeps the
    cart** and the reopened one is detached from it (``cart_key`` becomes ``""``): the
    customer's current cart is not taken over by an old order, and the reopened session is
    reached through its id (``adapter.order_session_id(order)``, ``session_for_order``) and
    changed with the services' session-object calls. Raises :class:`SessionStateError` when
    the session is not closed, before anything is saved or queued.
    """
    with transaction.atomic(savepoint=False):
        session = _session_in(target, REOPENABLE, "reopen")
        session.state = OPEN
        fields = ["state", "updated_at"]
        if session.cart_key and _cart_has_open_session(session):
            _detach(session)
            fields.append("cart_key")
        try:
            with transaction.atomic():
                session.save(update_fields=fields)
        except IntegrityError:  # a new open session for the cart was committed meanwhile
            _detach(session)
            session.save(update_fields=[*fields, "cart_key"])
        outbox.enqueue(
            SESSION_REOPEN,
            session_key(session.integration_id),
            {"session_id": session.integration_id},
            application=session.application,
        )
    return session


def _cart_has_open_session(session: CustomerSession) -> bool:
    others = CustomerSession.objects.filter(cart_key=session.cart_key, state=OPEN)
    return bool(others.exclude(pk=session.pk).exists())


def _detach(session: CustomerSession) -> None:
    logger.info(
        "reopen: cart %s already has an open session; session %s is reopened without it",
        session.cart_key,
        session.integration_id,
    )
    session.cart_key = ""
