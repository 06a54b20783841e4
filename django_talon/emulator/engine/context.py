"""What an evaluation takes and gives: its inputs, its outcome, and the shape of an effect."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
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


class EvalContext:
    """The inputs of one evaluation (a session update, profile update or custom event).

    A plain class with ``__slots__`` and a hand-written ``__init__`` rather than a dataclass
    (issue 13): one is built per session update, and the dataclass ``__init__`` (eleven
    keyword arguments, five ``default_factory`` calls, ``__post_init__``) cost about as much
    as two campaigns' conditions. The constructor takes the same arguments as before.
    """

    __slots__ = (
        "now",
        "event_type",
        "profile",
        "profile_id",
        "cart_items",
        "session_attributes",
        "first_session",
        "coupon_codes",
        "referral_code",
        "loyalty_cards",
        "additional_costs",
        "cost_left",
        "unit_left",
        "catalog",
        "event_attributes",
        "handouts",
        "subtotal",
    )

    def __init__(
        self,
        now: datetime,
        event_type: str,
        profile: Profile | None,
        profile_id: str,
        cart_items: list[dict[str, Any]],
        session_attributes: dict[str, Any],
        first_session: bool,
        coupon_codes: list[str],
        referral_code: str,
        loyalty_cards: list[str] | None = None,
        additional_costs: dict[str, dict[str, Any]] | None = None,
        cost_left: dict[Any, float] | None = None,
        unit_left: dict[int, list[float]] | None = None,
        catalog: Mapping[str, Mapping[str, Any]] | None = None,
        event_attributes: dict[str, Any] | None = None,
        handouts: list[Handout] | None = None,
    ) -> None:
        self.now = now
        self.event_type = event_type
        self.profile = profile
        self.profile_id = profile_id
        self.cart_items = cart_items
        self.session_attributes = session_attributes
        self.first_session = first_session
        self.coupon_codes = coupon_codes
        self.referral_code = referral_code
        #: the session's loyalty card (the spec allows at most one): card-based programs use it
        self.loyalty_cards: list[str] = [] if loyalty_cards is None else loyalty_cards
        #: the session's additional costs ``{name: {"price": ...}}`` (shipping, gift wrap)
        self.additional_costs: dict[str, dict[str, Any]] = (
            {} if additional_costs is None else additional_costs
        )
        #: what is left of each additional cost to discount (the session's and each item's
        #: ``(position, name)``): an additional cost is discounted at most down to zero, apart
        #: from the items' ``remaining``
        self.cost_left: dict[Any, float] = {} if cost_left is None else cost_left
        #: what is left of each unit's price to discount, by cart position (a list with one
        #: entry per unit, made when a campaign first discounts the line): item discounts of
        #: several campaigns stop at the unit's price
        self.unit_left: dict[int, list[float]] = {} if unit_left is None else unit_left
        #: catalog item attributes by SKU (``catalogAttributeEquals``); the store hands in its
        #: live view, so nothing is copied per evaluation
        self.catalog: Mapping[str, Mapping[str, Any]] = _NO_CATALOG if catalog is None else catalog
        #: a custom event's attributes (``eventAttributeEquals``)
        self.event_attributes: dict[str, Any] = {} if event_attributes is None else event_attributes
        #: codes the firing campaigns hand out when the session closes (engine/handouts.py)
        self.handouts: list[Handout] = [] if handouts is None else handouts
        #: the cart item total before discounts, computed once: conditions, discounts and
        #: points all need it (it was summed five times per session update)
        self.subtotal: float = subtotal(cart_items)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"EvalContext({fields})"


#: the catalog of a context built without one (read only: nothing writes to a context's catalog)
_NO_CATALOG: Mapping[str, Mapping[str, Any]] = MappingProxyType({})


class Outcome:
    """What an evaluation produced: effect objects plus what closing would redeem.

    A plain class with ``__slots__`` for the same reason as :class:`EvalContext`: one per
    evaluation, and the dataclass built eight lists through ``default_factory``.
    """

    __slots__ = (
        "effects",
        "accepted_coupons",
        "accepted_referral",
        "triggered",
        "failures",
        "handouts",
        "created_coupons",
        "created_referrals",
        "awarded_giveaways",
        "cart_items",
        "subtotal",
    )

    def __init__(self) -> None:
        self.effects: list[dict[str, Any]] = []
        self.accepted_coupons: list[Coupon] = []
        self.accepted_referral: Referral | None = None
        self.triggered: list[int] = []
        self.failures: list[dict[str, Any]] = []
        #: what closing hands out (recorded by the engine, materialised by the store at close)
        self.handouts: list[Handout] = []
        #: the objects closing created: ``createdCoupons``, ``createdReferrals``,
        #: ``awardedGiveaways``
        self.created_coupons: list[dict[str, Any]] = []
        self.created_referrals: list[dict[str, Any]] = []
        self.awarded_giveaways: list[dict[str, Any]] = []
        #: the cart the evaluation ran on and its subtotal (``EvalContext.subtotal``): the
        #: answer renders the same list and reuses the sum (Session.to_api's cart_total)
        self.cart_items: list[dict[str, Any]] | None = None
        self.subtotal = 0.0

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"Outcome({fields})"


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
    same float, without resuming a generator per item; ``float()``/``int()`` called only
    on a price or quantity that is not a float/int already, as ``Session.to_api`` does.)
    """
    lines: list[float] = []
    add = lines.append
    for item in items:
        price, quantity = item["price"], item["quantity"]
        add(
            (price if type(price) is float else float(price))
            * (quantity if type(quantity) is int else int(quantity))
        )
    return money(sum(lines))


def matches_item(item: dict[str, Any], spec: dict[str, Any]) -> bool:
    if "sku" in spec and item.get("sku") != spec["sku"]:
        return False
    return not ("category" in spec and item.get("category") != spec["category"])
