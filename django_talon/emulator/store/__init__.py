"""The emulator's state and every Integration API operation on it, one room per API area.

:class:`Store` holds profiles, sessions, coupons, referrals, reservations and loyalty ledgers.
It is assembled from one mixin per area, so the code for an endpoint is found by its area:

==================  ===================================================================
``state.py``        the state itself, the lock, reset/dump, id counters, the event log
``parsing.py``      request validation shared by the areas (sessions, cart items, limits)
``render.py``       campaigns as they appear inside answers
``loyalty.py``      the loyalty ledgers (``ledger.py``) and cards: booked at close, rolled
                    back on cancel/return, rendered inside answers
``loyalty_api.py``  ``/v1|v2/loyalty_programs/...``: balances, points, history, cards
``achievements.py`` achievement progress and ``/v1/customer_profiles/{id}/achievements``
``redemption.py``   what closing a session redeems and what cancel/reopen rolls back
``sessions.py``     ``/v2/customer_sessions/{id}`` (update, get, reopen)
``returns.py``      ``/v2/customer_sessions/{id}/returns``
``profiles.py``     ``/v2/customer_profiles``, audiences, search, deletion, inventory
``coupons.py``      coupon reservations and referrals
``v1.py``           the deprecated v1 sessions, profiles and events
``audiences.py``    ``/v2/audiences``, ``/v2/audience_customers``: audiences and members
``catalog.py``      ``/v1/catalogs/{id}/sync``, ``/v1/best_prior_price`` (with ``prices.py``,
                    the price history)
``events.py``       ``/v2/events``, ``/v3/events``: custom and advanced events
``campaigns.py``    ``/v1/integration/campaigns``: the campaign list
``referrals.py``    ``/v1/referrals_for_multiple_advocates``
==================  ===================================================================

Every public method takes the store lock for its whole duration, so each API call is atomic.
"""

from __future__ import annotations

from django_talon.emulator.store.audiences import AudiencesMixin
from django_talon.emulator.store.campaigns import CampaignListMixin
from django_talon.emulator.store.catalog import CatalogMixin
from django_talon.emulator.store.coupons import CouponsMixin
from django_talon.emulator.store.events import EventsMixin
from django_talon.emulator.store.loyalty_api import LoyaltyApiMixin
from django_talon.emulator.store.parsing import (
    MAX_BATCH,
    MAX_CART_ITEMS,
    MAX_CART_UNITS,
    PROFILE_RESPONSE_CONTENT,
    RESPONSE_CONTENT,
    SESSION_STATES,
)
from django_talon.emulator.store.profiles import ProfilesMixin, profile_context
from django_talon.emulator.store.redemption import RedemptionMixin
from django_talon.emulator.store.referrals import ReferralBatchMixin
from django_talon.emulator.store.render import RenderMixin
from django_talon.emulator.store.returns import ReturnsMixin
from django_talon.emulator.store.sessions import SessionsMixin
from django_talon.emulator.store.state import MAX_EVENTS, StoreState
from django_talon.emulator.store.v1 import V1Mixin

_profile_context = profile_context  # the name it had when the store was one module


class Store(
    LoyaltyApiMixin,
    EventsMixin,
    CatalogMixin,
    CampaignListMixin,
    ReferralBatchMixin,
    AudiencesMixin,
    V1Mixin,
    ReturnsMixin,
    SessionsMixin,
    RedemptionMixin,
    ProfilesMixin,
    CouponsMixin,
    RenderMixin,
    StoreState,
):
    """All emulator state plus the operations of the Integration API."""


__all__ = [
    "MAX_BATCH",
    "MAX_CART_ITEMS",
    "MAX_CART_UNITS",
    "MAX_EVENTS",
    "PROFILE_RESPONSE_CONTENT",
    "RESPONSE_CONTENT",
    "SESSION_STATES",
    "Store",
]
