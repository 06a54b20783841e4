"""What a firing campaign produces: discounts (cart, items, additional costs), free items,
loyalty points and achievement progress (those two: :mod:`.loyalty`), notifications, and
the codes closing hands out (:mod:`.handouts`).

Effects come in the v2 object shape; :func:`to_v1_effect` turns one into the v1 positional
wire format.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django_talon.client.effects import encode_v1_effect
from django_talon.emulator.engine.context import (
    EvalContext,
    Lookups,
    effect_head,
    matches_item,
)
from django_talon.emulator.engine.handouts import HANDOUT_MAKERS
from django_talon.emulator.engine.loyalty import (
    add_loyalty_points,
    deduct_loyalty_points,
    increase_achievement_progress,
    prepared_add_loyalty_points,
)
from django_talon.emulator.engine.scoped import (
    ADDITIONAL_COSTS,
    ITEM_TOTAL,
    scoped_set_discount,
    scoped_set_discount_per_item,
)
from django_talon.emulator.models import Campaign
from django_talon.emulator.util import is_number, money, round_cents

#: (campaign, effect spec, context, lookups, cart amount left to discount) -> (effects, left)
EffectMaker = Callable[
    [Campaign, dict[str, Any], EvalContext, Lookups, float], tuple[list[dict[str, Any]], float]
]


#: one prepared effect: (context, lookups, cart amount left) -> (effects, left)
Prepared = Callable[[EvalContext, Lookups, float], tuple[list[dict[str, Any]], float]]


def apply_effects(
    campaign: Campaign, ctx: EvalContext, lookups: Lookups, remaining: float
) -> tuple[list[dict[str, Any]], float]:
    """The campaign's effects in file order; discounts never exceed what is left of the cart."""
    cached = campaign.plan
    if cached is None or cached[0] is not campaign.effects:
        # Built on first use, and again when the campaign's effects are replaced (the control
        # API and tests assign a new list: ``campaign.effects = [...]``).
        cached = campaign.plan = (campaign.effects, prepare_effects(campaign))
    plan: list[Prepared] = cached[1]
    if len(plan) == 1:  # the usual campaign: one effect, whose list is fresh
        return plan[0](ctx, lookups, remaining)
    produced: list[dict[str, Any]] = []
    for run in plan:
        effects, remaining = run(ctx, lookups, remaining)
        produced += effects
    return produced, remaining


def prepare_effects(campaign: Campaign) -> list[Prepared]:
    """The campaign's effects, each ready to run: what depends only on the campaign file is
    worked out once per campaign (and store reset) instead of once per evaluation.

    Why (issue 13): an effect that always looks the same (a free item, a notification) was
    built field by field, and every discount looked up and checked its spec again, on every
    session update. Each prepared effect gives exactly what its maker gives (the makers stay
    the reference; tests/emulator/test_throughput_engine.py compares them).
    """
    plan: list[Prepared] = []
    for spec in campaign.effects:
        kind = spec["type"]
        if kind in _CONSTANT_PROPS:
            plan.append(_constant_effect(campaign, kind, _CONSTANT_PROPS[kind](campaign, spec)))
        elif kind == "setDiscount":
            plan.append(_prepared_set_discount(campaign, spec))
        elif kind == "setDiscountPerItem":
            plan.append(_prepared_set_discount_per_item(campaign, spec))
        elif kind == "addLoyaltyPoints":
            points = prepared_add_loyalty_points(campaign, spec)
            plan.append(points or _bound(add_loyalty_points, campaign, spec))
        elif kind in EFFECT_MAKERS:
            plan.append(_bound(EFFECT_MAKERS[kind], campaign, spec))
    return plan


def _bound(make: EffectMaker, campaign: Campaign, spec: dict[str, Any]) -> Prepared:
    """The maker with its campaign and spec bound (a ``partial``: no Python frame of its
    own between the plan and the maker)."""
    return partial(make, campaign, spec)


def _constant_effect(campaign: Campaign, kind: str, props: dict[str, Any]) -> Prepared:
    """An effect whose every field comes from the campaign file: a fresh copy per run."""
    head = effect_head(campaign, kind, {})

    def run(ctx: EvalContext, lookups: Lookups, remaining: float) -> Any:
        effect = dict(head)
        effect["props"] = dict(props)
        return [effect], remaining

    return run


def _prepared_set_discount(campaign: Campaign, spec: dict[str, Any]) -> Prepared:
    """``_set_discount`` with the spec read once."""
    percent = float(spec["percent"]) if is_number(spec.get("percent")) else None
    fixed = money(float(spec["amount"])) if percent is None else 0.0
    head = effect_head(campaign, "setDiscount", {})
    name = _effect_name(campaign, spec)
    if "scope" in spec:  # cascading discounts: engine/scoped.py
        return _scoped(scoped_set_discount, campaign, spec, name)

    def run(ctx: EvalContext, lookups: Lookups, remaining: float) -> Any:
        value = money(ctx.subtotal * percent / 100) if percent is not None else fixed
        value = money(min(value, remaining))
        if value <= 0:
            return [], remaining
        effect = dict(head)
        effect["props"] = {"name": name, "value": value}
        return [effect], money(remaining - value)

    return run


def _effect_name(campaign: Campaign, spec: dict[str, Any]) -> str:
    return str(spec.get("name", campaign.name))


def _scoped(
    make: Callable[[Campaign, dict[str, Any], str, EvalContext, float], Any],
    campaign: Campaign,
    spec: dict[str, Any],
    name: str,
) -> Prepared:
    """A scoped discount's maker (engine/scoped.py) prepared: it needs no lookups."""

    def run(ctx: EvalContext, lookups: Lookups, remaining: float) -> Any:
        return make(campaign, spec, name, ctx, remaining)

    return run


def _set_discount(
    campaign: Campaign, spec: dict[str, Any], ctx: EvalContext, lookups: Lookups, remaining: float
) -> tuple[list[dict[str, Any]], float]:
    if "scope" in spec:
        return scoped_set_discount(campaign, spec, _effect_name(campaign, spec), ctx, remaining)
    if is_number(spec.get("percent")):
        value = money(ctx.subtotal * float(spec["percent"]) / 100)
    else:
        value = money(float(spec["amount"]))
    value = money(min(value, remaining))
    if value <= 0:
        return [], remaining
    remaining = money(remaining - value)
    name = _effect_name(campaign, spec)
    return [effect_head(campaign, "setDiscount", {"name": name, "value": value})], remaining


def _set_discount_per_item(
    campaign: Campaign, spec: dict[str, Any], ctx: EvalContext, lookups: Lookups, remaining: float
) -> tuple[list[dict[str, Any]], float]:
    """One effect per discounted unit of every matching cart item.

    A unit is discounted at most down to zero across campaigns, as Talon.One does: what
    earlier campaigns took off it is in ``ctx.unit_left``, and a discount cut to what is left
    carries the rule's ``desiredValue`` (a unit with nothing left gets no effect). The cart
    amount left to discount (``remaining``) bounds every unit too.

    The hottest loop of a session update (once per discounted unit), so it is written out:
    ``matches_item`` and ``money`` inlined (``round_cents(x) + 0.0`` is ``money(x)``: adding 0.0
    turns a rounded ``-0.0`` into ``0.0``), a unit's value is its per-unit discount as
    computed once per item unless the cart amount or the unit's price left is smaller, and
    what is left of each unit is a list per line (indexed by sub-position: no tuple key to
    build and hash per unit).
    """
    return _prepared_set_discount_per_item(campaign, spec)(ctx, lookups, remaining)


def _prepared_set_discount_per_item(campaign: Campaign, spec: dict[str, Any]) -> Prepared:
    """:func:`_set_discount_per_item` with the spec and the campaign read once (the maker
    is this, prepared and run at once: one code for both)."""
    name = _effect_name(campaign, spec)
    if spec.get("scope") in (ADDITIONAL_COSTS, ITEM_TOTAL):  # engine/scoped.py
        return _scoped(scoped_set_discount_per_item, campaign, spec, name)
    scope = spec.get("scope")  # "price" (cascading discounts on) or none
    percent = float(spec["percent"]) if is_number(spec.get("percent")) else None
    amount = None if percent is not None else float(spec["amount"])
    sku, category = spec.get("sku"), spec.get("category")
    check_sku, check_category = "sku" in spec, "category" in spec
    # effect_head's shape; each unit's effect is a copy (a dict copied is about half the
    # work of a dict display of the same keys: the keys come along as they are)
    head: dict[str, Any] = effect_head(campaign, "setDiscountPerItem", {})
    cents = round_cents

    def run(ctx: EvalContext, lookups: Lookups, remaining: float) -> Any:
        produced: list[dict[str, Any]] = []
        append, unit_left = produced.append, ctx.unit_left
        for position, item in enumerate(ctx.cart_items):
            if (check_sku and item.get("sku") != sku) or (
                check_category and item.get("category") != category
            ):
                continue
            if remaining <= 0:
                break  # (each unit would stop at once: no effect, nothing to record)
            unit_price = float(item["price"])
            if amount is None:
                per_unit = cents(unit_price * percent / 100 + 0.0) + 0.0  # type: ignore[operator]
            else:
                per_unit = cents(min(amount, unit_price) + 0.0) + 0.0
            # the props of this line's units (name, value, position, subPosition): copied
            line_props: dict[str, Any] = {
                "name": f"{name}#{position}",
                "value": 0.0,
                "position": position,
                "subPosition": 0,
            }
            if scope is not None:
                line_props["scope"] = scope
            quantity = int(item["quantity"])
            lefts = unit_left.get(position)
            if lefts is None:
                lefts = unit_left[position] = [unit_price] * quantity
            for sub in range(quantity):
                if remaining <= 0:
                    break
                wanted = per_unit if per_unit <= remaining else cents(remaining + 0.0) + 0.0
                left = lefts[sub]
                value = wanted if wanted <= left else cents(left + 0.0) + 0.0
                if value <= 0:
                    continue  # nothing left of this unit: the next may still have room
                lefts[sub] = left - value
                remaining = cents(remaining - value) + 0.0
                props = line_props.copy()
                props["value"] = value
                props["subPosition"] = sub
                if value != wanted:
                    props["desiredValue"] = wanted
                effect = head.copy()
                effect["props"] = props
                append(effect)
        return produced, remaining

    return run


def _cost_discount(spec: dict[str, Any], price: float, left: float) -> float:
    """``percent`` of an additional cost's price, or ``amount``, at most what is left of it."""
    if is_number(spec.get("percent")):
        wanted = money(price * float(spec["percent"]) / 100)
    else:
        wanted = money(float(spec["amount"]))
    return money(min(wanted, left))


def _set_discount_per_additional_cost(
    campaign: Campaign, spec: dict[str, Any], ctx: EvalContext, lookups: Lookups, remaining: float
) -> tuple[list[dict[str, Any]], float]:
    """A discount on one session-level additional cost (free shipping); the cart's items are
    not touched (``remaining`` is the items' and is handed back as it came)."""
    cost_name = str(spec["additionalCost"])
    cost = ctx.additional_costs.get(cost_name)
    if cost is None:
        return [], remaining  # the session has no such cost: nothing to discount
    price = float(cost.get("price", 0))
    left = ctx.cost_left.get(cost_name, price)
    value = _cost_discount(spec, price, left)
    if value <= 0:
        return [], remaining
    ctx.cost_left[cost_name] = money(left - value)
    props = {
        "name": _effect_name(campaign, spec),
        "additionalCostId": int(spec.get("additionalCostId", 1)),
        "additionalCost": cost_name,
        "value": value,
        "desiredValue": _cost_discount(spec, price, price),
    }
    return [effect_head(campaign, "setDiscountPerAdditionalCost", props)], remaining


def _set_discount_per_additional_cost_per_item(
    campaign: Campaign, spec: dict[str, Any], ctx: EvalContext, lookups: Lookups, remaining: float
) -> tuple[list[dict[str, Any]], float]:
    """A discount on the additional cost of each matching item that has it (per line: the
    cost's per-unit price times the quantity)."""
    cost_name = str(spec["additionalCost"])
    name = _effect_name(campaign, spec)
    produced: list[dict[str, Any]] = []
    for position, item in enumerate(ctx.cart_items):
        cost = (item.get("additionalCosts") or {}).get(cost_name)
        if cost is None or not matches_item(item, spec):
            continue
        price = money(float(cost.get("price", 0)) * int(item["quantity"]))
        key = (position, cost_name)
        left = ctx.cost_left.get(key, price)
        value = _cost_discount(spec, price, left)
        if value <= 0:
            continue
        ctx.cost_left[key] = money(left - value)
        props = {
            "name": f"{name}#{position}",
            "additionalCostId": int(spec.get("additionalCostId", 1)),
            "additionalCost": cost_name,
            "value": value,
            "position": position,
            "desiredValue": _cost_discount(spec, price, price),
        }
        produced.append(effect_head(campaign, "setDiscountPerAdditionalCostPerItem", props))
    return produced, remaining


def _free_item_props(campaign: Campaign, spec: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {"sku": spec["sku"], "name": str(spec.get("name", spec["sku"]))}
    if "quantity" in spec:
        props["desiredQuantity"] = int(spec["quantity"])
    return props


def _notification_props(campaign: Campaign, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "notificationType": str(spec.get("notificationType", "Info")),
        "title": str(spec.get("title", campaign.name)),
        "body": spec["body"],
    }


def _add_free_item(
    campaign: Campaign, spec: dict[str, Any], ctx: EvalContext, lookups: Lookups, remaining: float
) -> tuple[list[dict[str, Any]], float]:
    return [effect_head(campaign, "addFreeItem", _free_item_props(campaign, spec))], remaining


def _show_notification(
    campaign: Campaign, spec: dict[str, Any], ctx: EvalContext, lookups: Lookups, remaining: float
) -> tuple[list[dict[str, Any]], float]:
    props = _notification_props(campaign, spec)
    return [effect_head(campaign, "showNotification", props)], remaining


#: effect types whose props come from the campaign file alone -> how to build them
_CONSTANT_PROPS: dict[str, Callable[[Campaign, dict[str, Any]], dict[str, Any]]] = {
    "addFreeItem": _free_item_props,
    "showNotification": _notification_props,
}


EFFECT_MAKERS: dict[str, EffectMaker] = {
    "setDiscount": _set_discount,
    "setDiscountPerItem": _set_discount_per_item,
    "setDiscountPerAdditionalCost": _set_discount_per_additional_cost,
    "setDiscountPerAdditionalCostPerItem": _set_discount_per_additional_cost_per_item,
    "addFreeItem": _add_free_item,
    "addLoyaltyPoints": add_loyalty_points,
    "deductLoyaltyPoints": deduct_loyalty_points,
    "increaseAchievementProgress": increase_achievement_progress,
    "showNotification": _show_notification,
    **HANDOUT_MAKERS,
}


def to_v1_effect(effect: dict[str, Any]) -> list[Any]:
    """``[campaignId, rulesetId, ruleIndex, [effectName, args...]]`` (the v1 wire format).

    Uses the client's encoder so the emulator and the client's decoder agree on argument order.
    """
    return encode_v1_effect(effect)
