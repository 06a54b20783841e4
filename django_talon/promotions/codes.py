"""The outcome of each coupon and referral code, and the shopper message for a rejection.

Talon.One answers one code with several effects (one per campaign that looked at it), so
the outcome is collected over all of them: one accept anywhere wins, otherwise the first
rejection's reason is the one shown, and a code the shopper entered that no effect mentions
yet is ``pending`` (its answer is still in the outbox).

Talon.One matches codes case-insensitively (``welcome10`` redeems ``WELCOME10``), so every
comparison of two codes in the app goes through :func:`code_key` (or :func:`same_code` /
:func:`find_code`): a code typed in another case is the same code, everywhere (applying,
removing, the results shown, reservations). A code is *stored* as it was entered (or, for a
reservation, as Talon.One spells it); only comparisons fold the case.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from django_talon.messages import CodeKind, rejection_message

__all__ = [
    "CodeCollector",
    "CodeResult",
    "CodeStatus",
    "clean_code",
    "code_key",
    "find_code",
    "same_code",
]

CodeStatus = Literal["accepted", "rejected", "pending"]


def clean_code(code: str) -> str:
    """A code as the app stores it: surrounding whitespace removed, the case kept."""
    return code.strip()


def code_key(code: str) -> str:
    """What two codes are compared by: Talon.One's case-insensitive match (``casefold``)."""
    return code.strip().casefold()


def same_code(first: str, second: str) -> bool:
    """Whether two spellings name the same code for Talon.One (``WELCOME10``/``welcome10``)."""
    return code_key(first) == code_key(second)


def find_code(codes: Iterable[str], code: str) -> str | None:
    """The spelling in ``codes`` of ``code`` (compared case-insensitively), or None."""
    key = code_key(code)
    return next((each for each in codes if code_key(each) == key), None)


@dataclass(frozen=True)
class CodeResult:
    """The outcome of one coupon or referral code the shopper entered."""

    code: str
    kind: CodeKind
    status: CodeStatus
    reason: str = ""
    campaign_ids: tuple[int, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"

    @property
    def rejected(self) -> bool:
        return self.status == "rejected"

    @property
    def message(self) -> str:
        """Translated shopper message for a rejection ("" otherwise), in the active language."""
        if self.status != "rejected":
            return ""
        return rejection_message(self.kind, self.reason, self.code)


class CodeCollector:
    """Collects accept/reject effects per code: one accept anywhere wins (a code can be
    rejected by one campaign with ``...PartOfNotTriggeredCampaign`` and accepted by another).

    Codes are collected by :func:`code_key`, so an effect about ``WELCOME10`` answers the
    code the shopper typed as ``welcome10``; a result carries the spelling the shopper
    entered (the first spelling seen when the code was not entered)."""

    def __init__(self, kind: CodeKind) -> None:
        self.kind: CodeKind = kind
        self.order: list[str] = []  # code keys, in the order first seen
        self.spelling: dict[str, str] = {}
        self.accepted: dict[str, list[int]] = {}
        self.rejected: dict[str, tuple[str, list[int]]] = {}

    def _seen(self, code: str) -> str:
        key = code_key(code)
        if key not in self.spelling:
            self.order.append(key)
            self.spelling[key] = code
        return key

    def accept(self, code: str, campaign_id: int | None) -> None:
        ids = self.accepted.setdefault(self._seen(code), [])
        if campaign_id is not None:
            ids.append(campaign_id)

    def reject(self, code: str, reason: str, campaign_id: int | None) -> None:
        _first_reason, ids = self.rejected.setdefault(self._seen(code), (reason, []))
        if campaign_id is not None:
            ids.append(campaign_id)

    def results(self, entered: Sequence[str]) -> list[CodeResult]:
        """One result per code, in the order first seen (effects first, then ``entered``)."""
        for code in entered:
            if code:
                self._seen(code)
                self.spelling[code_key(code)] = code  # shown as the shopper typed it
        out = []
        for key in self.order:
            code = self.spelling[key]
            if key in self.accepted:
                out.append(CodeResult(code, self.kind, "accepted", "", tuple(self.accepted[key])))
            elif key in self.rejected:
                reason, ids = self.rejected[key]
                out.append(CodeResult(code, self.kind, "rejected", reason, tuple(ids)))
            else:
                out.append(CodeResult(code, self.kind, "pending"))
        return out
