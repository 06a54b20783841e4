"""What the rule engine may read of the store's loyalty ledgers and achievements.

A protocol of its own so that :mod:`.context` (whose ``Lookups`` carries it) and
:mod:`.loyalty` (whose rule actions read it) both depend on it without depending on each
other; the store (:mod:`django_talon.emulator.store.loyalty`) implements it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from django_talon.emulator.campaign_loyalty import AchievementSpec, LoyaltyProgramSpec


class LoyaltyView(Protocol):
    """What the rule actions read from the store's ledger (the store implements it)."""

    def loyalty_program(self, program_id: int) -> LoyaltyProgramSpec: ...

    def spendable_points(
        self, program_id: int, profile_id: str, card: str | None, sub_ledger: str, now: datetime
    ) -> float: ...

    def achievement_spec(self, achievement_id: int) -> AchievementSpec | None: ...

    def achievement_progress(
        self, achievement_id: int, profile_id: str, now: datetime
    ) -> float: ...
