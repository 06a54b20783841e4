"""Discount effects: money off the cart, an item, or an additional cost, and a discount taken back.

``value`` is the discount actually applied (``Decimal``); ``desired_value`` what the rule
asked for before caps (a budget, the item price) cut it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .base import Effect, register

__all__ = [
    "RollbackDiscount",
    "SetDiscount",
    "SetDiscountPerAdditionalCost",
    "SetDiscountPerAdditionalCostPerItem",
    "SetDiscountPerItem",
]


@register("setDiscount")
@dataclass(frozen=True, kw_only=True)
class SetDiscount(Effect):
    """Take ``value`` off the cart (``scope``: cartItems / additionalCosts / sessionTotal)."""

    name: str = ""
    value: Decimal = Decimal(0)
    scope: str | None = None
    desired_value: Decimal | None = None


@register("setDiscountPerItem")
@dataclass(frozen=True, kw_only=True)
class SetDiscountPerItem(Effect):
    """Take ``value`` off cart item ``position`` (unit ``sub_position`` when flattened)."""

    name: str = ""
    value: Decimal = Decimal(0)
    position: int = 0
    sub_position: int | None = None
    desired_value: Decimal | None = None
    scope: str | None = None
    total_discount: Decimal | None = None
    desired_total_discount: Decimal | None = None
    bundle_index: int | None = None
    bundle_name: str | None = None
    targeted_item_position: int | None = None
    targeted_item_sub_position: int | None = None
    excluded_from_price_history: bool | None = None


@dataclass(frozen=True, kw_only=True)
class _AdditionalCostDiscount(Effect):
    """A discount of ``value`` on additional cost ``additional_cost`` (e.g. shipping)."""

    name: str = ""
    additional_cost_id: int = 0
    additional_cost: str = ""
    value: Decimal = Decimal(0)


@register("setDiscountPerAdditionalCost")
@dataclass(frozen=True, kw_only=True)
class SetDiscountPerAdditionalCost(_AdditionalCostDiscount):
    """Discount on a session-level additional cost (e.g. shipping)."""

    desired_value: Decimal | None = None


@register("setDiscountPerAdditionalCostPerItem")
@dataclass(frozen=True, kw_only=True)
class SetDiscountPerAdditionalCostPerItem(_AdditionalCostDiscount):
    """Discount on an additional cost of one cart item."""

    position: int = 0
    sub_position: int | None = None
    desired_value: Decimal | None = None


@register("rollbackDiscount")
@dataclass(frozen=True, kw_only=True)
class RollbackDiscount(Effect):
    """A discount given by a now cancelled/returned/reopened session is taken back."""

    name: str = ""
    value: Decimal = Decimal(0)
    cart_item_position: int | None = None
    cart_item_sub_position: int | None = None
    additional_cost_id: int | None = None
    additional_cost: str | None = None
    scope: str | None = None
