"""Campaign files: the format, its validation, and loading.

A campaign file is JSON (or TOML) with an ``application``, optional ``audiences``,
``loyaltyPrograms`` and ``achievements`` (those two: :mod:`.campaign_loyalty`),
``giveawayPools`` (:mod:`.campaign_handouts`), and
``campaigns``. Each campaign has one rule: an optional ``coupon`` or
``referral`` trigger, a list of ``conditions`` (all must hold) and a list of ``effects``.
See docs/emulator.md for the format. Parsing validates everything up front so a bad file
fails at load time with a clear message instead of half-working at request time; the rule
engine (:mod:`django_talon.emulator.engine`) can then trust what it is given.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django_talon.emulator.campaign_handouts import (
    GiveawayPoolSpec,
    HandoutConfigError,
    check_handout_effects,
    parse_giveaway_pools,
)
from django_talon.emulator.campaign_loyalty import (
    AchievementSpec,
    LoyaltyConfigError,
    LoyaltyProgramSpec,
    check_achievement_effect,
    check_add_points_effect,
    check_deduct_effect,
    default_program,
    parse_achievements,
    parse_program,
)
from django_talon.emulator.models import Campaign
from django_talon.emulator.util import is_int, is_number, load_json, parse_datetime

DEMO_CAMPAIGNS = Path(__file__).resolve().parent / "campaigns" / "demo.json"

SESSION_EVENT = "talon_session_updated"
PROFILE_EVENT = "talon_profile_updated"

CONDITION_TYPES = {
    "subtotalAtLeast",
    "subtotalBelow",
    "containsSku",
    "containsCategory",
    "itemQuantityAtLeast",
    "profileAttributeEquals",
    "sessionAttributeEquals",
    "eventAttributeEquals",
    "catalogAttributeEquals",
    "audienceMember",
    "firstSession",
    "profileRequired",
}
EFFECT_TYPES = {
    "setDiscount",
    "setDiscountPerItem",
    "setDiscountPerAdditionalCost",
    "setDiscountPerAdditionalCostPerItem",
    "addFreeItem",
    "addLoyaltyPoints",
    "deductLoyaltyPoints",
    "increaseAchievementProgress",
    "showNotification",
    "createCoupon",
    "createReferral",
    "reserveCoupon",
    "awardGiveaway",
}


class CampaignFileError(ValueError):
    """The campaign file (or posted campaign data) is invalid; the message says where."""


@dataclass
class CouponSpec:
    """A coupon declared in the campaign file (materialised into a fresh Coupon on reset)."""

    value: str
    usage_limit: int = 0
    profile_limit: int = 0
    start_date: datetime | None = None
    expiry_date: datetime | None = None
    recipient: str | None = None
    reservation_mandatory: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class CampaignSet:
    """Everything a campaign file defines."""

    application_id: int = 1
    application_name: str = "django-talon emulator"
    currency: str = "EUR"
    campaigns: list[Campaign] = field(default_factory=list)
    coupons: dict[int, list[CouponSpec]] = field(default_factory=dict)  # campaign id -> coupons
    audiences: dict[int, str] = field(default_factory=dict)
    loyalty_programs: dict[int, LoyaltyProgramSpec] = field(default_factory=dict)
    achievements: dict[int, AchievementSpec] = field(default_factory=dict)
    giveaway_pools: dict[int, GiveawayPoolSpec] = field(default_factory=dict)


def load_campaign_file(path: str | Path) -> CampaignSet:
    """Read a ``.json`` or ``.toml`` campaign file."""
    file_path = Path(path)
    try:
        text = file_path.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:  # ValueError: a NUL or lone surrogate in the path
        raise CampaignFileError(f"cannot read campaign file {file_path}: {exc}") from exc
    loads: Callable[[str], Any] = load_json
    if file_path.suffix.lower() == ".toml":
        # Outside the try below: CampaignFileError is a ValueError, and on Python 3.10 this
        # refusal came out wrapped in "campaign file ... is not valid: ...", calling a valid
        # file invalid and naming the file around a message that did not.
        try:
            loads = importlib.import_module("tomllib").loads
        except ImportError:  # Python 3.10
            raise CampaignFileError(
                f"campaign file {file_path}: TOML campaign files need Python 3.11+ (tomllib); "
                "use a .json campaign file on Python 3.10"
            ) from None
    try:
        data = loads(text)
    except (ValueError, TypeError) as exc:
        raise CampaignFileError(f"campaign file {file_path} is not valid: {exc}") from exc
    return parse_campaigns(data)


def load_campaigns(
    source: str | Path | CampaignSet | dict[str, Any] | list[Any] | None,
) -> CampaignSet:
    """Accept a path, parsed data (dict or bare list of campaigns), a CampaignSet, or None (demo)."""
    if source is None:
        return load_campaign_file(DEMO_CAMPAIGNS)
    if isinstance(source, CampaignSet):
        return source
    if isinstance(source, (str, Path)):
        return load_campaign_file(source)
    return parse_campaigns(source)


def _date(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_datetime(value, where)
    except Exception as exc:  # ApiError from parse_datetime: re-raise as a file error
        raise CampaignFileError(f"{where}: invalid date-time {value!r}") from exc


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise CampaignFileError(message)


def parse_campaigns(data: Any) -> CampaignSet:
    """Validate and convert campaign data (the parsed file) into a :class:`CampaignSet`."""
    try:
        return _parse_campaigns(data)
    except (LoyaltyConfigError, HandoutConfigError) as exc:  # their own checks: same kind
        raise CampaignFileError(str(exc)) from None


def _parse_campaigns(data: Any) -> CampaignSet:
    if isinstance(data, list):
        data = {"campaigns": data}
    _require(isinstance(data, dict), "campaign data must be an object or a list of campaigns")
    result = CampaignSet()
    app = data.get("application") or {}
    _require(isinstance(app, dict), "application must be an object")
    if "id" in app:
        _require(is_int(app["id"]), "application.id must be an integer")
        result.application_id = int(app["id"])
    result.application_name = str(app.get("name", result.application_name))
    result.currency = str(app.get("currency", result.currency))
    for index, audience in enumerate(data.get("audiences") or []):
        _require(
            isinstance(audience, dict) and is_int(audience.get("id")),
            f"audiences[{index}] needs an integer id",
        )
        result.audiences[int(audience["id"])] = str(
            audience.get("name", f"Audience {audience['id']}")
        )
    for index, program in enumerate(data.get("loyaltyPrograms") or []):
        spec = parse_program(program, f"loyaltyPrograms[{index}]")
        result.loyalty_programs[spec.id] = spec
    campaigns = data.get("campaigns")
    _require(isinstance(campaigns, list), "campaigns must be a list")
    seen: set[int] = set()
    codes: set[str] = set()
    for index, raw in enumerate(campaigns):
        where = f"campaigns[{index}]"
        _require(isinstance(raw, dict), f"{where} must be an object")
        _require(is_int(raw.get("id")), f"{where}.id must be an integer")
        cid = int(raw["id"])
        _require(cid > 0 and cid not in seen, f"{where}.id must be positive and unique")
        seen.add(cid)
        _require(isinstance(raw.get("name"), str) and raw["name"], f"{where}.name is required")
        trigger = raw.get("trigger")
        _require(
            trigger in (None, "coupon", "referral"), f"{where}.trigger must be coupon or referral"
        )
        state = raw.get("state", "enabled")
        _require(state in ("enabled", "disabled"), f"{where}.state must be enabled or disabled")
        events = raw.get("events", [SESSION_EVENT])
        _require(
            isinstance(events, list) and all(isinstance(e, str) and e for e in events),
            f"{where}.events must be a list of event type names",
        )
        conditions = raw.get("conditions", [])
        _require(isinstance(conditions, list), f"{where}.conditions must be a list")
        for c_index, cond in enumerate(conditions):
            _check_condition(cond, f"{where}.conditions[{c_index}]")
        effects = raw.get("effects", [])
        _require(isinstance(effects, list), f"{where}.effects must be a list")
        for e_index, effect in enumerate(effects):
            _check_effect(effect, f"{where}.effects[{e_index}]", result)
        limit = raw.get("redemptionLimit", 0)
        _require(is_int(limit) and limit >= 0, f"{where}.redemptionLimit must be an integer >= 0")
        campaign = Campaign(
            id=cid,
            name=raw["name"],
            trigger=trigger,
            state=state,
            description=str(raw.get("description", "")),
            rule_name=str(raw.get("ruleName", raw["name"])),
            events=list(events),
            conditions=list(conditions),
            effects=[dict(e) for e in effects],  # own copies: checks may fill defaults in
            start_time=_date(raw.get("startTime"), f"{where}.startTime"),
            end_time=_date(raw.get("endTime"), f"{where}.endTime"),
            redemption_limit=int(limit),
            tags=[str(t) for t in raw.get("tags", [])],
        )
        result.campaigns.append(campaign)
        specs: list[CouponSpec] = []
        raw_coupons = raw.get("coupons", [])
        _require(isinstance(raw_coupons, list), f"{where}.coupons must be a list")
        _require(
            not raw_coupons or trigger == "coupon",
            f"{where} declares coupons but its trigger is not 'coupon'",
        )
        for k_index, coupon in enumerate(raw_coupons):
            cwhere = f"{where}.coupons[{k_index}]"
            if isinstance(coupon, str):
                coupon = {"value": coupon}
            _require(isinstance(coupon, dict), f"{cwhere} must be an object or a code")
            value = coupon.get("value")
            _require(
                isinstance(value, str) and 4 <= len(value) <= 100,
                f"{cwhere}.value must be a 4..100 character code",
            )
            _require(value.casefold() not in codes, f"{cwhere}.value {value!r} is declared twice")
            codes.add(value.casefold())
            usage_limit = coupon.get("usageLimit", 0)
            profile_limit = coupon.get("profileLimit", 0)
            _require(is_int(usage_limit) and 0 <= usage_limit <= 999999, f"{cwhere}.usageLimit")
            _require(is_int(profile_limit) and profile_limit >= 0, f"{cwhere}.profileLimit")
            specs.append(
                CouponSpec(
                    value=value,
                    usage_limit=int(usage_limit),
                    profile_limit=int(profile_limit),
                    start_date=_date(coupon.get("startDate"), f"{cwhere}.startDate"),
                    expiry_date=_date(coupon.get("expiryDate"), f"{cwhere}.expiryDate"),
                    recipient=coupon.get("recipientIntegrationId") or None,
                    reservation_mandatory=bool(coupon.get("isReservationMandatory", False)),
                    attributes=dict(coupon.get("attributes") or {}),
                )
            )
        result.coupons[cid] = specs
    result.campaigns.sort(key=lambda c: c.id)
    result.achievements = parse_achievements(data.get("achievements") or [], seen)
    _check_achievement_effects(result)
    result.giveaway_pools = parse_giveaway_pools(data.get("giveawayPools") or [])
    check_handout_effects(result.campaigns, codes, result.giveaway_pools)
    return result


def _check_achievement_effects(result: CampaignSet) -> None:
    """Each ``increaseAchievementProgress`` names an achievement of its own campaign."""
    for campaign in result.campaigns:
        for effect in campaign.effects:
            if effect["type"] != "increaseAchievementProgress":
                continue
            achievement = result.achievements.get(int(effect["achievementId"]))
            _require(
                achievement is not None and achievement.campaign_id == campaign.id,
                f"campaign {campaign.id}: increaseAchievementProgress names achievement "
                f"{effect['achievementId']}, which is not an achievement of this campaign",
            )


def _check_condition(cond: Any, where: str) -> None:
    _require(isinstance(cond, dict), f"{where} must be an object")
    ctype = cond.get("type")
    _require(ctype in CONDITION_TYPES, f"{where}.type must be one of {sorted(CONDITION_TYPES)}")
    if ctype in ("subtotalAtLeast", "subtotalBelow"):
        _require(is_number(cond.get("amount")), f"{where}.amount must be a number")
    elif ctype == "containsSku":
        _require(isinstance(cond.get("sku"), str), f"{where}.sku must be a string")
    elif ctype == "containsCategory":
        _require(isinstance(cond.get("category"), str), f"{where}.category must be a string")
    elif ctype == "itemQuantityAtLeast":
        _require(is_int(cond.get("quantity")), f"{where}.quantity must be an integer")
        _require("sku" in cond or "category" in cond, f"{where} needs sku or category")
    elif ctype in (
        "profileAttributeEquals",
        "sessionAttributeEquals",
        "eventAttributeEquals",
        "catalogAttributeEquals",
    ):
        _require(isinstance(cond.get("attribute"), str), f"{where}.attribute must be a string")
        _require("value" in cond, f"{where}.value is required")
    elif ctype == "audienceMember":
        _require(is_int(cond.get("audienceId")), f"{where}.audienceId must be an integer")


def _check_effect(effect: Any, where: str, result: CampaignSet) -> None:
    _require(isinstance(effect, dict), f"{where} must be an object")
    etype = effect.get("type")
    _require(etype in EFFECT_TYPES, f"{where}.type must be one of {sorted(EFFECT_TYPES)}")
    if etype in ("setDiscount", "setDiscountPerItem"):
        has_percent = is_number(effect.get("percent"))
        has_amount = is_number(effect.get("amount"))
        _require(has_percent != has_amount, f"{where} needs exactly one of percent or amount")
        if etype == "setDiscount" and "scope" in effect:
            _require(
                effect["scope"] in ("cartItems", "additionalCosts", "sessionTotal"),
                f"{where}.scope must be cartItems, additionalCosts or sessionTotal",
            )
        if etype == "setDiscountPerItem" and "scope" in effect:
            _require(
                effect["scope"] in ("price", "additionalCosts", "itemTotal"),
                f"{where}.scope must be price, additionalCosts or itemTotal",
            )
    elif etype in ("setDiscountPerAdditionalCost", "setDiscountPerAdditionalCostPerItem"):
        _require(
            isinstance(effect.get("additionalCost"), str) and effect["additionalCost"],
            f"{where}.additionalCost must name the additional cost (e.g. shipping)",
        )
        has_percent = is_number(effect.get("percent"))
        has_amount = is_number(effect.get("amount"))
        _require(has_percent != has_amount, f"{where} needs exactly one of percent or amount")
        _require(
            is_int(effect.get("additionalCostId", 1)),
            f"{where}.additionalCostId must be an integer",
        )
    elif etype == "addFreeItem":
        _require(isinstance(effect.get("sku"), str), f"{where}.sku must be a string")
    elif etype == "addLoyaltyPoints":
        _require(is_int(effect.get("programId")), f"{where}.programId must be an integer")
        _require(
            is_number(effect.get("points")) or is_number(effect.get("pointsPerAmount")),
            f"{where} needs points or pointsPerAmount",
        )
        check_add_points_effect(effect, where)
        pid = int(effect["programId"])
        result.loyalty_programs.setdefault(pid, default_program(pid))
    elif etype == "deductLoyaltyPoints":
        check_deduct_effect(effect, where)
        pid = int(effect["programId"])
        result.loyalty_programs.setdefault(pid, default_program(pid))
    elif etype == "increaseAchievementProgress":
        check_achievement_effect(effect, where)
    elif etype == "showNotification":
        _require(isinstance(effect.get("body"), str), f"{where}.body must be a string")
