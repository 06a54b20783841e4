"""The quote: one immutable answer to "what does this cart cost after promotions?".

The shop charges from it, the cart and checkout templates show it, the REST API returns it
and the order ledger records it, so the discount shown, the discount charged and the
discount booked come from one computation. A quote is pure data: it is built from a
:class:`~django_talon.promotions.summary.PromotionsSummary` (itself built from the typed
effects) plus the cart state it answers for; building it reads neither the database nor
the API (``django_talon.services.quote_for_cart`` does the reading).

``status`` says how far the shop can trust it:

* ``confirmed``: Talon.One answered for exactly this cart (``fingerprint``).
* ``pending``: a newer cart state waits in the outbox; the discounts shown are those of the
  last answer only if the cart did not change since (else none, with ``message``).
* ``stale``: the last answer is older than ``TALON["EFFECTS_MAX_AGE"]``; no discounts.
* ``unavailable``: no usable answer (Talon.One down, never answered); no discounts.

Only a ``confirmed`` quote carries discounts that apply to the cart as it is now; the other
states carry the discounts of the last answer only when that answer was computed for the
same cart (same ``fingerprint``), and none otherwise. Additional costs (shipping) and
loyalty spending are lines of the same shape (``additional_costs``, ``loyalty``), so they
slot in without a new object.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from django_talon.promotions.money import quantize_money
from django_talon.promotions.scopes import take_cart_discounts, take_item_discounts
from django_talon.promotions.summary import (
    AdditionalCost,
    Discount,
    FreeItem,
    LoyaltyPoints,
    PromotionsSummary,
)

__all__ = [
    "AdditionalCost",
    "Quote",
    "QuoteLine",
    "QuoteStatus",
]


class QuoteStatus(str, enum.Enum):
    """How far a quote can be trusted (see the module docstring)."""

    CONFIRMED = "confirmed"
    PENDING = "pending"
    STALE = "stale"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class QuoteLine:
    """A cart line as quoted: price, quantity and the per-item discounts on it."""

    position: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    subtotal: Decimal
    discounts: tuple[Discount, ...] = ()
    #: The item's own additional costs (per unit x quantity) with their discounts.
    additional_costs: tuple[AdditionalCost, ...] = ()

    def discounts_taken(self) -> list[tuple[Discount, Decimal, Decimal]]:
        """Each per-item discount with what it takes ``(off the price, off the line's own
        additional costs)``, in the order sent: by its ``scope`` (``price`` or none: the
        price; ``additionalCosts``: the item's costs after their own discounts;
        ``itemTotal``: the price, then those costs), at most what is left there
        (:func:`~django_talon.promotions.scopes.take_item_discounts`)."""
        return list(self._taken)

    @cached_property
    def _taken(self) -> tuple[tuple[Discount, Decimal, Decimal], ...]:
        zero = Decimal(0) * self.subtotal
        taken = take_item_discounts(
            ((d.scope, d.amount) for d in self.discounts),
            self.subtotal,
            sum((c.total for c in self.additional_costs), zero),
        )
        return tuple((d, p, c) for d, (p, c) in zip(self.discounts, taken, strict=True))

    @property
    def discount(self) -> Decimal:
        """The line's discounts off its price, at most the line's subtotal (a line never
        goes negative, so the lines shown always add up to the items' total)."""
        return sum((p for _, p, _ in self._taken), Decimal(0) * self.subtotal)

    @property
    def discount_on_costs(self) -> Decimal:
        """The line's discounts off its own additional costs (per-item discounts scoped to
        ``additionalCosts`` or ``itemTotal``), at most what those costs have left."""
        return sum((c for _, _, c in self._taken), Decimal(0) * self.subtotal)

    @property
    def total(self) -> Decimal:
        """Line subtotal after its own discounts on the price, never negative."""
        return self.subtotal - self.discount


@dataclass(frozen=True)
class Quote:
    """What the cart costs after promotions, for one cart state (``fingerprint``)."""

    currency: str
    session_id: str
    #: The cart state this quote answers for (``CustomerSession.fingerprint`` of that state).
    fingerprint: str
    status: QuoteStatus
    lines: tuple[QuoteLine, ...] = ()
    #: Cart-level discounts, one per effect, in the order Talon.One sent them (each carries
    #: its ``campaign_id``).
    cart_discounts: tuple[Discount, ...] = ()
    additional_costs: tuple[AdditionalCost, ...] = ()
    free_items: tuple[FreeItem, ...] = ()
    #: Codes the quote's discounts depend on: accepted by Talon.One for this cart.
    coupon_codes: tuple[str, ...] = ()
    referral_code: str = ""
    loyalty: tuple[LoyaltyPoints, ...] = ()
    #: Why the quote carries no (or only last-good) discounts; empty when confirmed.
    message: str = ""
    #: Raw effects left out because their amount cannot be money (NaN, Infinity, 1e29).
    unusable_effects: tuple[dict[str, Any], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    #: The display summary this quote was built from (its ``quote`` is this quote): the
    #: template tags and the REST API show it. Not part of the quote's value.
    summary: PromotionsSummary | None = field(default=None, compare=False, repr=False)

    @property
    def confirmed(self) -> bool:
        return self.status is QuoteStatus.CONFIRMED

    @property
    def _zero(self) -> Decimal:
        return quantize_money(0, self.currency)

    @property
    def subtotal(self) -> Decimal:
        """Items before discounts (sum of price x quantity)."""
        return sum((line.subtotal for line in self.lines), self._zero)

    @property
    def item_discount_total(self) -> Decimal:
        """The per-item discounts off the items' prices (each line at most its subtotal)."""
        return sum((line.discount for line in self.lines), self._zero)

    @property
    def item_discount_on_costs(self) -> Decimal:
        """The per-item discounts off the lines' own additional costs (scopes
        ``additionalCosts`` and ``itemTotal``; 0 for discounts on the price)."""
        return sum((line.discount_on_costs for line in self.lines), self._zero)

    @property
    def cart_discount_total(self) -> Decimal:
        return sum((d.amount for d in self.cart_discounts), self._zero)

    def cart_discounts_taken(self) -> list[tuple[Discount, Decimal, Decimal]]:
        """Each cart discount with what it takes ``(off the items, off the additional
        costs)``, in the order Talon.One sent them: a discount scoped to ``additionalCosts``
        or ``sessionTotal`` may take from the costs (after their own discounts), any other
        only from the items (after theirs) (:func:`~django_talon.promotions.scopes.take_cart_discounts`)."""
        return list(self._taken)

    @cached_property
    def _taken(self) -> tuple[tuple[Discount, Decimal, Decimal], ...]:
        """:meth:`cart_discounts_taken`, worked out once per quote (the totals, the charged
        discounts and a page's rows all read it; the quote never changes)."""
        taken = take_cart_discounts(
            ((d.scope, d.amount) for d in self.cart_discounts),
            self.subtotal - self.item_discount_total,
            self.additional_cost_total - self.item_discount_on_costs,
        )
        return tuple(
            (d, off_items, off_costs)
            for d, (off_items, off_costs) in zip(self.cart_discounts, taken, strict=True)
        )

    @property
    def cart_discount_on_items(self) -> Decimal:
        """The cart discounts' part taken off the items (what a shop that spreads the cart
        discount over its lines, like django-oscar's, spreads)."""
        return sum((on_items for _, on_items, _ in self._taken), self._zero)

    @property
    def cart_discount_on_costs(self) -> Decimal:
        """The cart discounts' part taken off the additional costs (scopes
        ``additionalCosts`` and ``sessionTotal``; 0 without cascading discounts)."""
        return sum((on_costs for _, _, on_costs in self._taken), self._zero)

    @property
    def cart_discount_applied(self) -> Decimal:
        """The part of :attr:`discount_total` that is not on a line: what a "Discounts" row
        under line totals that are already net of item discounts shows (per-item discounts
        on the lines' own additional costs included)."""
        return self.discount_total - self.item_discount_total

    @property
    def items_total(self) -> Decimal:
        """The lines' totals (each net of its own discounts) added up."""
        return sum((line.total for line in self.lines), self._zero)

    @property
    def points_to_earn(self) -> Decimal:
        return sum((p.points for p in self.loyalty if p.kind == "earn"), Decimal(0))

    @property
    def points_to_spend(self) -> Decimal:
        return sum((p.points for p in self.loyalty if p.kind == "spend"), Decimal(0))

    def line(self, position: int) -> QuoteLine | None:
        return next((line for line in self.lines if line.position == position), None)

    def all_additional_costs(self) -> tuple[AdditionalCost, ...]:
        """The cart's additional costs, then each line's."""
        return (*self.additional_costs, *(c for line in self.lines for c in line.additional_costs))

    @property
    def additional_cost_price(self) -> Decimal:
        """Additional costs (the cart's and the lines') before their discounts."""
        return sum((cost.price for cost in self.all_additional_costs()), self._zero)

    @property
    def additional_cost_discount_total(self) -> Decimal:
        """What the discounts on additional costs take off (each at most its cost)."""
        return sum((cost.discount for cost in self.all_additional_costs()), self._zero)

    @property
    def additional_cost_total(self) -> Decimal:
        """Additional costs (the cart's and the lines') after their own discounts."""
        return sum((cost.total for cost in self.all_additional_costs()), self._zero)

    @property
    def discount_total(self) -> Decimal:
        """Every discount the quote grants on the items and the cart, each at most what it
        may discount: the items' discounts their line, the cart's what the items have left
        (and, scoped to ``additionalCosts`` or ``sessionTotal``, what the additional costs
        have left), never below zero (a discount never raises what the shop charges)."""
        on_cart = sum((on_items + on_costs for _, on_items, on_costs in self._taken), self._zero)
        return self.item_discount_total + self.item_discount_on_costs + on_cart

    @property
    def total(self) -> Decimal:
        """What the shop charges: items and additional costs after every discount, never < 0
        (each discount is at most what it may take from)."""
        return self.subtotal + self.additional_cost_total - self.discount_total

    def charged_discounts(self) -> list[tuple[Discount, Decimal]]:
        """Each discount with the amount actually charged off: a line's discounts up to the
        line's subtotal (and its own additional costs, by scope: :meth:`QuoteLine.discounts_taken`), cart discounts up to what the lines leave (and the additional costs,
        by scope: :meth:`cart_discounts_taken`), an additional cost's up to its price, taken
        in the order Talon.One sent them. They add up to
        :attr:`discount_total` plus the additional costs' discounts."""
        out: list[tuple[Discount, Decimal]] = []

        def take(discounts: tuple[Discount, ...], room: Decimal) -> None:
            for d in discounts:
                amount = max(min(d.amount, room), self._zero)
                room -= amount
                out.append((d, amount))

        for line in self.lines:
            out.extend((d, on_price + on_costs) for d, on_price, on_costs in line._taken)
        out.extend((d, on_items + on_costs) for d, on_items, on_costs in self._taken)
        for cost in self.all_additional_costs():
            take(cost.discounts, cost.price)
        return out

    def discounts_by_campaign(self) -> dict[int | None, Decimal]:
        """The discounts charged (:meth:`charged_discounts`: items, cart, additional costs)
        summed per campaign id: what the ledger compares with what Talon.One books."""
        totals: dict[int | None, Decimal] = {}
        for discount, amount in self.charged_discounts():
            totals[discount.campaign_id] = totals.get(discount.campaign_id, self._zero) + amount
        return totals

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (money as strings) for the ledger, the REST API and logs."""

        def money(value: Decimal) -> str:
            return str(value)

        def discount(d: Discount) -> dict[str, Any]:
            return {
                "name": d.name,
                "amount": money(d.amount),
                "effect_type": d.effect_type,
                "campaign_id": d.campaign_id,
                "position": d.position,
                "additional_cost": d.additional_cost,
                "scope": d.scope,
            }

        def cost(c: AdditionalCost) -> dict[str, Any]:
            return {
                "name": c.name,
                "price": money(c.price),
                "discounts": [discount(d) for d in c.discounts],
                "total": money(c.total),
            }

        return {
            "currency": self.currency,
            "session_id": self.session_id,
            "fingerprint": self.fingerprint,
            "status": self.status.value,
            "message": self.message,
            "lines": [
                {
                    "position": line.position,
                    "sku": line.sku,
                    "name": line.name,
                    "quantity": line.quantity,
                    "unit_price": money(line.unit_price),
                    "subtotal": money(line.subtotal),
                    "discounts": [discount(d) for d in line.discounts],
                    "discount_on_costs": money(line.discount_on_costs),
                    "total": money(line.total),
                    "additional_costs": [cost(c) for c in line.additional_costs],
                }
                for line in self.lines
            ],
            "cart_discounts": [discount(d) for d in self.cart_discounts],
            "additional_costs": [cost(c) for c in self.additional_costs],
            "free_items": [
                {"sku": item.sku, "name": item.name, "quantity": item.desired_quantity}
                for item in self.free_items
            ],
            "coupon_codes": list(self.coupon_codes),
            "referral_code": self.referral_code,
            "loyalty": [
                {"kind": p.kind, "points": str(p.points), "program_id": p.program_id}
                for p in self.loyalty
            ],
            "unusable_effects": len(self.unusable_effects),
            "subtotal": money(self.subtotal),
            "item_discount_total": money(self.item_discount_total),
            "item_discount_on_costs": money(self.item_discount_on_costs),
            "cart_discount_applied": money(self.cart_discount_applied),
            "cart_discount_on_costs": money(self.cart_discount_on_costs),
            "discount_total": money(self.discount_total),
            "additional_cost_price": money(self.additional_cost_price),
            "additional_cost_discount_total": money(self.additional_cost_discount_total),
            "additional_cost_total": money(self.additional_cost_total),
            "total": money(self.total),
            "discounts_by_campaign": {
                str(k): money(v) for k, v in self.discounts_by_campaign().items()
            },
        }
