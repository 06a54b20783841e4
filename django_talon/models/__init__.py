"""Local mirrors of Talon.One state plus the durable outbox and the erasure audit.

Models stay plain: they never call the API. Orchestration lives in ``django_talon.services``
and delivery in ``django_talon.outbox``.
"""

from django_talon.models.ledger import Discrepancy, LedgerEntry, LedgerEntryUpdateError
from django_talon.models.outbox import OutboxMessage
from django_talon.models.problems import SyncProblem
from django_talon.models.profiles import (
    CouponReservation,
    CustomerProfile,
    DataDeletionRequest,
    Referral,
)
from django_talon.models.sessions import CustomerSession

__all__ = [
    "CouponReservation",
    "CustomerProfile",
    "CustomerSession",
    "DataDeletionRequest",
    "Discrepancy",
    "LedgerEntry",
    "LedgerEntryUpdateError",
    "OutboxMessage",
    "Referral",
    "SyncProblem",
]
