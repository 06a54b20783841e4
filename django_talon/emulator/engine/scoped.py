"""``setDiscount`` with a ``scope``: what Talon.One sends with cascading discounts on.

A campaign file's ``setDiscount`` may name ``"scope"``: ``cartItems`` (the items, as a
``setDiscount`` without a scope), ``additionalCosts`` (the session's and the items'
additional costs: shipping, gift wrap) or ``sessionTotal`` (the items, then the costs).
The effect carries the scope in its props, as Talon.One's does. ``percent`` is of what the
scope covers (items' subtotal, the costs' prices, or both); the value is at most what is
left of it after the discounts before (an additional cost is discounted at most down to
zero, shared with ``setDiscountPerAdditionalCost``'s bookkeeping in ``ctx.cost_left``).

A ``setDiscountPerItem`` may name a scope of its own, within each matching item:
``price`` (the item's price, as without a scope), ``additionalCosts`` (the item's own
additional costs) or ``itemTotal`` (the price, then those costs). ``percent`` is of what
the scope covers per unit (the unit's price, its costs, or both); each unit gets an effect
carrying the scope, its value at most what the unit's price has left (``ctx.unit_left``,
shared with the other per-item discounts) and what the line's costs have left
(``ctx.cost_left``). Only the part off the price counts against the items' amount left.
"""

from __future__ import annotations

from typing import Any

from django_talon.emulator.engine.context import EvalContext, effect_head, matches_item
from django_talon.emulator.models import Campaign
from django_talon.emulator.util import is_number, money

Produced = tuple[list[dict[str, Any]], float]

CART_ITEMS = "cartItems"
ADDITIONAL_COSTS = "additionalCosts"
SESSION_TOTAL = "sessionTotal"
SCOPES = (CART_ITEMS, ADDITIONAL_COSTS, SESSION_TOTAL)
#: a per-item discount's scopes (``additionalCosts``: the item's own costs)
ITEM_PRICE = "price"
ITEM_TOTAL = "itemTotal"
ITEM_SCOPES = (ITEM_PRICE, ADDITIONAL_COSTS, ITEM_TOTAL)


def _costs(ctx: EvalContext) -> list[tuple[Any, float]]:
    """Each additional cost as ``(its key in ctx.cost_left, its price)``: the session's by
    name, then each item's by ``(position, name)`` (per-unit price times quantity)."""
    costs: list[tuple[Any, float]] = [
        (name, float(cost.get("price", 0))) for name, cost in ctx.additional_costs.items()
    ]
    for position, item in enumerate(ctx.cart_items):
        for name, cost in (item.get("additionalCosts") or {}).items():
            price = money(float(cost.get("price", 0)) * int(item["quantity"]))
            costs.append(((position, name), price))
    return costs


def scoped_set_discount(
    campaign: Campaign, spec: dict[str, Any], name: str, ctx: EvalContext, remaining: float
) -> Produced:
    """The ``setDiscount`` of a spec naming a scope (``remaining``: the items' amount left)."""
    scope = str(spec["scope"])
    costs = _costs(ctx) if scope != CART_ITEMS else []
    cost_price = money(sum(price for _, price in costs))
    cost_room = money(sum(ctx.cost_left.get(key, price) for key, price in costs))
    base = {CART_ITEMS: ctx.subtotal, ADDITIONAL_COSTS: cost_price}.get(
        scope, money(ctx.subtotal + cost_price)
    )
    wanted = (
        money(base * float(spec["percent"]) / 100)
        if is_number(spec.get("percent"))
        else money(float(spec["amount"]))
    )
    room = {CART_ITEMS: remaining, ADDITIONAL_COSTS: cost_room}.get(
        scope, money(remaining + cost_room)
    )
    value = money(min(wanted, room))
    if value <= 0:
        return [], remaining
    left = value
    if scope != ADDITIONAL_COSTS:  # the items first
        off_items = money(min(left, remaining))
        remaining, left = money(remaining - off_items), money(left - off_items)
    for key, price in costs:  # then the costs, in order
        if left <= 0:
            break
        cost_left = ctx.cost_left.get(key, price)
        off = money(min(left, cost_left))
        ctx.cost_left[key], left = money(cost_left - off), money(left - off)
    props: dict[str, Any] = {"name": name, "value": value, "scope": scope}
    if value != wanted:
        props["desiredValue"] = wanted
    return [effect_head(campaign, "setDiscount", props)], remaining


def scoped_set_discount_per_item(
    campaign: Campaign, spec: dict[str, Any], name: str, ctx: EvalContext, remaining: float
) -> Produced:
    """The ``setDiscountPerItem`` of a spec scoped to ``additionalCosts`` or ``itemTotal``
    (``remaining``: the items' amount left; the part off the costs does not take from it)."""
    scope = str(spec["scope"])
    percent = float(spec["percent"]) if is_number(spec.get("percent")) else None
    produced: list[dict[str, Any]] = []
    for position, item in enumerate(ctx.cart_items):
        if not matches_item(item, spec):
            continue
        quantity, unit_price = int(item["quantity"]), float(item["price"])
        costs = [
            ((position, cost_name), float(cost.get("price", 0)))
            for cost_name, cost in (item.get("additionalCosts") or {}).items()
        ]
        unit_costs = money(sum(price for _, price in costs))
        base = unit_costs if scope == ADDITIONAL_COSTS else money(unit_price + unit_costs)
        wanted = (
            money(base * percent / 100)
            if percent is not None
            else money(min(float(spec["amount"]), base))
        )
        lefts = ctx.unit_left.setdefault(position, [unit_price] * quantity)
        for sub in range(quantity):
            off_price = 0.0
            if scope == ITEM_TOTAL:
                off_price = money(max(min(wanted, lefts[sub], remaining), 0.0))
                lefts[sub] = money(lefts[sub] - off_price)
                remaining = money(remaining - off_price)
            left = money(wanted - off_price)
            for key, unit_cost in costs:  # the line's costs, in order
                if left <= 0:
                    break
                pool = ctx.cost_left.get(key, money(unit_cost * quantity))
                off = money(max(min(left, pool), 0.0))
                ctx.cost_left[key], left = money(pool - off), money(left - off)
            value = money(wanted - left)
            if value <= 0:
                continue
            props: dict[str, Any] = {
                "name": f"{name}#{position}",
                "value": value,
                "position": position,
                "subPosition": sub,
                "scope": scope,
            }
            if value != wanted:
                props["desiredValue"] = wanted
            produced.append(effect_head(campaign, "setDiscountPerItem", props))
    return produced, remaining
