"""Signals django-talon sends so that shops can react without subclassing anything.

All are sent after the database change they describe has been made (within the same
transaction when one is open). Receivers get keyword arguments only.
"""

from __future__ import annotations

from django.dispatch import Signal

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
