"""Campaign files: the effects that hand out codes, and the giveaway pools they draw from.

``createCoupon`` (a coupon of a coupon campaign, ``couponCampaignId``, for the session's
customer; ``pattern`` with ``#`` for a random character, ``usageLimit``), ``createReferral``
(a referral code of ``referralCampaignId`` whose advocate is the session's customer),
``reserveCoupon`` (a declared coupon, ``couponValue``, reserved for the customer) and
``awardGiveaway`` (the next unused code of the pool ``poolId`` of ``giveawayPools``). Checked
once every campaign is known, so a file naming a missing campaign, coupon or pool fails at
load time. See docs/emulator.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django_talon.emulator.models import Campaign
from django_talon.emulator.util import is_int

DEFAULT_COUPON_PATTERN = "CPN-######"
DEFAULT_REFERRAL_PATTERN = "REF-######"


class HandoutConfigError(ValueError):
    """A handout effect or giveaway pool is invalid (re-raised as CampaignFileError)."""


@dataclass
class GiveawayPoolSpec:
    """A giveaway pool: its codes are handed out in file order, each once."""

    id: int
    name: str
    codes: list[str] = field(default_factory=list)


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise HandoutConfigError(message)


def parse_giveaway_pools(raw: Any) -> dict[int, GiveawayPoolSpec]:
    """``giveawayPools``: ``[{"id": 1, "name": "Gift cards", "codes": ["GIFT-1", ...]}]``."""
    _require(isinstance(raw, list), "giveawayPools must be a list")
    pools: dict[int, GiveawayPoolSpec] = {}
    for index, pool in enumerate(raw):
        where = f"giveawayPools[{index}]"
        _require(isinstance(pool, dict) and is_int(pool.get("id")), f"{where} needs an integer id")
        pid = int(pool["id"])
        _require(pid > 0 and pid not in pools, f"{where}.id must be positive and unique")
        codes = pool.get("codes", [])
        _require(
            isinstance(codes, list) and all(isinstance(c, str) and c for c in codes),
            f"{where}.codes must be a list of codes",
        )
        _require(len(set(codes)) == len(codes), f"{where}.codes has a code twice")
        pools[pid] = GiveawayPoolSpec(
            id=pid, name=str(pool.get("name", f"Pool {pid}")), codes=list(codes)
        )
    return pools


def _pattern(effect: dict[str, Any], where: str, default: str) -> None:
    pattern = effect.get("pattern", default)
    _require(
        isinstance(pattern, str) and "#" in pattern and 4 <= len(pattern) <= 100,
        f"{where}.pattern must be a 4..100 character code pattern with at least one #",
    )


def check_handout_effects(
    campaigns: list[Campaign], declared: set[str], pools: dict[int, GiveawayPoolSpec]
) -> None:
    """Each handout effect names what exists: a coupon or referral campaign, a coupon
    (``declared``: the file's codes, casefolded), a pool."""
    triggers = {c.id: c.trigger for c in campaigns}
    for campaign in campaigns:
        for index, effect in enumerate(campaign.effects):
            where = f"campaign {campaign.id}: effects[{index}]"
            etype = effect["type"]
            if etype == "createCoupon":
                target = effect.get("couponCampaignId", 0)
                _require(
                    is_int(target) and triggers.get(int(target)) == "coupon",
                    f"{where}.couponCampaignId must name a coupon campaign",
                )
                _pattern(effect, where, DEFAULT_COUPON_PATTERN)
                limit = effect.get("usageLimit", 1)
                _require(is_int(limit) and 0 <= limit <= 999999, f"{where}.usageLimit")
            elif etype == "createReferral":
                target = effect.get("referralCampaignId", 0)
                _require(
                    is_int(target) and triggers.get(int(target)) == "referral",
                    f"{where}.referralCampaignId must name a referral campaign",
                )
                _pattern(effect, where, DEFAULT_REFERRAL_PATTERN)
            elif etype == "reserveCoupon":
                value = effect.get("couponValue")
                _require(
                    isinstance(value, str) and value.casefold() in declared,
                    f"{where}.couponValue must be a coupon declared in the file",
                )
            elif etype == "awardGiveaway":
                pool = effect.get("poolId", 0)
                _require(
                    is_int(pool) and int(pool) in pools,
                    f"{where}.poolId must name a pool of giveawayPools",
                )
                effect.setdefault("poolName", pools[int(pool)].name)
