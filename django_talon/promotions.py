"""One neutral summary of the Talon.One effects stored on a customer session.

Templates, template tags and the REST API all read :class:`PromotionsSummary` (built by
:func:`summarize`) so that the shop shows the same numbers everywhere and no view
re-implements effect logic. The summary is pure: it reads the stored raw effect dicts and a
cart snapshot, never the database and never the API.

Money and rounding
------------------
Talon.One sends amounts as JSON numbers in the Application's currency, sometimes with more
decimals than the currency has (``3.3333``). Each effect amount is converted with
``Decimal(str(value))`` (never through binary floats) and rounded **once, per effect**, to the
currency's minor unit (2 decimals by default, 0 for JPY/KRW/..., 3 for BHD/KWD/...) using
``ROUND_HALF_UP`` unless another rounding mode is passed. Totals are sums of those rounded
amounts, so the discount lines shown always add up to the total shown. The total after
discount never goes below zero (a discount larger than the cart is capped for display).
Loyalty points are not money: they are kept exactly as sent (as ``Decimal``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal

from django_talon.client.effects import EFFECT_TYPES, v1_effect_to_v2
from django_talon.messages import CodeKind, rejection_message

if TYPE_CHECKING:
    from django.http import HttpRequest

    from django_talon.models import CustomerSession
    from django_talon.services.sessions import StoredPromotions

logger = logging.getLogger(__name__)

__all__ = [
    "CartLine",
    "CodeResult",
    "Discount",
    "FreeItem",
    "LoyaltyPoints",
    "Notification",
    "PromotionsSummary",
    "currency_exponent",
    "discount_display_name",
    "quantize_money",
    "summarize",
    "summarize_request",
    "summarize_session",
    "summarize_stored",
]

#: Currencies whose minor unit is not 1/100 (ISO 4217). Everything else uses 2 decimals.
CURRENCY_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}

#: Effect types this summary interprets. Other types the client knows (``EFFECT_TYPES``) go
#: to ``other_effects``; types unknown to the client go to ``unknown_effects``.
SUMMARISED_TYPES = frozenset(
    {
        "setDiscount",
        "setDiscountPerItem",
        "setDiscountPerAdditionalCost",
        "setDiscountPerAdditionalCostPerItem",
        "acceptCoupon",
        "rejectCoupon",
        "acceptReferral",
        "rejectReferral",
        "redeemReferral",
        "addFreeItem",
        "addLoyaltyPoints",
        "deductLoyaltyPoints",
        "showNotification",
    }
)

CodeStatus = Literal["accepted", "rejected", "pending"]


def currency_exponent(currency: str) -> int:
    """Number of decimals of ``currency``'s minor unit (2 when unknown)."""
    return CURRENCY_EXPONENTS.get((currency or "").upper(), 2)


def quantize_money(value: Any, currency: str, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Convert a JSON number/string to a Decimal rounded to ``currency``'s minor unit.

    Bad values become ``0`` with a warning: one malformed effect must not break a cart page.
    """
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
        if not amount.is_finite():
            raise InvalidOperation(str(value))
    except (InvalidOperation, ValueError, TypeError):
        logger.warning("Ignoring non-numeric money amount %r in a Talon.One effect", value)
        amount = Decimal(0)
    exponent = Decimal(1).scaleb(-currency_exponent(currency))
    return amount.quantize(exponent, rounding=rounding)


def _points(value: Any) -> Decimal:
    try:
        points = Decimal(str(value))
        if not points.is_finite():
            return Decimal(0)
        # JSON floats come as 106.0: show whole points as 106, keep real fractions as sent.
        return points.quantize(Decimal(1)) if points == points.to_integral_value() else points
    except (InvalidOperation, ValueError, TypeError):
        logger.warning("Ignoring non-numeric loyalty points %r in a Talon.One effect", value)
        return Decimal(0)


#: Talon.One names a per-item discount effect ``"<rule name>#<position>"`` (and
#: ``#<position>.<sub position>`` for units of one line), so that names are unique per cart
#: item. Shoppers should see the rule name only.
_POSITION_SUFFIX = re.compile(r"#\d+(?:\.\d+)?$")

#: Effect types whose ``name`` carries that suffix.
PER_ITEM_DISCOUNT_TYPES = frozenset({"setDiscountPerItem", "setDiscountPerAdditionalCostPerItem"})


def discount_display_name(name: str, effect_type: str = "setDiscountPerItem") -> str:
    """The name to show for a discount: per-item discounts lose Talon.One's ``#<position>``.

    ``"Coffee 1 off each#0"`` -> ``"Coffee 1 off each"``. Other effect types keep their name
    as sent (a cart discount may legitimately end in ``#1``).
    """
    if effect_type in PER_ITEM_DISCOUNT_TYPES:
        stripped = _POSITION_SUFFIX.sub("", name)
        return stripped or name
    return name


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- data classes


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
class CodeResult:
    """The outcome of one coupon or referral code the shopper entered."""

    code: str
    kind: CodeKind
    status: CodeStatus
    reason: str = ""
    campaign_ids: tuple[int, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"

    @property
    def rejected(self) -> bool:
        return self.status == "rejected"

    @property
    def message(self) -> str:
        """Translated shopper message for a rejection ("" otherwise), in the active language."""
        if self.status != "rejected":
            return ""
        return rejection_message(self.kind, self.reason, self.code)


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
    #: When the effects were received from Talon.One (None: never / not known).
    received_at: datetime | None = None
    #: True when stored effects were older than ``TALON["EFFECTS_MAX_AGE"]`` and were ignored.
    stale: bool = False
    #: False while a newer cart state waits in the outbox ("updating your discounts").
    in_sync: bool = True

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
        """Sum of all rounded discount amounts (cart, item and additional-cost discounts)."""
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
        """Subtotal minus the total discount, never below zero."""
        return max(self.subtotal - self.total_discount, self._zero)

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


# --------------------------------------------------------------------------- building


def _item_field(item: Any, name: str, default: Any = None) -> Any:
    if isinstance(item, Mapping):
        return item.get(name, default)
    return getattr(item, name, default)


def _raw_effect(effect: Any) -> dict[str, Any] | None:
    """Accept a raw effect dict, a decoded client ``Effect`` (which keeps ``.raw``) or a v1
    positional array ``[campaignId, rulesetId, ruleIndex, [name, args...]]``."""
    if isinstance(effect, Mapping):
        return dict(effect)
    if isinstance(effect, list):
        try:
            return v1_effect_to_v2(effect)
        except (TypeError, ValueError, IndexError) as exc:
            logger.warning("Ignoring an undecodable v1 effect %r: %s", effect, exc)
            return None
    raw = getattr(effect, "raw", None)
    if isinstance(raw, Mapping):
        return dict(raw)
    logger.warning("Ignoring an effect that is neither a dict nor a decoded Effect: %r", effect)
    return None


def _build_lines(cart_items: Iterable[Any], currency: str, rounding: str) -> list[CartLine]:
    lines = []
    for index, item in enumerate(cart_items or ()):
        quantity = _int_or_none(_item_field(item, "quantity", 1)) or 0
        unit_price = quantize_money(_item_field(item, "price", 0) or 0, currency, rounding)
        position = _int_or_none(_item_field(item, "position"))
        lines.append(
            CartLine(
                position=index if position is None else position,
                sku=str(_item_field(item, "sku", "") or ""),
                name=str(_item_field(item, "name", "") or ""),
                quantity=quantity,
                unit_price=unit_price,
                subtotal=unit_price * quantity,
                category=str(_item_field(item, "category", "") or ""),
            )
        )
    return lines


class _Codes:
    """Collects accept/reject effects per code: one accept anywhere wins (a code can be
    rejected by one campaign with ``...PartOfNotTriggeredCampaign`` and accepted by another)."""

    def __init__(self, kind: CodeKind) -> None:
        self.kind: CodeKind = kind
        self.order: list[str] = []
        self.accepted: dict[str, list[int]] = {}
        self.rejected: dict[str, tuple[str, list[int]]] = {}

    def _seen(self, code: str) -> None:
        if code not in self.order:
            self.order.append(code)

    def accept(self, code: str, campaign_id: int | None) -> None:
        self._seen(code)
        ids = self.accepted.setdefault(code, [])
        if campaign_id is not None:
            ids.append(campaign_id)

    def reject(self, code: str, reason: str, campaign_id: int | None) -> None:
        self._seen(code)
        first_reason, ids = self.rejected.setdefault(code, (reason, []))
        if campaign_id is not None:
            ids.append(campaign_id)

    def results(self, entered: Sequence[str]) -> list[CodeResult]:
        for code in entered:
            if code:
                self._seen(code)
        out = []
        for code in self.order:
            if code in self.accepted:
                out.append(CodeResult(code, self.kind, "accepted", "", tuple(self.accepted[code])))
            elif code in self.rejected:
                reason, ids = self.rejected[code]
                out.append(CodeResult(code, self.kind, "rejected", reason, tuple(ids)))
            else:
                out.append(CodeResult(code, self.kind, "pending"))
        return out


def summarize(
    effects_raw: Iterable[Any] | None,
    cart_items: Iterable[Any] | None = (),
    currency: str = "EUR",
    *,
    coupon_codes: Sequence[str] = (),
    referral_code: str = "",
    rounding: str = ROUND_HALF_UP,
) -> PromotionsSummary:
    """Build the :class:`PromotionsSummary` for stored effects and a cart snapshot.

    ``effects_raw``: the raw effect dicts stored on the session (decoded ``Effect`` objects
    are accepted too). ``cart_items``: the cart exactly as sent to Talon.One (dicts or
    objects with ``sku``, ``name``, ``quantity``, ``price``, optional ``position``), because
    ``setDiscountPerItem.position`` indexes that list. ``coupon_codes``/``referral_code``:
    the codes the shopper entered; codes without an answer yet are reported as ``pending``.
    Never raises on malformed effects: they are logged and skipped or listed raw.
    """
    summary = PromotionsSummary(currency=(currency or "EUR").upper())
    summary.lines = _build_lines(cart_items or (), summary.currency, rounding)
    by_position = {line.position: line for line in summary.lines}
    coupons, referrals = _Codes("coupon"), _Codes("referral")
    free: dict[str, FreeItem] = {}

    for effect in effects_raw or ():
        raw = _raw_effect(effect)
        if raw is None:
            continue
        etype = str(raw.get("effectType") or "")
        props = raw.get("props") if isinstance(raw.get("props"), Mapping) else {}
        assert isinstance(props, Mapping)
        campaign_id = _int_or_none(raw.get("campaignId"))
        try:
            _apply(
                etype,
                props,
                campaign_id,
                raw,
                summary,
                by_position,
                coupons,
                referrals,
                free,
                rounding,
            )
        except (KeyError, TypeError, ValueError) as exc:
            logger.warning("Malformed %s effect listed raw (%s): %r", etype, exc, raw)
            summary.other_effects.append(raw)

    summary.coupons = coupons.results(coupon_codes)
    summary.referrals = referrals.results([referral_code] if referral_code else [])
    summary.free_items = list(free.values())
    return summary


def _apply(
    etype: str,
    props: Mapping[str, Any],
    campaign_id: int | None,
    raw: dict[str, Any],
    summary: PromotionsSummary,
    by_position: dict[int, CartLine],
    coupons: _Codes,
    referrals: _Codes,
    free: dict[str, FreeItem],
    rounding: str,
) -> None:
    currency = summary.currency
    if etype in ("setDiscount", "setDiscountPerAdditionalCost"):
        raw_name = str(props.get("name", ""))
        summary.cart_discounts.append(
            Discount(
                name=raw_name,
                amount=quantize_money(props["value"], currency, rounding),
                effect_type=etype,
                campaign_id=campaign_id,
                scope=str(props.get("scope") or ""),
                additional_cost=str(props.get("additionalCost") or ""),
                raw_name=raw_name,
            )
        )
    elif etype in ("setDiscountPerItem", "setDiscountPerAdditionalCostPerItem"):
        position = _int_or_none(props.get("position"))
        raw_name = str(props.get("name", ""))
        discount = Discount(
            name=discount_display_name(raw_name, etype),
            amount=quantize_money(props["value"], currency, rounding),
            effect_type=etype,
            campaign_id=campaign_id,
            scope=str(props.get("scope") or ""),
            position=position,
            sub_position=_int_or_none(props.get("subPosition")),
            additional_cost=str(props.get("additionalCost") or ""),
            raw_name=raw_name,
        )
        summary.item_discounts.append(discount)
        if position is not None and position in by_position:
            by_position[position].discounts.append(discount)
        else:
            logger.warning("%s for unknown cart position %r", etype, position)
    elif etype == "acceptCoupon":
        coupons.accept(str(props["value"]), campaign_id)
    elif etype == "rejectCoupon":
        coupons.reject(str(props["value"]), str(props.get("rejectionReason") or ""), campaign_id)
    elif etype in ("acceptReferral", "redeemReferral"):
        referrals.accept(str(props["value"]), campaign_id)
    elif etype == "rejectReferral":
        referrals.reject(str(props["value"]), str(props.get("rejectionReason") or ""), campaign_id)
    elif etype == "addFreeItem":
        sku = str(props["sku"])
        desired = _int_or_none(props.get("desiredQuantity")) or 1
        in_cart = sum(line.quantity for line in summary.lines if line.sku == sku)
        previous = free.get(sku)
        if previous is not None:
            desired = max(desired, previous.desired_quantity)
        free[sku] = FreeItem(sku, str(props.get("name") or sku), desired, in_cart, campaign_id)
    elif etype in ("addLoyaltyPoints", "deductLoyaltyPoints"):
        summary.loyalty.append(
            LoyaltyPoints(
                kind="earn" if etype == "addLoyaltyPoints" else "spend",
                points=_points(props["value"]),
                program_id=_int_or_none(props.get("programId")),
                sub_ledger_id=str(props.get("subLedgerId") or ""),
                name=str(props.get("name") or props.get("ruleTitle") or ""),
                recipient_integration_id=str(props.get("recipientIntegrationId") or ""),
                campaign_id=campaign_id,
            )
        )
    elif etype == "showNotification":
        summary.notifications.append(
            Notification(
                notification_type=str(props.get("notificationType") or "Info"),
                title=str(props.get("title") or ""),
                body=str(props.get("body") or ""),
                campaign_id=campaign_id,
            )
        )
    elif etype in EFFECT_TYPES:
        # Documented type the summary does not interpret (webhooks, custom effects, ...).
        summary.other_effects.append(raw)
    else:
        summary.unknown_effects.append(raw)


def summarize_stored(stored: StoredPromotions) -> PromotionsSummary:
    """The summary for ``services.get_promotions(...)``'s answer (the mirror, no API call).

    CORE decides what is shown (effects older than ``TALON["EFFECTS_MAX_AGE"]`` are dropped
    and flagged ``stale``); this turns it into the display summary, including codes that are
    still waiting for Talon.One's answer (``pending``).
    """
    summary = summarize(
        stored.effects_raw,
        stored.cart_items,
        stored.currency,
        coupon_codes=stored.coupon_codes,
        referral_code=stored.referral_code,
    )
    summary.received_at = stored.received_at
    summary.stale = stored.stale
    summary.in_sync = stored.in_sync
    return summary


def summarize_session(session: CustomerSession | None) -> PromotionsSummary:
    """The summary for a stored ``CustomerSession`` (``None`` gives an empty cart summary)."""
    from django_talon.services import get_promotions

    if session is None:
        from django_talon.conf import talon_settings

        return summarize([], [], str(talon_settings.CURRENCY or "EUR"))
    return summarize_stored(get_promotions(session))


def summarize_request(request: HttpRequest) -> PromotionsSummary:
    """The summary for the current visitor's cart (one or two queries, no API call)."""
    from django_talon.services import get_promotions

    return summarize_stored(get_promotions(request=request))


# --------------------------------------------------------------------------- loyalty balance

_BALANCE_CACHE_KEY = "django_talon:loyalty:{}"


@dataclass(frozen=True)
class LoyaltyBalance:
    """Last known balance of one loyalty programme (from a customer inventory answer)."""

    program_id: int | None
    title: str
    current: Decimal
    pending: Decimal = Decimal(0)


def loyalty_balances_from_inventory(inventory: Mapping[str, Any] | None) -> list[LoyaltyBalance]:
    """Extract per-programme balances from a ``CustomerInventory`` JSON body.

    Parts of the wrong shape are skipped (an answer is data from the network: a page or the
    REST endpoint showing the balance must not fail on it).
    """
    loyalty = inventory.get("loyalty") if isinstance(inventory, Mapping) else None
    programs = loyalty.get("programs") if isinstance(loyalty, Mapping) else None
    out: list[LoyaltyBalance] = []
    if not isinstance(programs, Mapping):
        return out
    for key, program in programs.items():
        if not isinstance(program, Mapping):
            continue
        ledger = program.get("ledger")
        if not isinstance(ledger, Mapping):
            ledger = {}
        out.append(
            LoyaltyBalance(
                program_id=_int_or_none(program.get("id", key)),
                title=str(program.get("title") or program.get("name") or key),
                current=_points(ledger.get("currentBalance", 0)),
                pending=_points(ledger.get("pendingBalance", 0)),
            )
        )
    return out


def remember_inventory(integration_id: str, inventory: Mapping[str, Any] | None) -> None:
    """Keep the loyalty part of an inventory answer so pages can show it without an API call.

    Called by the REST "my inventory" endpoint (and by shops after they fetch an inventory);
    stored in the ``TALON["CACHE_ALIAS"]`` cache for a day.
    """
    from django.core.cache import caches

    from django_talon.conf import talon_settings

    if not integration_id:
        return
    balances = loyalty_balances_from_inventory(inventory)
    caches[talon_settings.CACHE_ALIAS].set(
        _BALANCE_CACHE_KEY.format(integration_id), balances, 24 * 3600
    )


def known_loyalty_balances(integration_id: str) -> list[LoyaltyBalance] | None:
    """The balances last remembered for a profile (None when never fetched). No API call."""
    from django.core.cache import caches

    from django_talon.conf import talon_settings

    if not integration_id:
        return None
    value = caches[talon_settings.CACHE_ALIAS].get(_BALANCE_CACHE_KEY.format(integration_id))
    return value if isinstance(value, list) else None
