"""Typed answers of the loyalty and achievement operations. Each keeps ``.raw``.

Read as tolerantly as :mod:`.models` (a missing or odd field becomes ``None``, ``0`` or an
empty container; the original is in ``.raw``): points are ``Decimal``, timestamps stay the
RFC 3339 strings sent, and enum-like strings (transaction ``type``, progress ``status``,
``startDate`` values such as ``immediate`` / ``on_action``, ``expiryDate`` ``unlimited``)
are kept verbatim so new values pass through.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar

from .effects.convert import to_bool, to_decimal, to_dict, to_int, to_str

__all__ = [
    "Achievement",
    "AchievementProgress",
    "ActivatedPoints",
    "LedgerBalance",
    "LoyaltyBalance",
    "LoyaltyBalances",
    "LoyaltyCard",
    "LoyaltyCardProfile",
    "LoyaltyLedgerEntry",
    "LoyaltyPage",
    "LoyaltyPoints",
    "LoyaltyTransaction",
]

T = TypeVar("T")

_ZERO = Decimal(0)


def _obj(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _objs(value: Any) -> list[dict[str, Any]]:
    return [dict(v) for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _points(value: Any) -> Decimal:
    number = to_decimal(value)
    return number if number is not None else _ZERO


@dataclass(frozen=True)
class LoyaltyBalance:
    """One ledger's points (``LoyaltyBalance``/``LoyaltyBalanceWithTier``)."""

    active_points: Decimal
    pending_points: Decimal
    spent_points: Decimal
    expired_points: Decimal
    negative_points: Decimal
    current_tier: dict[str, Any] | None
    next_tier_name: str | None
    points_to_next_tier: Decimal | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> LoyaltyBalance:
        raw = _obj(data)
        return cls(
            active_points=_points(raw.get("activePoints")),
            pending_points=_points(raw.get("pendingPoints")),
            spent_points=_points(raw.get("spentPoints")),
            expired_points=_points(raw.get("expiredPoints")),
            negative_points=_points(raw.get("negativePoints")),
            current_tier=to_dict(raw.get("currentTier")),
            next_tier_name=to_str(raw.get("nextTierName")),
            points_to_next_tier=to_decimal(raw.get("pointsToNextTier")),
            raw=raw,
        )


@dataclass(frozen=True)
class LoyaltyCardProfile:
    """A customer linked to a loyalty card, and since when."""

    integration_id: str
    timestamp: str | None

    @classmethod
    def from_json(cls, data: Any) -> LoyaltyCardProfile:
        raw = _obj(data)
        return cls(
            integration_id=to_str(raw.get("integrationId")) or "",
            timestamp=to_str(raw.get("timestamp")),
        )


@dataclass(frozen=True)
class LoyaltyBalances:
    """Answer of ``get_loyalty_balances`` / ``get_loyalty_card_balances``.

    ``balance`` is the main ledger; ``subledger_balances`` the sub-ledgers by id;
    ``profiles`` the customers linked to the card (card balances only).
    """

    balance: LoyaltyBalance
    subledger_balances: dict[str, LoyaltyBalance]
    profiles: list[LoyaltyCardProfile]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> LoyaltyBalances:
        raw = _obj(data)
        subs = raw.get("subledgerBalances")
        return cls(
            balance=LoyaltyBalance.from_json(raw.get("balance")),
            subledger_balances={
                str(k): LoyaltyBalance.from_json(v)
                for k, v in (subs.items() if isinstance(subs, Mapping) else ())
            },
            profiles=[LoyaltyCardProfile.from_json(p) for p in _objs(raw.get("profiles"))],
            raw=raw,
        )


@dataclass(frozen=True)
class LoyaltyPoints:
    """Points of one transaction by status (``LedgerPointsEntryIntegrationAPI``, card too).

    ``start_date`` is ``immediate``, ``on_action`` or a timestamp; ``expiry_date``
    ``unlimited`` or a timestamp (the API's own words).
    """

    id: int | None
    transaction_uuid: str
    program_id: int | None
    amount: Decimal
    name: str
    created: str | None
    start_date: str | None
    expiry_date: str | None
    subledger_id: str
    customer_session_id: str | None
    customer_profile_id: str | None
    validity_duration: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> LoyaltyPoints:
        raw = _obj(data)
        return cls(
            id=to_int(raw.get("id")),
            transaction_uuid=to_str(raw.get("transactionUUID")) or "",
            program_id=to_int(raw.get("programId")),
            amount=_points(raw.get("amount")),
            name=to_str(raw.get("name")) or "",
            created=to_str(raw.get("created")),
            start_date=to_str(raw.get("startDate")),
            expiry_date=to_str(raw.get("expiryDate")),
            subledger_id=to_str(raw.get("subledgerId")) or "",
            customer_session_id=to_str(raw.get("customerSessionId")),
            customer_profile_id=to_str(raw.get("customerProfileID")),
            validity_duration=to_str(raw.get("validityDuration")),
            raw=raw,
        )


@dataclass(frozen=True)
class LoyaltyTransaction:
    """One line of a ledger's history (``LedgerTransactionLogEntryIntegrationAPI``, card too).

    ``type`` is ``addition`` or ``subtraction``; ``amount`` is always positive.
    """

    id: int | None
    transaction_uuid: str
    type: str
    amount: Decimal
    name: str
    program_id: int | None
    created: str | None
    start_date: str | None
    expiry_date: str | None
    subledger_id: str
    customer_session_id: str | None
    card_identifier: str | None
    ruleset_id: int | None
    rule_name: str | None
    creates_negative_balance: bool
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> LoyaltyTransaction:
        raw = _obj(data)
        flags = _obj(raw.get("flags"))
        return cls(
            id=to_int(raw.get("id")),
            transaction_uuid=to_str(raw.get("transactionUUID")) or "",
            type=to_str(raw.get("type")) or "",
            amount=_points(raw.get("amount")),
            name=to_str(raw.get("name")) or "",
            program_id=to_int(raw.get("programId")),
            created=to_str(raw.get("created")),
            start_date=to_str(raw.get("startDate")),
            expiry_date=to_str(raw.get("expiryDate")),
            subledger_id=to_str(raw.get("subledgerId")) or "",
            customer_session_id=to_str(raw.get("customerSessionId")),
            card_identifier=to_str(raw.get("cardIdentifier")),
            ruleset_id=to_int(raw.get("rulesetId")),
            rule_name=to_str(raw.get("ruleName")),
            creates_negative_balance=bool(to_bool(flags.get("createsNegativeBalance"))),
            raw=raw,
        )


@dataclass(frozen=True)
class LoyaltyPage(Generic[T]):
    """A ``{hasMore, data}`` list answer (the loyalty lists have no total): ask for the next
    page with ``skip`` += the page size while ``has_more``."""

    has_more: bool
    data: list[T]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @staticmethod
    def decode(data: Any, item: Callable[[Any], T]) -> LoyaltyPage[T]:
        raw = _obj(data)
        return LoyaltyPage(
            has_more=bool(to_bool(raw.get("hasMore"))),
            data=[item(obj) for obj in _objs(raw.get("data"))],
            raw=raw,
        )


@dataclass(frozen=True)
class LedgerBalance:
    """A card's (or a program membership's) ``LedgerInfo``."""

    current_balance: Decimal
    pending_balance: Decimal
    negative_balance: Decimal
    tentative_current_balance: Decimal | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> LedgerBalance:
        raw = _obj(data)
        return cls(
            current_balance=_points(raw.get("currentBalance")),
            pending_balance=_points(raw.get("pendingBalance")),
            negative_balance=_points(raw.get("negativeBalance")),
            tentative_current_balance=to_decimal(raw.get("tentativeCurrentBalance")),
            raw=raw,
        )


@dataclass(frozen=True)
class LoyaltyCard:
    """A loyalty card (``LoyaltyCard``): identifier, status, linked customers, its ledger."""

    id: int | None
    identifier: str
    program_id: int | None
    status: str
    block_reason: str | None
    users_per_card_limit: int | None
    profiles: list[LoyaltyCardProfile]
    ledger: LedgerBalance | None
    subledgers: dict[str, LedgerBalance]
    created: str | None
    modified: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> LoyaltyCard:
        raw = _obj(data)
        subs = raw.get("subledgers")
        ledger = raw.get("ledger")
        return cls(
            id=to_int(raw.get("id")),
            identifier=to_str(raw.get("identifier")) or "",
            program_id=to_int(raw.get("programID")),
            status=to_str(raw.get("status")) or "",
            block_reason=to_str(raw.get("blockReason")),
            users_per_card_limit=to_int(raw.get("usersPerCardLimit")),
            profiles=[LoyaltyCardProfile.from_json(p) for p in _objs(raw.get("profiles"))],
            ledger=LedgerBalance.from_json(ledger) if isinstance(ledger, Mapping) else None,
            subledgers={
                str(k): LedgerBalance.from_json(v)
                for k, v in (subs.items() if isinstance(subs, Mapping) else ())
            },
            created=to_str(raw.get("created")),
            modified=to_str(raw.get("modified")),
            raw=raw,
        )


@dataclass(frozen=True)
class LoyaltyLedgerEntry:
    """A ledger entry (``LoyaltyLedgerEntry``), e.g. points that were just activated."""

    type: str
    amount: Decimal
    name: str
    program_id: int | None
    sub_ledger_id: str
    customer_profile_id: str | None
    customer_session_id: str | None
    card_id: int | None
    start_date: str | None
    expiry_date: str | None
    created: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> LoyaltyLedgerEntry:
        raw = _obj(data)
        return cls(
            type=to_str(raw.get("type")) or "",
            amount=_points(raw.get("amount")),
            name=to_str(raw.get("name")) or "",
            program_id=to_int(raw.get("programID")),
            sub_ledger_id=to_str(raw.get("subLedgerID")) or "",
            customer_profile_id=to_str(raw.get("customerProfileID")),
            customer_session_id=to_str(raw.get("customerSessionID")),
            card_id=to_int(raw.get("cardID")),
            start_date=to_str(raw.get("startDate")),
            expiry_date=to_str(raw.get("expiryDate")),
            created=to_str(raw.get("created")),
            raw=raw,
        )


@dataclass(frozen=True)
class ActivatedPoints:
    """Answer of ``activate_loyalty_points``: the entries that became active."""

    ledger_entries: list[LoyaltyLedgerEntry]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> ActivatedPoints:
        raw = _obj(data)
        entries = [LoyaltyLedgerEntry.from_json(e) for e in _objs(raw.get("ledgerEntries"))]
        return cls(ledger_entries=entries, raw=raw)


@dataclass(frozen=True)
class AchievementProgress:
    """Progress towards an achievement (``AchievementProgress``): ``status`` is
    ``inprogress``, ``completed``, ``expired`` or ``not_started``."""

    status: str
    progress: Decimal
    start_date: str | None
    completion_date: str | None
    end_date: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> AchievementProgress:
        raw = _obj(data)
        return cls(
            status=to_str(raw.get("status")) or "",
            progress=_points(raw.get("progress")),
            start_date=to_str(raw.get("startDate")),
            completion_date=to_str(raw.get("completionDate")),
            end_date=to_str(raw.get("endDate")),
            raw=raw,
        )


@dataclass(frozen=True)
class Achievement:
    """An achievement and the customer's current progress (``AchievementStatusEntry``)."""

    id: int | None
    name: str
    title: str
    description: str
    target: Decimal | None
    campaign_id: int | None
    status: str | None
    current_progress: AchievementProgress | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> Achievement:
        raw = _obj(data)
        progress = raw.get("currentProgress")
        return cls(
            id=to_int(raw.get("id")),
            name=to_str(raw.get("name")) or "",
            title=to_str(raw.get("title")) or "",
            description=to_str(raw.get("description")) or "",
            target=to_decimal(raw.get("target")),
            campaign_id=to_int(raw.get("campaignId")),
            status=to_str(raw.get("status")),
            current_progress=AchievementProgress.from_json(progress)
            if isinstance(progress, Mapping)
            else None,
            raw=raw,
        )
