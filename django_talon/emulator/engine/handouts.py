"""Rule effects that hand out codes: ``createCoupon``, ``createReferral``, ``reserveCoupon``
and ``awardGiveaway`` (campaign-file actions).

The engine only reads the store, so these makers do not create anything: each records a
:class:`Handout` (what closing the session will hand out) on the context, and the store
materialises them when a session is closed by a real (not dry) update
(:mod:`django_talon.emulator.store.handouts`). Why only at close: Talon.One consumes budgets
and hands out rewards when a session closes ("``willAwardGiveaway`` is returned instead of
``awardGiveaway`` while not closed"), so an open cart never mints codes a customer could
collect by editing a cart over and over. While open, a giveaway answers ``willAwardGiveaway``
(the spec's effect for it); coupon and referral creation and reservations answer nothing yet.
"""

from __future__ import annotations

from typing import Any

from django_talon.emulator.engine.context import EvalContext, Handout, Lookups, effect_head
from django_talon.emulator.models import Campaign

__all__ = ["HANDOUT_MAKERS", "HANDOUT_TYPES", "Handout"]

#: the handout effect specs this module makes
HANDOUT_TYPES = ("createCoupon", "createReferral", "reserveCoupon", "awardGiveaway")


def _record(
    campaign: Campaign, spec: dict[str, Any], ctx: EvalContext, lookups: Lookups, remaining: float
) -> tuple[list[dict[str, Any]], float]:
    """Record the handout (a session without a customer gets none: there is no recipient)."""
    if not ctx.profile_id:
        return [], remaining
    ctx.handouts.append(Handout(kind=str(spec["type"]), campaign=campaign, spec=spec))
    if spec["type"] != "awardGiveaway":
        return [], remaining
    props = {
        "poolId": int(spec["poolId"]),
        "poolName": str(spec.get("poolName", "")),
        "recipientIntegrationId": ctx.profile_id,
    }
    return [effect_head(campaign, "willAwardGiveaway", props)], remaining


#: effect type -> maker (merged into the engine's EFFECT_MAKERS)
HANDOUT_MAKERS = dict.fromkeys(HANDOUT_TYPES, _record)
