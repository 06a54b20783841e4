"""The Integration API operations of :class:`~django_talon.client.TalonClient`, by API area.

Each module is one mixin: :mod:`.sessions` (v2 customer sessions), :mod:`.profiles` (v2
profiles and audiences), :mod:`.codes` (coupon reservations, referrals), :mod:`.customers`
(erasure, inventory, search), :mod:`.audiences`, :mod:`.catalog` (catalog sync, best
prior price), :mod:`.events` (v2/v3 events), :mod:`.campaigns` (the campaign list),
:mod:`.referrals` (many advocates at once), :mod:`.loyalty` (balances, points, history,
cards, activation), :mod:`.achievements` and :mod:`.v1` (legacy events, profiles,
sessions). They share
:mod:`.base`; the client itself (construction, options, the one ``_send``) is
:mod:`django_talon.client.client`. Use the client, not the mixins.
"""

from __future__ import annotations

from .achievements import AchievementOperations
from .audiences import AudienceOperations
from .base import OperationGroup
from .campaigns import CampaignOperations
from .catalog import CatalogOperations
from .codes import CodeOperations
from .customers import CustomerDataOperations
from .events import EventOperations
from .loyalty import LoyaltyOperations
from .profiles import ProfileOperations
from .referrals import ReferralOperations
from .sessions import SessionOperations
from .v1 import LegacyOperations

__all__ = [
    "AchievementOperations",
    "AudienceOperations",
    "CampaignOperations",
    "CatalogOperations",
    "CodeOperations",
    "CustomerDataOperations",
    "EventOperations",
    "LegacyOperations",
    "LoyaltyOperations",
    "OperationGroup",
    "ProfileOperations",
    "ReferralOperations",
    "SessionOperations",
]
