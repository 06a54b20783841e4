"""Effects that ask the shop to do or show something besides prices and codes.

A free item for the cart, a notification, a bundle's metadata, an attribute update, a custom
effect from Campaign Manager, a triggered webhook, or an ``error`` effect (informational).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import Effect, prop, register

__all__ = [
    "AddFreeItem",
    "CustomEffect",
    "ErrorEffect",
    "ShowBundleMetadata",
    "ShowNotification",
    "TriggerWebhook",
    "UpdateAttribute",
]


@register("addFreeItem")
@dataclass(frozen=True, kw_only=True)
class AddFreeItem(Effect):
    """Add ``sku`` to the cart for free (``desired_quantity`` units, default 1)."""

    sku: str = ""
    name: str = ""
    desired_quantity: int | None = None


@register("showNotification")
@dataclass(frozen=True, kw_only=True)
class ShowNotification(Effect):
    """Show a message; ``notification_type`` is Info/Offer/Error/Misc (open set)."""

    notification_type: str = ""
    title: str = ""
    body: str = ""


@register("triggerWebhook")
@dataclass(frozen=True, kw_only=True)
class TriggerWebhook(Effect):
    """Talon.One called a webhook (informational, no action needed)."""

    webhook_id: int = 0
    webhook_name: str = ""


@register("updateAttribute")
@dataclass(frozen=True, kw_only=True)
class UpdateAttribute(Effect):
    """Attribute at ``path`` was set to ``value`` (any JSON)."""

    path: str = ""
    value: Any = None


@register("showBundleMetadata")
@dataclass(frozen=True, kw_only=True)
class ShowBundleMetadata(Effect):
    """Deprecated: which cart items form a bundle."""

    description: str = ""
    bundle_attributes: list[Any] | None = None
    items_indices: list[Any] | None = None


@register("customEffect")
@dataclass(frozen=True, kw_only=True)
class CustomEffect(Effect):
    """A custom effect defined in Campaign Manager; ``payload`` is its JSON."""

    name: str = ""
    payload: dict[str, Any] | None = None
    effect_id: int | None = None
    custom_type: str | None = prop(None, name="type")
    cart_item_position: int | None = None
    cart_item_sub_position: int | None = None
    bundle_index: int | None = None
    bundle_name: str | None = None


@register("error")
@dataclass(frozen=True, kw_only=True)
class ErrorEffect(Effect):
    """Informational: something in the rules failed (``message``)."""

    message: str = ""
