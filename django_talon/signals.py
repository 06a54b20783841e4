"""Signals django-talon sends so that shops can react without subclassing anything.

All are sent after the database change they describe has been made (within the same
transaction when one is open). Receivers get keyword arguments only. django-talon sends
them through :func:`emit` (``send_robust``): a receiver that raises is logged and never
undoes or fails the work the signal announces.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import Signal

logger = logging.getLogger("django_talon.signals")

#: New effects were stored on a session. kwargs: ``session``, ``effects`` (raw list).
effects_updated = Signal()
#: Talon.One rejected a coupon. kwargs: ``session``, ``code``, ``reason``.
coupon_rejected = Signal()
#: Talon.One accepted a coupon. kwargs: ``session``, ``code``.
coupon_accepted = Signal()
#: Talon.One rejected a referral code. kwargs: ``session``, ``code``, ``reason``.
referral_rejected = Signal()
#: A session was delivered as closed. kwargs: ``session``.
session_closed = Signal()
#: A session was delivered as cancelled. kwargs: ``session``.
session_cancelled = Signal()
#: A profile update was delivered. kwargs: ``profile``.
profile_synced = Signal()
#: Talon.One confirmed an erasure. kwargs: ``deletion_request``.
erasure_completed = Signal()
#: An outbox row was given up on (dead letter). kwargs: ``message``, ``error``.
outbox_message_dead = Signal()
#: Reconciliation found that Talon.One booked something else than the order was charged.
#: kwargs: ``discrepancy`` (a :class:`~django_talon.models.Discrepancy`).
discrepancy_found = Signal()
#: Talon.One registered a custom event (``services.track_event``). kwargs: ``event_type``,
#: ``integration_id``, ``profile_id``, ``effects`` (the client's typed effects).
event_tracked = Signal()


def emit(signal: Signal, sender: type[Any], **kwargs: Any) -> None:
    """Send one of the signals above with ``send_robust``: every receiver runs, and a receiver
    that raises is logged (with its traceback) instead of turning the API call that already
    succeeded into a failed attempt. Use this, never ``signal.send``, for the app's signals."""
    for receiver, result in signal.send_robust(sender=sender, **kwargs):
        if isinstance(result, BaseException):
            logger.error(
                "a receiver of django-talon's %s signal raised; the other receivers ran and "
                "django-talon went on: %s",
                _names.get(id(signal), "app"),
                receiver,
                exc_info=result,
            )


_names = {id(value): name for name, value in dict(globals()).items() if isinstance(value, Signal)}
