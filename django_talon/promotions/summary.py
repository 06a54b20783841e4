"""What a cart page or API client shows: the summary dataclasses, read-only after building.

They hold display values only (rounded money, display names, code outcomes) so templates,
template tags and the REST serializers print them as they are and never re-implement
effect logic. Totals are sums of the per-effect rounded amounts, so the discount lines shown
always add up to the total shown; the total after discount never goes below zero (a discount
larger than the cart is capped for display).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

from django_talon.promotions.codes import CodeResult
from django_talon.promotions.money import quantize_money

__all__ = [
    "CartLine",
    "QuoteTotals",
    "Discount",
    "FreeItem",
    "LoyaltyPoints",
    "Notification",
    "PromotionsSummary",
]


@dataclass(frozen=True)
class Discount:
    """One discount effect: cart-level (``position`` None) or on a cart line.

    ``name`` is the display name (per-item discounts without Talon.One's ``#<position>``
    suffix, see :func:`discount_display_name`); ``raw_name`` is the name exactly as sent.
    """

    name: str
    amount: Decimal
    effect_type: str
    campaign_id: int | None = None
    scope: str = ""
    position: int | None = None
    sub_position: int | None = None
    additional_cost: str = ""
    raw_name: str = ""


@dataclass
class CartLine:
    """A cart item with the per-item discounts Talon.One put on it."""

    position: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    subtotal: Decimal
    discounts: list[Discount] = field(default_factory=list)
    category: str = ""

    @property
    def discount(self) -> Decimal:
        """Sum of the rounded per-item discounts on this line."""
        return sum((d.amount for d in self.discounts), Decimal(0)).quantize(self.subtotal)

    @property
    def total(self) -> Decimal:
        """Line subtotal after its own discounts, never negative."""
        return max(self.subtotal - self.discount, Decimal(0) * self.subtotal)


@dataclass(frozen=True)
class FreeItem:
    """``addFreeItem``: the shop should add ``sku`` to the cart (at price 0)."""

    sku: str
    name: str
    desired_quantity: int
    quantity_in_cart: int
    campaign_id: int | None = None

    @property
    def in_cart(self) -> bool:
        """True once the cart already holds the desired quantity of the item."""
        return self.quantity_in_cart >= self.desired_quantity


@dataclass(frozen=True)
class LoyaltyPoints:
    """Points a cart will earn (``addLoyaltyPoints``) or spend (``deductLoyaltyPoints``)."""

    kind: Literal["earn", "spend"]
    points: Decimal
    program_id: int | None
    sub_ledger_id: str = ""
    name: str = ""
    recipient_integration_id: str = ""
    campaign_id: int | None = None


@dataclass(frozen=True)
class Notification:
    """``showNotification``: a message the marketing team wants shown (Info/Offer/Error/Misc)."""

    notification_type: str
    title: str
    body: str
    campaign_id: int | None = None


class _Status(Protocol):
    @property
    def value(self) -> str: ...


class QuoteTotals(Protocol):
    """What a summary reads of the quote it is the view of
    (:class:`~django_talon.promotions.quote.Quote`; typed structurally because the quote
    is built from the summary, so this module cannot import it)."""

    @property
    def status(self) -> _Status: ...
    @property
    def message(self) -> str: ...
    @property
    def discount_total(self) -> Decimal: ...
    @property
    def total(self) -> Decimal: ...


@dataclass
class PromotionsSummary:
    """Everything a cart page or API client needs, computed once from stored effects."""

    currency: str
    lines: list[CartLine] = field(default_factory=list)
    cart_discounts: list[Discount] = field(default_factory=list)
    item_discounts: list[Discount] = field(default_factory=list)
    free_items: list[FreeItem] = field(default_factory=list)
    coupons: list[CodeResult] = field(default_factory=list)
    referrals: list[CodeResult] = field(default_factory=list)
    loyalty: list[LoyaltyPoints] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    #: Raw dicts of documented effect types the summary does not interpret.
    other_effects: list[dict[str, Any]] = field(default_factory=list)
    #: Raw dicts of effect types unknown to this release (the API treats types as open).
    unknown_effects: list[dict[str, Any]] = field(default_factory=list)
    #: Raw dicts of effects whose amount cannot be money (NaN, Infinity, 1e29): not shown,
    #: not charged, logged.
    unusable_effects: list[dict[str, Any]] = field(default_factory=list)
    #: When the effects were received from Talon.One (None: never / not known).
    received_at: datetime | None = None
    #: True when stored effects were older than ``TALON["EFFECTS_MAX_AGE"]`` and were ignored.
    stale: bool = False
    #: False while a newer cart state waits in the outbox ("updating your discounts").
    in_sync: bool = True
    #: The quote this summary is the view of (``services.quote_for_cart``): its totals are
    #: then the quote's, so what a page shows is what the shop charges. None for a summary
    #: built on its own (``summarize``).
    quote: QuoteTotals | None = field(default=None, compare=False, repr=False)

    @property
    def _zero(self) -> Decimal:
        return quantize_money(0, self.currency)

    @property
    def discounts(self) -> list[Discount]:
        """Every discount, cart-level first, in the order Talon.One sent them."""
        return [*self.cart_discounts, *self.item_discounts]

    @property
    def subtotal(self) -> Decimal:
        """Cart value before discounts (sum of price x quantity)."""
        return sum((line.subtotal for line in self.lines), self._zero)

    @property
    def total_discount(self) -> Decimal:
        """Sum of all rounded discount amounts (cart, item and additional-cost discounts);
        for a quote's view, the discount the quote grants (capped at the subtotal)."""
        if self.quote is not None:
            return self.quote.discount_total
        return sum((d.amount for d in self.discounts), self._zero)

    @property
    def cart_discount_total(self) -> Decimal:
        """Sum of the cart-level discounts (``cart_discounts``)."""
        return sum((d.amount for d in self.cart_discounts), self._zero)

    @property
    def item_discount_total(self) -> Decimal:
        """Sum of the per-item discounts (``item_discounts``), e.g. for one "Item discounts"
        line under a cart table that already shows each line's discount."""
        return sum((d.amount for d in self.item_discounts), self._zero)

    @property
    def total(self) -> Decimal:
        """Subtotal minus the total discount, never below zero; for a quote's view, the
        quote's total (what the shop charges)."""
        if self.quote is not None:
            return self.quote.total
        return max(self.subtotal - self.total_discount, self._zero)

    @property
    def status(self) -> str:
        """The quote's status (``confirmed``, ``pending``, ``stale``, ``unavailable``)."""
        if self.quote is not None:
            return self.quote.status.value
        return "stale" if self.stale else ("confirmed" if self.in_sync else "pending")

    @property
    def message(self) -> str:
        """Why the discounts shown are not (or only the last) confirmed ones; "" otherwise."""
        return self.quote.message if self.quote is not None else ""

    @property
    def has_promotions(self) -> bool:
        return bool(
            self.discounts
            or self.free_items
            or self.coupons
            or self.referrals
            or self.loyalty
            or self.notifications
        )

    @property
    def accepted_coupons(self) -> list[CodeResult]:
        return [c for c in self.coupons if c.accepted]

    @property
    def rejected_coupons(self) -> list[CodeResult]:
        return [c for c in self.coupons if c.rejected]

    @property
    def accepted_referrals(self) -> list[CodeResult]:
        return [r for r in self.referrals if r.accepted]

    @property
    def rejected_referrals(self) -> list[CodeResult]:
        return [r for r in self.referrals if r.rejected]

    @property
    def points_to_earn(self) -> Decimal:
        return sum((p.points for p in self.loyalty if p.kind == "earn"), Decimal(0))

    @property
    def points_to_spend(self) -> Decimal:
        return sum((p.points for p in self.loyalty if p.kind == "spend"), Decimal(0))

    @property
    def missing_free_items(self) -> list[FreeItem]:
        """Free items the shop still has to put into the cart."""
        return [f for f in self.free_items if not f.in_cart]

    def line(self, position: int) -> CartLine | None:
        for line in self.lines:
            if line.position == position:
                return line
        return None
