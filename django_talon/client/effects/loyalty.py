"""Loyalty effects: points added, deducted or rolled back, tier changes, expiry changes.

Points are ``Decimal``; ``transaction_uuid`` ties an effect to the ledger transaction the
emulator and Talon.One record (prop ``transactionUUID``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .base import Effect, prop, register

__all__ = [
    "AddLoyaltyPoints",
    "ChangeLoyaltyTierLevel",
    "DeductLoyaltyPoints",
    "ExtendLoyaltyPointsExpiryDate",
    "RollbackAddedLoyaltyPoints",
    "RollbackDeductedLoyaltyPoints",
    "SetLoyaltyPointsExpiryDate",
]


# Effects that start with the ledger they touch share these bases; field order is the v1
# argument order, so a base is only used where its fields really come first.


@dataclass(frozen=True, kw_only=True)
class _LoyaltyLedgerEffect(Effect):
    """An effect on one loyalty (sub)ledger."""

    program_id: int = 0
    sub_ledger_id: str = ""


@dataclass(frozen=True, kw_only=True)
class _LoyaltyPointsRollback(_LoyaltyLedgerEffect):
    """Points of a rolled-back session's transaction are reverted for the recipient."""

    value: Decimal = Decimal(0)
    recipient_integration_id: str = ""
    transaction_uuid: str = prop("", name="transactionUUID")


@register("addLoyaltyPoints")
@dataclass(frozen=True, kw_only=True)
class AddLoyaltyPoints(Effect):
    """``value`` points go to ``recipient_integration_id`` in program ``program_id``."""

    name: str = ""
    program_id: int = 0
    sub_ledger_id: str = ""
    value: Decimal = Decimal(0)
    recipient_integration_id: str = ""
    transaction_uuid: str = prop("", name="transactionUUID")
    start_date: str | None = None
    expiry_date: str | None = None
    desired_value: Decimal | None = None
    cart_item_position: int | None = None
    cart_item_sub_position: int | None = None
    card_identifier: str | None = None
    bundle_index: int | None = None
    bundle_name: str | None = None
    awaits_activation: bool | None = None
    validity_duration: str | None = None


@register("deductLoyaltyPoints")
@dataclass(frozen=True, kw_only=True)
class DeductLoyaltyPoints(Effect):
    """``value`` points are spent from program ``program_id``."""

    rule_title: str = ""
    program_id: int = 0
    sub_ledger_id: str = ""
    value: Decimal = Decimal(0)
    transaction_uuid: str = prop("", name="transactionUUID")
    name: str | None = None
    card_identifier: str | None = None


@register("rollbackAddedLoyaltyPoints")
@dataclass(frozen=True, kw_only=True)
class RollbackAddedLoyaltyPoints(_LoyaltyPointsRollback):
    """Points added by a rolled-back session are removed again."""

    cart_item_position: int | None = None
    cart_item_sub_position: int | None = None
    card_identifier: str | None = None


@register("rollbackDeductedLoyaltyPoints")
@dataclass(frozen=True, kw_only=True)
class RollbackDeductedLoyaltyPoints(_LoyaltyPointsRollback):
    """Points spent by a rolled-back session are given back."""

    start_date: str | None = None
    expiry_date: str | None = None
    card_identifier: str | None = None


@register("changeLoyaltyTierLevel")
@dataclass(frozen=True, kw_only=True)
class ChangeLoyaltyTierLevel(Effect):
    """The customer moved to tier ``new_tier_name``."""

    rule_title: str = ""
    program_id: int = 0
    sub_ledger_id: str = ""
    new_tier_name: str = ""
    previous_tier_name: str | None = None
    expiry_date: str | None = None


@register("setLoyaltyPointsExpiryDate")
@dataclass(frozen=True, kw_only=True)
class SetLoyaltyPointsExpiryDate(_LoyaltyLedgerEffect):
    """Points of some transactions now expire at ``new_expiry_date``."""

    new_expiry_date: str = ""
    affected_transactions: list[Any] | None = None


@register("extendLoyaltyPointsExpiryDate")
@dataclass(frozen=True, kw_only=True)
class ExtendLoyaltyPointsExpiryDate(_LoyaltyLedgerEffect):
    """Points expiry extended by ``extension_duration`` (e.g. ``12h``)."""

    extension_duration: str = ""
    previous_expiration_date: str | None = None
    affected_transactions: list[Any] | None = None
