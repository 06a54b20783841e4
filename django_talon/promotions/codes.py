"""The outcome of each coupon and referral code, and the shopper message for a rejection.

Talon.One answers one code with several effects (one per campaign that looked at it), so
the outcome is collected over all of them: one accept anywhere wins, otherwise the first
rejection's reason is the one shown, and a code the shopper entered that no effect mentions
yet is ``pending`` (its answer is still in the outbox).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from django_talon.messages import CodeKind, rejection_message

__all__ = ["CodeCollector", "CodeResult", "CodeStatus"]

CodeStatus = Literal["accepted", "rejected", "pending"]


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
    rejected by one campaign with ``...PartOfNotTriggeredCampaign`` and accepted by another)."""

    def __init__(self, kind: CodeKind) -> None:
        self.kind: CodeKind = kind
        self.order: list[str] = []
        self.accepted: dict[str, list[int]] = {}
        self.rejected: dict[str, tuple[str, list[int]]] = {}

    def _seen(self, code: str) -> None:
        if code not in self.order:
            self.order.append(code)

    def accept(self, code: str, campaign_id: int | None) -> None:
        self._seen(code)
        ids = self.accepted.setdefault(code, [])
        if campaign_id is not None:
            ids.append(campaign_id)

    def reject(self, code: str, reason: str, campaign_id: int | None) -> None:
        self._seen(code)
        _first_reason, ids = self.rejected.setdefault(code, (reason, []))
        if campaign_id is not None:
            ids.append(campaign_id)

    def results(self, entered: Sequence[str]) -> list[CodeResult]:
        """One result per code, in the order first seen (effects first, then ``entered``)."""
        for code in entered:
            if code:
                self._seen(code)
        out = []
        for code in self.order:
            if code in self.accepted:
                out.append(CodeResult(code, self.kind, "accepted", "", tuple(self.accepted[code])))
            elif code in self.rejected:
                reason, ids = self.rejected[code]
                out.append(CodeResult(code, self.kind, "rejected", reason, tuple(ids)))
            else:
                out.append(CodeResult(code, self.kind, "pending"))
        return out
