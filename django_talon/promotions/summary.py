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
from django_talon.promotions.money import UnusableAmountError, quantize_money
from django_talon.promotions.scopes import take_cart_discounts, take_item_discounts

__all__ = [
    "AdditionalCost",
    "CartLine",
    "CreatedCode",
    "Giveaway",
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

    def __post_init__(self) -> None:
        # Money off, never on: a negative amount would raise the total the shop charges.
        # The builder refuses such effects first (``money.discount_amount``); this keeps any
        # other way of making a Discount from carrying one.
        if self.amount < 0:
            raise UnusableAmountError(f"discount {self.name!r} of {self.amount} is negative")


def cost_title(name: str) -> str:
    """The name of an additional cost as shown: ``"gift_wrap"`` -> ``"Gift wrap"``."""
    text = name.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:] if text else name


@dataclass(frozen=True)
class AdditionalCost:
    """An additional cost (shipping, gift wrap) and the discounts Talon.One put on it.

    Cart-level costs come from the session's ``additionalCosts``; a cart line's come from
    its item's ``additionalCosts`` (``price`` is then the per-unit price times the quantity).
    Their discounts (``setDiscountPerAdditionalCost`` / ``...PerItem``) come off the cost,
    never off the items: free shipping does not make the coffee cheaper.
    """

    name: str
    price: Decimal
    discounts: tuple[Discount, ...] = ()

    @property
    def title(self) -> str:
        return cost_title(self.name)

    @property
    def discount(self) -> Decimal:
        """The cost's discounts, at most its price (a cost never goes negative) and never
        below zero."""
        zero = Decimal(0) * self.price
        granted = sum((d.amount for d in self.discounts), zero)
        return max(min(granted, self.price), zero)

    @property
    def total(self) -> Decimal:
        return self.price - self.discount


@dataclass(frozen=True)
class CreatedCode:
    """A coupon or referral code a rule created for a customer (``couponCreated`` /
    ``referralCreated``): it is the customer's from now on."""

    kind: Literal["coupon", "referral"]
    code: str
    profile_integration_id: str = ""
    campaign_id: int | None = None


@dataclass(frozen=True)
class Giveaway:
    """``awardGiveaway``: a code from a giveaway pool for the recipient (a gift card, a
    voucher of a partner)."""

    code: str
    pool_id: int
    pool_name: str = ""
    recipient_integration_id: str = ""
    campaign_id: int | None = None


@dataclass
class CartLine:
    """A cart item with the per-item discounts Talon.One put on it.

    ``additional_costs`` are the item's own costs per unit (name -> price);
    ``cost_discounts`` the discounts Talon.One put on them (not on the item's price).
    """

    position: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    subtotal: Decimal
    discounts: list[Discount] = field(default_factory=list)
    category: str = ""
    additional_costs: dict[str, Decimal] = field(default_factory=dict)
    cost_discounts: list[Discount] = field(default_factory=list)

    def costs(self) -> tuple[AdditionalCost, ...]:
        """The line's additional costs (per unit x quantity) with their discounts."""
        return tuple(
            AdditionalCost(
                name=name,
                price=unit * self.quantity,
                discounts=tuple(d for d in self.cost_discounts if d.additional_cost == name),
            )
            for name, unit in self.additional_costs.items()
        )

    def discounts_taken(self) -> list[tuple[Discount, Decimal, Decimal]]:
        """Each per-item discount with what it takes ``(off the price, off the line's own
        additional costs)``, by its ``scope`` (``price``, ``additionalCosts``,
        ``itemTotal``), at most what is left there (:func:`~django_talon.promotions.scopes.take_item_discounts`)."""
        taken = take_item_discounts(
            ((d.scope, d.amount) for d in self.discounts),
            self.subtotal,
            sum((c.total for c in self.costs()), Decimal(0) * self.subtotal),
        )
        return [(d, p, c) for d, (p, c) in zip(self.discounts, taken, strict=True)]

    @property
    def discount(self) -> Decimal:
        """The per-item discounts' part off the price (at most the line's subtotal): what
        the line's "Discount" column shows."""
        zero = Decimal(0) * self.subtotal
        return sum((p for _, p, _ in self.discounts_taken()), zero).quantize(self.subtotal)

    @property
    def discount_on_costs(self) -> Decimal:
        """The per-item discounts' part off the line's own additional costs (scopes
        ``additionalCosts`` and ``itemTotal``; 0 for discounts on the price)."""
        zero = Decimal(0) * self.subtotal
        return sum((c for _, _, c in self.discounts_taken()), zero)

    @property
    def total(self) -> Decimal:
        """Line subtotal after its own discounts on the price, never negative."""
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
    #: Cart-level additional costs (shipping, gift wrap) with their discounts.
    additional_costs: list[AdditionalCost] = field(default_factory=list)
    #: Every discount on an additional cost (the cart's and the lines'), in the order sent.
    additional_cost_discounts: list[Discount] = field(default_factory=list)
    #: Codes rules created for customers (``couponCreated``, ``referralCreated``).
    created_codes: list[CreatedCode] = field(default_factory=list)
    #: Giveaway codes awarded (``awardGiveaway``).
    giveaways: list[Giveaway] = field(default_factory=list)
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
        """Every discount, cart-level first, then items', then additional costs'."""
        return [*self.cart_discounts, *self.item_discounts, *self.additional_cost_discounts]

    @property
    def additional_cost_total(self) -> Decimal:
        """Additional costs (the cart's and the lines') after their own discounts."""
        costs = [*self.additional_costs, *(c for line in self.lines for c in line.costs())]
        return sum((cost.total for cost in costs), self._zero)

    @property
    def additional_cost_discount_total(self) -> Decimal:
        """What the discounts on additional costs take off them (each capped at its cost)."""
        costs = [*self.additional_costs, *(c for line in self.lines for c in line.costs())]
        return sum((cost.discount for cost in costs), self._zero)

    @property
    def created_coupons(self) -> list[CreatedCode]:
        return [c for c in self.created_codes if c.kind == "coupon"]

    @property
    def created_referrals(self) -> list[CreatedCode]:
        return [c for c in self.created_codes if c.kind == "referral"]

    @property
    def subtotal(self) -> Decimal:
        """Cart value before discounts (sum of price x quantity)."""
        return sum((line.subtotal for line in self.lines), self._zero)

    @property
    def total_discount(self) -> Decimal:
        """The discounts on the items and the cart, each at most what its scope lets it take
        (discounts on additional costs are :attr:`additional_cost_discount_total`); for a
        quote's view, the discount the quote grants."""
        if self.quote is not None:
            return self.quote.discount_total
        off_items, off_costs = self._taken()
        return off_items + off_costs

    def _taken(self) -> tuple[Decimal, Decimal]:
        """What the lines' and the cart's discounts take ``(off the items, off the
        additional costs)``, allocated as the quote allocates them (each line's per-item
        discounts by scope, then the cart discounts by theirs), so that a summary built on
        its own (``summarize``: the admin's session page) adds up as the quote does."""
        on_prices = on_item_costs = self._zero
        for line in self.lines:  # (each line's allocation worked out once)
            for _, off_price, off_costs in line.discounts_taken():
                on_prices += off_price
                on_item_costs += off_costs
        taken = take_cart_discounts(
            ((d.scope, d.amount) for d in self.cart_discounts),
            self.subtotal - on_prices,
            self.additional_cost_total - on_item_costs,
        )
        return (
            on_prices + sum((i for i, _ in taken), self._zero),
            on_item_costs + sum((c for _, c in taken), self._zero),
        )

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
        """Subtotal and additional costs (after their own discounts) less
        :attr:`total_discount` (never below zero: each discount takes at most what its scope
        covers); for a quote's view, the quote's total (what the shop charges)."""
        if self.quote is not None:
            return self.quote.total
        return self.subtotal + self.additional_cost_total - self.total_discount

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
            or self.created_codes
            or self.giveaways
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
