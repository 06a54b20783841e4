"""What an evaluation takes and gives: its inputs, its outcome, and the shape of an effect."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django_talon.emulator.models import Campaign, Coupon, Profile, Referral
from django_talon.emulator.util import money

if TYPE_CHECKING:
    from django_talon.emulator.engine.loyalty_view import LoyaltyView


@dataclass
class Handout:
    """One code a firing campaign hands out when its session closes (engine/handouts.py):
    ``kind`` is the campaign-file effect type, ``spec`` the effect as the file gives it."""

    kind: str
    campaign: Campaign
    spec: dict[str, Any] = field(default_factory=dict)


@dataclass
class EvalContext:
    """The inputs of one evaluation (a session update, profile update or custom event)."""

    now: datetime
    event_type: str
    profile: Profile | None
    profile_id: str
    cart_items: list[dict[str, Any]]
    session_attributes: dict[str, Any]
    first_session: bool
    coupon_codes: list[str]
    referral_code: str
    #: the session's loyalty card (the spec allows at most one): card-based programs use it
    loyalty_cards: list[str] = field(default_factory=list)
    #: the session's additional costs ``{name: {"price": ...}}`` (shipping, gift wrap)
    additional_costs: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: what is left of each additional cost to discount (the session's and each item's
    #: ``(position, name)``): an additional cost is discounted at most down to zero, apart
    #: from the items' ``remaining``
    cost_left: dict[Any, float] = field(default_factory=dict)
    #: what is left of each cart item unit's price to discount, by ``(position,
    #: subPosition)``: item discounts of several campaigns stop at the unit's price
    unit_left: dict[tuple[int, int], float] = field(default_factory=dict)
    #: catalog item attributes by SKU (``catalogAttributeEquals``); the store hands in its
    #: live view, so nothing is copied per evaluation
    catalog: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: a custom event's attributes (``eventAttributeEquals``)
    event_attributes: dict[str, Any] = field(default_factory=dict)
    #: codes the firing campaigns hand out when the session closes (engine/handouts.py)
    handouts: list[Handout] = field(default_factory=list)
    #: the cart item total before discounts, computed once: conditions, discounts and points
    #: all need it (it was summed five times per session update)
    subtotal: float = field(init=False)

    def __post_init__(self) -> None:
        self.subtotal = subtotal(self.cart_items)


@dataclass
class Outcome:
    """What an evaluation produced: effect objects plus what closing would redeem."""

    effects: list[dict[str, Any]] = field(default_factory=list)
    accepted_coupons: list[Coupon] = field(default_factory=list)
    accepted_referral: Referral | None = None
    triggered: list[int] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    #: what closing hands out (recorded by the engine, materialised by the store at close)
    handouts: list[Handout] = field(default_factory=list)
    #: the objects closing created: ``createdCoupons``, ``createdReferrals``, ``awardedGiveaways``
    created_coupons: list[dict[str, Any]] = field(default_factory=list)
    created_referrals: list[dict[str, Any]] = field(default_factory=list)
    awarded_giveaways: list[dict[str, Any]] = field(default_factory=list)


class Lookups:
    """Read access the engine needs to the store (kept narrow on purpose)."""

    def __init__(
        self,
        coupon: Callable[[str], Coupon | None],
        referral: Callable[[str], Referral | None],
        campaign_redemptions: Callable[[int], int],
        already_referred: Callable[[int, str, str], bool],
        rng: random.Random,
    ) -> None:
        self.coupon = coupon
        self.referral = referral
        self.campaign_redemptions = campaign_redemptions
        self.already_referred = already_referred
        self.rng = rng
        #: the loyalty ledger and achievements (set by the store; None: no loyalty effects)
        self.loyalty: LoyaltyView | None = None


def effect_head(
    campaign: Campaign | None, effect_type: str, props: dict[str, Any]
) -> dict[str, Any]:
    return {
        "campaignId": campaign.id if campaign else 0,
        "rulesetId": campaign.ruleset_id if campaign else 0,
        "ruleIndex": 0,
        "ruleName": campaign.rule_name if campaign else "",
        "effectType": effect_type,
        "props": props,
    }


def subtotal(items: Iterable[dict[str, Any]]) -> float:
    """Cart item total before discounts.

    (A list, not a generator, handed to ``sum``: the same values in the same order, so the
    same float, without resuming a generator per item.)
    """
    return money(sum([float(i["price"]) * int(i["quantity"]) for i in items]))


def matches_item(item: dict[str, Any], spec: dict[str, Any]) -> bool:
    if "sku" in spec and item.get("sku") != spec["sku"]:
        return False
    return not ("category" in spec and item.get("category") != spec["category"])
