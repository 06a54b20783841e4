"""The loyalty and achievement parts of a campaign file: programs, cards, achievements.

Kept apart from :mod:`django_talon.emulator.campaign_file` (which calls in here) because they
are one idea of their own: how points behave over time (pending for a while or until
activated, then active until they expire) and what a customer works towards. Everything is
validated at load time, like the rest of the file; see docs/emulator.md ("Loyalty programs
and achievements") for the format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django_talon.emulator.util import is_int, is_number, parse_datetime

#: ``30D``, ``12h``, ``2W``...: a number and a unit (s, m, h, D, W), like Talon.One's durations
_DURATION = re.compile(r"^(\d+)([smhDW])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "D": "days", "W": "weeks"}
#: the spec's ``LoyaltyCardIdentifier``
CARD_IDENTIFIER = re.compile(r"^[A-Za-z0-9._%+@-]{4,108}$")
#: the spec's achievement ``name`` pattern
_ACHIEVEMENT_NAME = re.compile(r"^[a-zA-Z]\w+$")


class LoyaltyConfigError(ValueError):
    """A loyalty program or achievement in the campaign file is invalid (re-raised by the
    campaign file loader as its own error, with the same message)."""


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise LoyaltyConfigError(message)


def parse_duration(value: Any, where: str) -> timedelta | None:
    """``None`` for no duration, else ``<n><unit>`` (s, m, h, D, W) as a timedelta."""
    if value is None:
        return None
    match = _DURATION.match(value) if isinstance(value, str) else None
    _require(match is not None, f"{where} must be a duration like 30D, 12h or 2W, got {value!r}")
    assert match is not None
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@dataclass
class CardSpec:
    """A loyalty card that exists when the emulator starts (or is reset)."""

    identifier: str
    profiles: list[str] = field(default_factory=list)
    status: str = "active"


@dataclass
class LoyaltyProgramSpec:
    """One loyalty program: its names, how new points behave, and its cards.

    ``pending_duration``: points earned stay pending this long before they count;
    ``awaits_activation``: points stay pending until ``activateLoyaltyPoints`` (or forever);
    ``expiry_duration``: active points expire this long after they became active (None:
    never). An ``addLoyaltyPoints`` effect may override each of the three.
    """

    id: int
    name: str
    title: str
    card_based: bool = False
    users_per_card_limit: int = 1
    pending_duration: timedelta | None = None
    awaits_activation: bool = False
    expiry_duration: timedelta | None = None
    cards: list[CardSpec] = field(default_factory=list)


@dataclass
class AchievementSpec:
    """An achievement: ``target`` progress within ``period`` (None: no end), fed by the
    ``increaseAchievementProgress`` effects of campaign ``campaign_id`` when sessions close."""

    id: int
    name: str
    title: str
    description: str
    campaign_id: int
    target: float
    period: timedelta | None = None
    allow_rollback_after_completion: bool = False
    start_date: datetime | None = None


def default_program(pid: int) -> LoyaltyProgramSpec:
    """The program an effect names without the file declaring it."""
    return LoyaltyProgramSpec(id=pid, name=f"program_{pid}", title=f"Program {pid}")


def parse_program(program: Any, where: str) -> LoyaltyProgramSpec:
    """One ``loyaltyPrograms`` entry."""
    _require(
        isinstance(program, dict) and is_int(program.get("id")), f"{where} needs an integer id"
    )
    pid = int(program["id"])
    name = str(program.get("name", f"program_{pid}"))
    limit = program.get("usersPerCardLimit", 1)
    _require(is_int(limit) and limit >= 1, f"{where}.usersPerCardLimit must be an integer >= 1")
    awaits = program.get("awaitsActivation", False)
    _require(isinstance(awaits, bool), f"{where}.awaitsActivation must be true or false")
    card_based = program.get("cardBased", False)
    _require(isinstance(card_based, bool), f"{where}.cardBased must be true or false")
    spec = LoyaltyProgramSpec(
        id=pid,
        name=name,
        title=str(program.get("title", name)),
        card_based=card_based,
        users_per_card_limit=int(limit),
        pending_duration=parse_duration(program.get("pendingDuration"), f"{where}.pendingDuration"),
        awaits_activation=awaits,
        expiry_duration=parse_duration(program.get("expiryDuration"), f"{where}.expiryDuration"),
    )
    cards = program.get("cards", [])
    _require(isinstance(cards, list), f"{where}.cards must be a list")
    _require(not cards or card_based, f"{where} declares cards but is not cardBased")
    seen: set[str] = set()
    for index, card in enumerate(cards):
        spec.cards.append(_parse_card(card, f"{where}.cards[{index}]", spec, seen))
    return spec


def _parse_card(card: Any, where: str, program: LoyaltyProgramSpec, seen: set[str]) -> CardSpec:
    if isinstance(card, str):
        card = {"identifier": card}
    _require(isinstance(card, dict), f"{where} must be an object or a card identifier")
    identifier = card.get("identifier")
    _require(
        isinstance(identifier, str) and CARD_IDENTIFIER.match(identifier) is not None,
        f"{where}.identifier must be 4..108 characters of A-Z a-z 0-9 . _ % + @ -",
    )
    assert isinstance(identifier, str)
    _require(identifier not in seen, f"{where}.identifier {identifier!r} is declared twice")
    seen.add(identifier)
    profiles = card.get("profiles", [])
    _require(
        isinstance(profiles, list) and all(isinstance(p, str) and p for p in profiles),
        f"{where}.profiles must be a list of profile integration ids",
    )
    _require(
        len(profiles) <= program.users_per_card_limit,
        f"{where} has more profiles than usersPerCardLimit ({program.users_per_card_limit})",
    )
    status = card.get("status", "active")
    _require(status in ("active", "inactive"), f"{where}.status must be active or inactive")
    return CardSpec(identifier=identifier, profiles=list(profiles), status=status)


def parse_achievements(data: Any, campaign_ids: set[int]) -> dict[int, AchievementSpec]:
    """The file's ``achievements`` (each belongs to one of its campaigns)."""
    _require(isinstance(data, list), "achievements must be a list")
    result: dict[int, AchievementSpec] = {}
    for index, raw in enumerate(data):
        where = f"achievements[{index}]"
        _require(isinstance(raw, dict), f"{where} must be an object")
        _require(is_int(raw.get("id")) and raw["id"] > 0, f"{where}.id must be a positive integer")
        aid = int(raw["id"])
        _require(aid not in result, f"{where}.id {aid} is declared twice")
        name = raw.get("name")
        _require(
            isinstance(name, str) and _ACHIEVEMENT_NAME.match(name) is not None,
            f"{where}.name must be a letter then letters, digits or _ (e.g. CoffeeLover)",
        )
        assert isinstance(name, str)
        _require(
            is_int(raw.get("campaignId")) and int(raw["campaignId"]) in campaign_ids,
            f"{where}.campaignId must be the id of a campaign of this file",
        )
        _require(
            is_number(raw.get("target")) and raw["target"] > 0,
            f"{where}.target must be a number > 0",
        )
        rollback = raw.get("allowRollbackAfterCompletion", False)
        _require(isinstance(rollback, bool), f"{where}.allowRollbackAfterCompletion: true/false")
        start = raw.get("startDate")
        result[aid] = AchievementSpec(
            id=aid,
            name=name,
            title=str(raw.get("title", name)),
            description=str(raw.get("description", "")),
            campaign_id=int(raw["campaignId"]),
            target=float(raw["target"]),
            period=parse_duration(raw.get("period"), f"{where}.period"),
            allow_rollback_after_completion=rollback,
            start_date=None if start is None else _date(start, f"{where}.startDate"),
        )
    return result


def _date(value: Any, where: str) -> datetime:
    try:
        return parse_datetime(value, where)
    except Exception as exc:  # ApiError from parse_datetime: re-raise as a config error
        raise LoyaltyConfigError(f"{where}: invalid date-time {value!r}") from exc


def check_deduct_effect(effect: dict[str, Any], where: str) -> None:
    """A ``deductLoyaltyPoints`` rule action: spend points (a fixed number or what a session
    attribute asks for, capped by the balance), optionally worth a discount per point."""
    _require(is_int(effect.get("programId")), f"{where}.programId must be an integer")
    has_points = is_number(effect.get("points"))
    has_attribute = isinstance(effect.get("pointsAttribute"), str)
    _require(
        has_points != has_attribute,
        f"{where} needs exactly one of points or pointsAttribute (a session attribute name)",
    )
    if "discountPerPoint" in effect:
        _require(
            is_number(effect["discountPerPoint"]) and effect["discountPerPoint"] > 0,
            f"{where}.discountPerPoint must be a number > 0",
        )
    _check_sub_ledger(effect, where)


def check_add_points_effect(effect: dict[str, Any], where: str) -> None:
    """The optional timing overrides of an ``addLoyaltyPoints`` rule action."""
    parse_duration(effect.get("pendingDuration"), f"{where}.pendingDuration")
    parse_duration(effect.get("expiryDuration"), f"{where}.expiryDuration")
    if "awaitsActivation" in effect:
        _require(
            isinstance(effect["awaitsActivation"], bool),
            f"{where}.awaitsActivation must be true or false",
        )
    _check_sub_ledger(effect, where)


def check_achievement_effect(effect: dict[str, Any], where: str) -> None:
    """An ``increaseAchievementProgress`` rule action (the achievement is checked later,
    once the file's achievements are read)."""
    _require(is_int(effect.get("achievementId")), f"{where}.achievementId must be an integer")
    if "delta" in effect:
        _require(is_number(effect["delta"]) and effect["delta"] > 0, f"{where}.delta must be > 0")


def _check_sub_ledger(effect: dict[str, Any], where: str) -> None:
    if "subLedgerId" in effect:
        _require(
            isinstance(effect["subLedgerId"], str) and len(effect["subLedgerId"]) <= 64,
            f"{where}.subLedgerId must be a string of at most 64 characters",
        )
