"""What loyalty and achievement rule actions produce: points earned, points spent, progress.

The effects carry what the store's ledger needs at close (program, sub-ledger, card, the
transaction UUID and when the points start and expire); the ledger itself lives in
:mod:`django_talon.emulator.store.loyalty` and is read here only through
:class:`~.loyalty_view.LoyaltyView`, so the engine keeps its narrow view of the store.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django_talon.emulator.campaign_loyalty import LoyaltyProgramSpec, parse_duration
from django_talon.emulator.engine.context import EvalContext, Lookups, effect_head
from django_talon.emulator.models import Campaign
from django_talon.emulator.util import is_int, is_number, isoformat, money

Produced = tuple[list[dict[str, Any]], float]


def uuid4_text(bits: int) -> str:
    """``str(uuid.UUID(int=bits, version=4))`` without building the UUID object (same text)."""
    bits = (bits & ~(0xC000 << 48)) | (0x8000 << 48)  # RFC 4122 variant
    bits = (bits & ~(0xF000 << 64)) | (4 << 76)  # version 4
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _card(ctx: EvalContext, program: LoyaltyProgramSpec | None) -> str | None:
    """The session's loyalty card, for a card-based program (the spec allows one per session)."""
    if program is None or not program.card_based:
        return None
    return ctx.loyalty_cards[0] if ctx.loyalty_cards else ""


def _program(lookups: Lookups, program_id: int) -> LoyaltyProgramSpec | None:
    return lookups.loyalty.loyalty_program(program_id) if lookups.loyalty is not None else None


def add_loyalty_points(
    campaign: Campaign, spec: dict[str, Any], ctx: EvalContext, lookups: Lookups, remaining: float
) -> Produced:
    """Points for the customer (or the session's card, in a card-based program)."""
    if ctx.profile is None and not ctx.profile_id:
        return [], remaining  # loyalty needs a customer profile
    program_id = int(spec["programId"])
    program = _program(lookups, program_id)
    card = _card(ctx, program)
    if card == "":
        return [], remaining  # a card-based program earns only on a card
    if is_number(spec.get("points")):
        points = float(spec["points"])
    else:
        points = float(math.floor(ctx.subtotal * float(spec["pointsPerAmount"])))
    if points <= 0:
        return [], remaining
    props: dict[str, Any] = {
        "name": str(spec.get("name", campaign.name)),
        "programId": program_id,
        "subLedgerId": str(spec.get("subLedgerId", "")),
        "value": points,
        "recipientIntegrationId": ctx.profile_id,
        "transactionUUID": uuid4_text(lookups.rng.getrandbits(128)),
    }
    if card:
        props["cardIdentifier"] = card
    if program is not None:
        _timing(props, spec, program, ctx.now)
    return [effect_head(campaign, "addLoyaltyPoints", props)], remaining


#: the keys of an ``addLoyaltyPoints`` effect that override its program's timing
_TIMING_KEYS = ("pendingDuration", "expiryDuration", "awaitsActivation")

#: a prepared rule action: (context, lookups, cart amount left) -> (effects, left)
PreparedPoints = Callable[[EvalContext, Lookups, float], Produced]


def prepared_add_loyalty_points(campaign: Campaign, spec: dict[str, Any]) -> PreparedPoints | None:
    """:func:`add_loyalty_points` with what the spec alone decides read once (issue 13): the
    program id, the name, the sub-ledger, fixed points or the rate; or None for a spec that
    overrides the program's timing or is not the plain shape (the maker runs it as it is).

    The program is still looked up on every run (the store's campaign set owns it), and
    what it gives is what :func:`add_loyalty_points` gives, effect for effect (same order
    of fields, the same random draw for the transaction UUID).
    """
    if any(key in spec for key in _TIMING_KEYS) or not is_int(spec.get("programId")):
        return None
    fixed = float(spec["points"]) if is_number(spec.get("points")) else None
    if fixed is None and not is_number(spec.get("pointsPerAmount")):
        return None
    rate = float(spec["pointsPerAmount"]) if fixed is None else 0.0
    program_id = int(spec["programId"])
    name = str(spec.get("name", campaign.name))
    sub_ledger = str(spec.get("subLedgerId", ""))
    head = effect_head(campaign, "addLoyaltyPoints", {})

    def run(ctx: EvalContext, lookups: Lookups, remaining: float) -> Produced:
        if ctx.profile is None and not ctx.profile_id:
            return [], remaining  # loyalty needs a customer profile
        view = lookups.loyalty
        program = view.loyalty_program(program_id) if view is not None else None
        card = None
        if program is not None and program.card_based:
            card = ctx.loyalty_cards[0] if ctx.loyalty_cards else ""
            if card == "":
                return [], remaining  # a card-based program earns only on a card
        points = fixed if fixed is not None else float(math.floor(ctx.subtotal * rate))
        if points <= 0:
            return [], remaining
        props: dict[str, Any] = {
            "name": name,
            "programId": program_id,
            "subLedgerId": sub_ledger,
            "value": points,
            "recipientIntegrationId": ctx.profile_id,
            "transactionUUID": uuid4_text(lookups.rng.getrandbits(128)),
        }
        if card:
            props["cardIdentifier"] = card
        if program is not None and (
            program.awaits_activation
            or program.pending_duration is not None
            or program.expiry_duration is not None
        ):
            _timing(props, spec, program, ctx.now)  # (the spec overrides none of it)
        effect = dict(head)
        effect["props"] = props
        return [effect], remaining

    return run


def _timing(
    props: dict[str, Any], spec: dict[str, Any], program: LoyaltyProgramSpec, now: datetime
) -> None:
    """When the points would start and expire if the session closed now (effect overrides
    the program)."""
    pending = (
        parse_duration(spec["pendingDuration"], "pendingDuration")
        if "pendingDuration" in spec
        else program.pending_duration
    )
    expiry = (
        parse_duration(spec["expiryDuration"], "expiryDuration")
        if "expiryDuration" in spec
        else program.expiry_duration
    )
    awaits = bool(spec.get("awaitsActivation", program.awaits_activation))
    if awaits:  # active from the activation on, for validityDuration (the spec's words)
        props["awaitsActivation"] = True
        if expiry is not None:
            props["validityDuration"] = _duration_text(expiry)
        return
    start = now + pending if pending is not None else now
    if pending is not None:
        props["startDate"] = isoformat(start)
    if expiry is not None:
        props["expiryDate"] = isoformat(start + expiry)


def _duration_text(value: Any) -> str:
    seconds = int(value.total_seconds())
    return f"{seconds // 86400}D" if seconds % 86400 == 0 else f"{seconds}s"


def deduct_loyalty_points(
    campaign: Campaign, spec: dict[str, Any], ctx: EvalContext, lookups: Lookups, remaining: float
) -> Produced:
    """Spend points: what the rule (or the session attribute it names) asks, at most the
    active balance, and with ``discountPerPoint`` at most what the cart has left to discount;
    the discount comes as a ``setDiscount`` next to the deduction."""
    if not ctx.profile_id or lookups.loyalty is None:
        return [], remaining
    program_id = int(spec["programId"])
    program = lookups.loyalty.loyalty_program(program_id)
    card = _card(ctx, program)
    if card == "":
        return [], remaining
    asked: Any = spec.get("points")
    if "pointsAttribute" in spec:
        asked = ctx.session_attributes.get(str(spec["pointsAttribute"]))
    if not is_number(asked) or float(asked) <= 0:
        return [], remaining
    wanted = float(asked)
    sub_ledger = str(spec.get("subLedgerId", ""))
    available = lookups.loyalty.spendable_points(
        program_id, ctx.profile_id, card, sub_ledger, ctx.now
    )
    value = min(wanted, available)
    per_point = float(spec["discountPerPoint"]) if is_number(spec.get("discountPerPoint")) else 0
    if per_point:
        value = min(value, math.floor(remaining / per_point * 100) / 100)
    value = money(value)
    if value <= 0:
        return [], remaining
    name = str(spec.get("name", campaign.name))
    props: dict[str, Any] = {
        "ruleTitle": campaign.rule_name,
        "name": name,
        "programId": program_id,
        "subLedgerId": sub_ledger,
        "value": value,
        "transactionUUID": uuid4_text(lookups.rng.getrandbits(128)),
    }
    if card:
        props["cardIdentifier"] = card
    produced = [effect_head(campaign, "deductLoyaltyPoints", props)]
    if per_point:
        discount = money(min(value * per_point, remaining))
        remaining = money(remaining - discount)
        produced.append(effect_head(campaign, "setDiscount", {"name": name, "value": discount}))
    return produced, remaining


def increase_achievement_progress(
    campaign: Campaign, spec: dict[str, Any], ctx: EvalContext, lookups: Lookups, remaining: float
) -> Produced:
    """Progress towards an achievement (counted when the session closes); none once done."""
    if not ctx.profile_id or lookups.loyalty is None:
        return [], remaining
    achievement = lookups.loyalty.achievement_spec(int(spec["achievementId"]))
    if achievement is None:
        return [], remaining
    current = lookups.loyalty.achievement_progress(achievement.id, ctx.profile_id, ctx.now)
    if current >= achievement.target:
        return [], remaining
    delta = float(spec.get("delta", 1))
    value = current + delta
    props = {
        "achievementId": achievement.id,
        "achievementName": achievement.name,
        "progressTrackerId": achievement.id,
        "delta": delta,
        "value": value,
        "target": achievement.target,
        "isJustCompleted": value >= achievement.target,
    }
    return [effect_head(campaign, "increaseAchievementProgress", props)], remaining
