"""The Integration API operations of :class:`~django_talon.client.TalonClient`, by API area.

Each module is one mixin: :mod:`.sessions` (v2 customer sessions), :mod:`.profiles` (v2
profiles and audiences), :mod:`.codes` (coupon reservations, referrals), :mod:`.customers`
(erasure, inventory, search) and :mod:`.v1` (legacy events, profiles, sessions). They share
:mod:`.base`; the client itself (construction, options, the one ``_send``) is
:mod:`django_talon.client.client`. Use the client, not the mixins.
"""

from __future__ import annotations

from .base import OperationGroup
from .codes import CodeOperations
from .customers import CustomerDataOperations
from .profiles import ProfileOperations
from .sessions import SessionOperations
from .v1 import LegacyOperations

__all__ = [
    "CodeOperations",
    "CustomerDataOperations",
    "LegacyOperations",
    "OperationGroup",
    "ProfileOperations",
    "SessionOperations",
]
