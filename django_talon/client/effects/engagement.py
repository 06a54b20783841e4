"""Effects outside the order: giveaways, audience membership, achievement progress."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .base import Effect, register

__all__ = [
    "AddToAudience",
    "AwardGiveaway",
    "IncreaseAchievementProgress",
    "RemoveFromAudience",
    "RollbackIncreasedAchievementProgress",
    "WillAwardGiveaway",
]


@dataclass(frozen=True, kw_only=True)
class _GiveawayEffect(Effect):
    """A giveaway from pool ``pool_id`` for the recipient (now or when the session closes)."""

    pool_id: int = 0
    pool_name: str = ""
    recipient_integration_id: str = ""


@register("awardGiveaway")
@dataclass(frozen=True, kw_only=True)
class AwardGiveaway(_GiveawayEffect):
    """Giveaway code ``code`` from pool ``pool_id`` goes to the recipient."""

    giveaway_id: int = 0
    code: str = ""


@register("willAwardGiveaway")
@dataclass(frozen=True, kw_only=True)
class WillAwardGiveaway(_GiveawayEffect):
    """A giveaway will be awarded when the session closes."""


@dataclass(frozen=True, kw_only=True)
class _AudienceMembershipEffect(Effect):
    """A profile's membership of an audience changed (same props for joining and leaving)."""

    audience_id: int | None = None
    audience_name: str | None = None
    profile_integration_id: str | None = None
    profile_id: int | None = None


@register("addToAudience")
@dataclass(frozen=True, kw_only=True)
class AddToAudience(_AudienceMembershipEffect):
    """The profile joined an audience."""


@register("removeFromAudience")
@dataclass(frozen=True, kw_only=True)
class RemoveFromAudience(_AudienceMembershipEffect):
    """The profile left an audience."""


@register("increaseAchievementProgress")
@dataclass(frozen=True, kw_only=True)
class IncreaseAchievementProgress(Effect):
    """Achievement progress went up by ``delta`` to ``value`` of ``target``."""

    achievement_id: int = 0
    achievement_name: str = ""
    progress_tracker_id: int | None = None
    delta: Decimal = Decimal(0)
    value: Decimal = Decimal(0)
    target: Decimal = Decimal(0)
    is_just_completed: bool = False


@register("rollbackIncreasedAchievementProgress")
@dataclass(frozen=True, kw_only=True)
class RollbackIncreasedAchievementProgress(Effect):
    """Achievement progress of a rolled-back session is taken back."""

    achievement_id: int = 0
    achievement_name: str = ""
    progress_tracker_id: int = 0
    decrease_progress_by: Decimal = Decimal(0)
    current_progress: Decimal = Decimal(0)
    target: Decimal = Decimal(0)
