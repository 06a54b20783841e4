"""Building the :class:`PromotionsSummary` from typed effects and a cart snapshot.

Effects are interpreted once, by the client's decoder (:mod:`django_talon.client.effects`):
this module reads the decoded ``Effect`` objects and dispatches on their class through
:data:`HANDLERS`, never on ``effectType`` strings, so a type the client learns to decode is
a new row in the table instead of one more string comparison somewhere in the shop layer.

The API treats effect types as open. A documented type without a handler here (webhooks,
custom effects, rollbacks, ...) is listed raw in ``other_effects``; a type the client does
not know (``UnknownEffect``) in ``unknown_effects``. A documented effect missing a prop it
cannot do without (a discount without ``value``) is logged and listed in ``other_effects``
as well, so the cart page still renders. An effect whose amount cannot be money (NaN,
Infinity, ``1e29``: see :func:`~django_talon.promotions.money.money_amount`), a discount
below zero (``-50`` would be a surcharge: :func:`~django_talon.promotions.money.discount_amount`)
and a free item whose quantity is not 1..10,000 (:func:`free_item_quantity`) are logged and
listed in ``unusable_effects``: they are neither shown nor charged, and nothing crashes on
them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django_talon.client.effects import (
    AcceptCoupon,
    AcceptReferral,
    AddFreeItem,
    AddLoyaltyPoints,
    AwardGiveaway,
    CouponCreated,
    DeductLoyaltyPoints,
    Effect,
    RedeemReferral,
    ReferralCreated,
    RejectCoupon,
    RejectReferral,
    SetDiscount,
    SetDiscountPerAdditionalCost,
    SetDiscountPerAdditionalCostPerItem,
    SetDiscountPerItem,
    ShowNotification,
    UnknownEffect,
    decode_effect,
)
from django_talon.promotions.codes import CodeCollector
from django_talon.promotions.money import (
    UnusableAmountError,
    discount_amount,
    free_quantity,
    int_or_none,
    points,
    quantize_money,
)
from django_talon.promotions.summary import (
    AdditionalCost,
    CartLine,
    CreatedCode,
    Discount,
    FreeItem,
    Giveaway,
    LoyaltyPoints,
    Notification,
    PromotionsSummary,
)

logger = logging.getLogger("django_talon.promotions")

__all__ = [
    "HANDLERS",
    "PER_ITEM_DISCOUNT_TYPES",
    "SUMMARISED_TYPES",
    "discount_display_name",
    "free_item_quantity",
    "summarize",
]

#: Talon.One names a per-item discount effect ``"<rule name>#<position>"`` (and
#: ``#<position>.<sub position>`` for units of one line), so that names are unique per cart
#: item. Shoppers should see the rule name only.
_POSITION_SUFFIX = re.compile(r"#\d+(?:\.\d+)?$")

#: Discount effects on one cart line; their ``name`` carries the ``#<position>`` suffix.
_PER_ITEM_DISCOUNTS: tuple[type[Effect], ...] = (
    SetDiscountPerItem,
    SetDiscountPerAdditionalCostPerItem,
)

#: Effect types whose ``name`` carries that suffix (the strings, for callers that only have
#: a stored ``Discount.effect_type``).
PER_ITEM_DISCOUNT_TYPES = frozenset(cls.EFFECT_TYPE for cls in _PER_ITEM_DISCOUNTS)


def _strip_position(name: str) -> str:
    return _POSITION_SUFFIX.sub("", name) or name


def discount_display_name(name: str, effect_type: str = SetDiscountPerItem.EFFECT_TYPE) -> str:
    """The name to show for a discount: per-item discounts lose Talon.One's ``#<position>``.

    ``"Coffee 1 off each#0"`` -> ``"Coffee 1 off each"``. Other effect types keep their name
    as sent (a cart discount may legitimately end in ``#1``).
    """
    return _strip_position(name) if effect_type in PER_ITEM_DISCOUNT_TYPES else name


# --------------------------------------------------------------------------- typed props


def _prop_field(effect: Effect, attribute: str) -> tuple[str, Callable[[Any], Any]]:
    """The prop name and converter the client's decoder uses for ``attribute``."""
    for name, prop, converter, _default in type(effect).PROP_FIELDS:
        if name == attribute:
            return prop, converter
    raise AttributeError(f"{type(effect).__name__} has no prop field {attribute!r}")


def _require(effect: Effect, attribute: str) -> None:
    """Raise ``KeyError`` when Talon.One left out the prop behind ``attribute``.

    The decoder fills a missing prop with a neutral default; for the few props a summary
    line cannot do without (an amount, a code, a SKU) that would show something the rule
    engine never said, so such an effect is listed raw instead.
    """
    prop, _converter = _prop_field(effect, attribute)
    if prop not in effect.props:
        raise KeyError(prop)


def _sent(effect: Effect, attribute: str) -> bool:
    """True when ``attribute`` holds a value Talon.One sent, False when it is the decoder's
    default for a missing or malformed prop (``position=0`` must not mean "first line")."""
    prop, converter = _prop_field(effect, attribute)
    return converter(effect.props.get(prop)) is not None


def _amount(effect: Effect, attribute: str, convert: Callable[[Any], Decimal]) -> Decimal:
    """A required number prop through ``convert`` (money rounding or points).

    A malformed value is handed to ``convert`` as sent: the converters turn it into ``0``
    and log it, exactly as for any other bad number from the network.
    """
    _require(effect, attribute)
    if _sent(effect, attribute):
        return convert(getattr(effect, attribute))
    prop, _converter = _prop_field(effect, attribute)
    return convert(effect.props.get(prop))


# --------------------------------------------------------------------------- handlers


@dataclass
class _Building:
    """The summary being built plus what the handlers collect across effects."""

    summary: PromotionsSummary
    rounding: str
    by_position: dict[int, CartLine] = field(default_factory=dict)
    coupons: CodeCollector = field(default_factory=lambda: CodeCollector("coupon"))
    referrals: CodeCollector = field(default_factory=lambda: CodeCollector("referral"))
    free: dict[str, FreeItem] = field(default_factory=dict)
    #: discounts on the cart-level additional costs, per cost name
    cost_discounts: dict[str, list[Discount]] = field(default_factory=dict)

    def money(self, effect: Effect) -> Decimal:
        """The discount effect's ``value`` rounded once to the currency's minor unit (raises
        :class:`UnusableAmountError` for an amount that cannot be money or is negative)."""
        return _amount(
            effect,
            "value",
            lambda value: discount_amount(value, self.summary.currency, self.rounding),
        )


def _cart_discount(effect: SetDiscount, b: _Building) -> None:
    b.summary.cart_discounts.append(
        Discount(
            name=effect.name,
            amount=b.money(effect),
            effect_type=effect.effect_type,
            campaign_id=effect.campaign_id,
            scope=effect.scope or "",
            raw_name=effect.name,
        )
    )


def _cost_discount(effect: SetDiscountPerAdditionalCost, b: _Building) -> None:
    """Money off a cart-level additional cost (free shipping): off the cost, not the items."""
    _require(effect, "additional_cost")
    discount = Discount(
        name=effect.name,
        amount=b.money(effect),
        effect_type=effect.effect_type,
        campaign_id=effect.campaign_id,
        additional_cost=effect.additional_cost,
        raw_name=effect.name,
    )
    b.summary.additional_cost_discounts.append(discount)
    b.cost_discounts.setdefault(effect.additional_cost, []).append(discount)


def _item_discount(
    effect: SetDiscountPerItem | SetDiscountPerAdditionalCostPerItem, b: _Building
) -> None:
    """Money off one cart line; for ``setDiscountPerAdditionalCostPerItem`` off the line's
    additional cost (listed with the additional-cost discounts, never off the item)."""
    position = effect.position if _sent(effect, "position") else None
    on_cost = isinstance(effect, SetDiscountPerAdditionalCostPerItem)
    additional_cost = ""
    if isinstance(effect, SetDiscountPerAdditionalCostPerItem):
        _require(effect, "additional_cost")
        additional_cost = effect.additional_cost
    discount = Discount(
        name=_strip_position(effect.name),
        amount=b.money(effect),
        effect_type=effect.effect_type,
        campaign_id=effect.campaign_id,
        scope=(effect.scope or "") if isinstance(effect, SetDiscountPerItem) else "",
        position=position,
        sub_position=effect.sub_position,
        additional_cost=additional_cost,
        raw_name=effect.name,
    )
    (b.summary.additional_cost_discounts if on_cost else b.summary.item_discounts).append(discount)
    line = b.by_position.get(position) if position is not None else None
    if line is None:
        logger.warning("%s for unknown cart position %r", effect.effect_type, position)
    elif on_cost:
        line.cost_discounts.append(discount)
    else:
        line.discounts.append(discount)


def _accept_coupon(effect: AcceptCoupon, b: _Building) -> None:
    _require(effect, "value")
    b.coupons.accept(effect.value, effect.campaign_id)


def _reject_coupon(effect: RejectCoupon, b: _Building) -> None:
    _require(effect, "value")
    b.coupons.reject(effect.value, effect.rejection_reason, effect.campaign_id)


def _accept_referral(effect: AcceptReferral | RedeemReferral, b: _Building) -> None:
    _require(effect, "value")
    b.referrals.accept(effect.value, effect.campaign_id)


def _reject_referral(effect: RejectReferral, b: _Building) -> None:
    _require(effect, "value")
    b.referrals.reject(effect.value, effect.rejection_reason, effect.campaign_id)


def free_item_quantity(effect: AddFreeItem) -> int:
    """How many units of ``effect.sku`` the effect grants: ``desiredQuantity``, 1 when not
    sent. The summary and ``services.free_items`` (which puts the line into the cart) both
    read it here, so what is shown is what is added.

    Raises :class:`UnusableAmountError` for a quantity that is not a whole number or not
    within 1..:data:`~django_talon.promotions.money.MAX_FREE_QUANTITY` (``0``, ``-3``,
    ``10**12``): such a grant is neither shown nor added.
    """
    prop, _converter = _prop_field(effect, "desired_quantity")
    sent = effect.props.get(prop)
    if sent is not None and not _sent(effect, "desired_quantity"):
        raise UnusableAmountError(f"free item quantity {sent!r} is not a whole number")
    return free_quantity(effect.desired_quantity)


def _free_item(effect: AddFreeItem, b: _Building) -> None:
    """One entry per SKU: two campaigns giving the same item ask for the larger quantity."""
    _require(effect, "sku")
    sku = effect.sku
    desired = free_item_quantity(effect)
    in_cart = sum(line.quantity for line in b.summary.lines if line.sku == sku)
    previous = b.free.get(sku)
    if previous is not None:
        desired = max(desired, previous.desired_quantity)
    b.free[sku] = FreeItem(sku, effect.name or sku, desired, in_cart, effect.campaign_id)


def _coupon_created(effect: CouponCreated, b: _Building) -> None:
    _require(effect, "value")
    b.summary.created_codes.append(
        CreatedCode("coupon", effect.value, effect.profile_id, effect.campaign_id)
    )


def _referral_created(effect: ReferralCreated, b: _Building) -> None:
    _require(effect, "value")
    b.summary.created_codes.append(CreatedCode("referral", effect.value, "", effect.campaign_id))


def _giveaway(effect: AwardGiveaway, b: _Building) -> None:
    _require(effect, "code")
    b.summary.giveaways.append(
        Giveaway(
            code=effect.code,
            pool_id=effect.pool_id,
            pool_name=effect.pool_name,
            recipient_integration_id=effect.recipient_integration_id,
            campaign_id=effect.campaign_id,
        )
    )


def _ledger_fields(effect: AddLoyaltyPoints | DeductLoyaltyPoints) -> dict[str, Any]:
    """What earning and spending have in common: the points and the ledger they go to."""
    return {
        "points": _amount(effect, "value", points),
        "program_id": effect.program_id if _sent(effect, "program_id") else None,
        "sub_ledger_id": effect.sub_ledger_id,
        "campaign_id": effect.campaign_id,
    }


def _earn_points(effect: AddLoyaltyPoints, b: _Building) -> None:
    b.summary.loyalty.append(
        LoyaltyPoints(
            kind="earn",
            name=effect.name,
            recipient_integration_id=effect.recipient_integration_id,
            **_ledger_fields(effect),
        )
    )


def _spend_points(effect: DeductLoyaltyPoints, b: _Building) -> None:
    b.summary.loyalty.append(
        LoyaltyPoints(kind="spend", name=effect.name or effect.rule_title, **_ledger_fields(effect))
    )


def _notification(effect: ShowNotification, b: _Building) -> None:
    b.summary.notifications.append(
        Notification(
            notification_type=effect.notification_type or "Info",
            title=effect.title,
            body=effect.body,
            campaign_id=effect.campaign_id,
        )
    )


#: Effect class -> what it adds to the summary. Looked up by the decoded object's exact
#: class (the decoder builds exactly these classes).
HANDLERS: Mapping[type[Effect], Callable[[Any, _Building], None]] = {
    SetDiscount: _cart_discount,
    SetDiscountPerAdditionalCost: _cost_discount,
    SetDiscountPerItem: _item_discount,
    SetDiscountPerAdditionalCostPerItem: _item_discount,
    AcceptCoupon: _accept_coupon,
    RejectCoupon: _reject_coupon,
    AcceptReferral: _accept_referral,
    RedeemReferral: _accept_referral,
    RejectReferral: _reject_referral,
    AddFreeItem: _free_item,
    AddLoyaltyPoints: _earn_points,
    DeductLoyaltyPoints: _spend_points,
    ShowNotification: _notification,
    CouponCreated: _coupon_created,
    ReferralCreated: _referral_created,
    AwardGiveaway: _giveaway,
}

#: Effect types this summary interprets. Other types the client knows go to
#: ``other_effects``; types unknown to the client go to ``unknown_effects``.
SUMMARISED_TYPES = frozenset(cls.EFFECT_TYPE for cls in HANDLERS)


# --------------------------------------------------------------------------- building


def _item_field(item: Any, name: str, default: Any = None) -> Any:
    if isinstance(item, Mapping):
        return item.get(name, default)
    return getattr(item, name, default)


def _decoded(effect: Any) -> Effect | None:
    """Accept a raw effect dict, a v1 positional array ``[campaignId, rulesetId, ruleIndex,
    [name, args...]]`` or anything with a raw dict in ``.raw`` (a decoded client ``Effect``),
    and decode it from its raw form."""
    if isinstance(effect, (Mapping, list)):
        return decode_effect(effect)
    raw = getattr(effect, "raw", None)
    if isinstance(raw, Mapping):
        return decode_effect(raw)
    logger.warning("Ignoring an effect that is neither a dict nor a decoded Effect: %r", effect)
    return None


def _build_lines(cart_items: Iterable[Any], currency: str, rounding: str) -> list[CartLine]:
    lines = []
    for index, item in enumerate(cart_items or ()):
        quantity = int_or_none(_item_field(item, "quantity", 1)) or 0
        unit_price = quantize_money(_item_field(item, "price", 0) or 0, currency, rounding)
        position = int_or_none(_item_field(item, "position"))
        lines.append(
            CartLine(
                position=index if position is None else position,
                sku=str(_item_field(item, "sku", "") or ""),
                name=str(_item_field(item, "name", "") or ""),
                quantity=quantity,
                unit_price=unit_price,
                subtotal=unit_price * quantity,
                category=str(_item_field(item, "category", "") or ""),
                additional_costs=_cost_prices(
                    _item_field(item, "additionalCosts"), currency, rounding
                ),
            )
        )
    return lines


def _cost_prices(costs: Any, currency: str, rounding: str) -> dict[str, Decimal]:
    """``{name: {"price": n}}`` (or ``{name: n}``) as name -> rounded price."""
    if not isinstance(costs, Mapping):
        return {}
    prices: dict[str, Decimal] = {}
    for name, cost in costs.items():
        value = cost.get("price", 0) if isinstance(cost, Mapping) else cost
        prices[str(name)] = quantize_money(value or 0, currency, rounding)
    return prices


def _cart_costs(
    costs: Mapping[str, Any] | None, b: _Building, currency: str, rounding: str
) -> list[AdditionalCost]:
    """The session's additional costs with their discounts; a discount on a cost the cart
    does not have is kept on a cost of price 0 (shown, and charged as nothing)."""
    prices = _cost_prices(costs, currency, rounding)
    zero = quantize_money(0, currency, rounding)
    names = [*prices, *(name for name in b.cost_discounts if name not in prices)]
    return [
        AdditionalCost(
            name=name,
            price=prices.get(name, zero),
            discounts=tuple(b.cost_discounts.get(name, ())),
        )
        for name in names
    ]


def _add(effect: Effect, b: _Building) -> None:
    handler = HANDLERS.get(type(effect))
    if handler is not None:
        try:
            handler(effect, b)
        except UnusableAmountError as exc:
            logger.warning(
                "Unusable %s effect listed apart (%s): %r", effect.effect_type, exc, effect.raw
            )
            b.summary.unusable_effects.append(effect.raw)
        except (KeyError, TypeError, ValueError) as exc:
            logger.warning(
                "Malformed %s effect listed raw (%s): %r", effect.effect_type, exc, effect.raw
            )
            b.summary.other_effects.append(effect.raw)
    elif isinstance(effect, UnknownEffect):
        b.summary.unknown_effects.append(effect.raw)
    else:
        # Documented type the summary does not interpret (webhooks, custom effects, ...).
        b.summary.other_effects.append(effect.raw)


def summarize(
    effects_raw: Iterable[Any] | None,
    cart_items: Iterable[Any] | None = (),
    currency: str = "EUR",
    *,
    coupon_codes: Sequence[str] = (),
    referral_code: str = "",
    rounding: str = ROUND_HALF_UP,
    additional_costs: Mapping[str, Any] | None = None,
) -> PromotionsSummary:
    """Build the :class:`PromotionsSummary` for stored effects and a cart snapshot.

    ``effects_raw``: the raw effect dicts stored on the session (decoded ``Effect`` objects
    are accepted too). ``cart_items``: the cart exactly as sent to Talon.One (dicts or
    objects with ``sku``, ``name``, ``quantity``, ``price``, optional ``position``), because
    ``setDiscountPerItem.position`` indexes that list. ``coupon_codes``/``referral_code``:
    the codes the shopper entered; codes without an answer yet are reported as ``pending``.
    ``additional_costs``: the session's ``additionalCosts`` as sent (``{name: {"price": n}}``);
    an item's own costs are read from its ``additionalCosts``.
    Never raises on malformed effects: they are logged and skipped or listed raw.
    """
    summary = PromotionsSummary(currency=(currency or "EUR").upper())
    summary.lines = _build_lines(cart_items or (), summary.currency, rounding)
    b = _Building(summary, rounding, by_position={line.position: line for line in summary.lines})
    for item in effects_raw or ():
        effect = _decoded(item)
        if effect is not None:
            _add(effect, b)
    summary.coupons = b.coupons.results(coupon_codes)
    summary.referrals = b.referrals.results([referral_code] if referral_code else [])
    summary.free_items = list(b.free.values())
    summary.additional_costs = _cart_costs(additional_costs, b, summary.currency, rounding)
    return summary
