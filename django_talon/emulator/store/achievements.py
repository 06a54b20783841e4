"""Achievements: a customer's progress, fed by closed sessions, and the two endpoints.

``GET /v1/customer_profiles/{id}/achievements`` and
``GET /v1/customer_profiles/{id}/achievements/{achievementId}`` (the history). Progress comes
from ``increaseAchievementProgress`` effects when a session closes and goes back with
``rollbackIncreasedAchievementProgress`` when it is cancelled or reopened (unless the
achievement was completed and may not roll back after completion). An achievement with a
``period`` runs in trackers: the first progress starts one, which ends ``period`` later
(completed or expired); the next progress starts a new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django_talon.emulator.campaign_loyalty import AchievementSpec
from django_talon.emulator.errors import bad_request, not_found
from django_talon.emulator.store.state import StoreState
from django_talon.emulator.util import isoformat, money, parse_datetime, utcnow, want_int

#: query values the spec allows per filter
_ACHIEVEMENT_STATUS = ("active", "scheduled")
_PROGRESS_STATUS = ("inprogress", "completed", "not_started")
_HISTORY_STATUS = ("inprogress", "completed", "expired")


@dataclass
class Tracker:
    """One run towards an achievement: progress, when it started, ended, was completed."""

    progress: float
    start: datetime
    end: datetime | None = None
    completed: datetime | None = None

    def status(self, target: float, at: datetime) -> str:
        if self.completed is not None:
            return "completed"
        if self.end is not None and self.end <= at:
            return "expired"
        return "inprogress"

    def to_api(self, target: float, at: datetime) -> dict[str, Any]:
        """``AchievementProgress``."""
        data: dict[str, Any] = {
            "status": self.status(target, at),
            "progress": money(self.progress),
            "startDate": isoformat(self.start),
        }
        if self.completed is not None:
            data["completionDate"] = isoformat(self.completed)
        if self.end is not None:
            data["endDate"] = isoformat(self.end)
        return data


@dataclass
class Progress:
    """A customer's trackers for one achievement, the newest last."""

    trackers: list[Tracker] = field(default_factory=list)

    def current(self, spec: AchievementSpec, at: datetime) -> Tracker | None:
        """The tracker that counts now (None: not started, or the last one expired)."""
        if not self.trackers:
            return None
        last = self.trackers[-1]
        return None if last.status(spec.target, at) == "expired" else last


class AchievementsMixin(StoreState):
    """Achievement progress and the achievement endpoints."""

    def _reset_achievements(self) -> None:
        self.achievement_progress_by: dict[tuple[int, str], Progress] = {}

    # --- what the rule engine reads (see engine.loyalty.LoyaltyView) ----------------------

    def achievement_spec(self, achievement_id: int) -> AchievementSpec | None:
        return self.campaign_set.achievements.get(achievement_id)

    def achievement_progress(self, achievement_id: int, profile_id: str, now: datetime) -> float:
        spec = self.campaign_set.achievements.get(achievement_id)
        progress = self.achievement_progress_by.get((achievement_id, profile_id))
        if spec is None or progress is None:
            return 0.0
        tracker = progress.current(spec, now)
        return tracker.progress if tracker is not None else 0.0

    # --- close and rollback ---------------------------------------------------------------

    def _progress_achievement(self, effect: dict[str, Any], profile_id: str, now: datetime) -> None:
        """A closed session's ``increaseAchievementProgress``."""
        props = effect["props"]
        spec = self.campaign_set.achievements.get(int(props["achievementId"]))
        if spec is None or not profile_id:
            return
        progress = self.achievement_progress_by.setdefault((spec.id, profile_id), Progress())
        tracker = progress.current(spec, now)
        if tracker is None:
            end = now + spec.period if spec.period is not None else None
            tracker = Tracker(progress=0.0, start=now, end=end)
            progress.trackers.append(tracker)
        if tracker.completed is not None:
            return
        tracker.progress = min(spec.target, tracker.progress + float(props["delta"]))
        if tracker.progress >= spec.target:
            tracker.completed = now

    def _achievement_rollback(
        self, head: dict[str, Any], effect: dict[str, Any], profile_id: str, now: datetime
    ) -> list[dict[str, Any]]:
        """The ``rollbackIncreasedAchievementProgress`` for a closed session's progress."""
        props = effect["props"]
        spec = self.campaign_set.achievements.get(int(props["achievementId"]))
        progress = self.achievement_progress_by.get((int(props["achievementId"]), profile_id))
        tracker = progress.current(spec, now) if progress and spec else None
        if spec is None or tracker is None:
            return []
        if tracker.completed is not None and not spec.allow_rollback_after_completion:
            return []
        decrease = min(float(props["delta"]), tracker.progress)
        undo = {
            "achievementId": spec.id,
            "achievementName": spec.name,
            "progressTrackerId": spec.id,
            "decreaseProgressBy": decrease,
            "currentProgress": money(tracker.progress - decrease),
            "target": spec.target,
        }
        return [{**head, "effectType": "rollbackIncreasedAchievementProgress", "props": undo}]

    def _undo_achievement(self, rollback: dict[str, Any], profile_id: str, now: datetime) -> None:
        props = rollback["props"]
        spec = self.campaign_set.achievements.get(int(props["achievementId"]))
        progress = self.achievement_progress_by.get((int(props["achievementId"]), profile_id))
        tracker = progress.current(spec, now) if progress and spec else None
        if tracker is not None:
            tracker.progress = money(
                max(0.0, tracker.progress - float(props["decreaseProgressBy"]))
            )
            if spec is not None and tracker.progress < spec.target:
                tracker.completed = None

    # --- rendering ------------------------------------------------------------------------

    def _achievement_state(self, spec: AchievementSpec, now: datetime) -> str:
        campaign = self.campaign_by_id.get(spec.campaign_id)
        if spec.start_date is not None and now < spec.start_date:
            return "scheduled"
        return "active" if campaign is not None and campaign.running(now) else "scheduled"

    def _current_progress(
        self, spec: AchievementSpec, profile_id: str, now: datetime
    ) -> dict[str, Any]:
        progress = self.achievement_progress_by.get((spec.id, profile_id))
        tracker = progress.current(spec, now) if progress is not None else None
        if tracker is None:
            return {"status": "not_started", "progress": 0.0}
        return tracker.to_api(spec.target, now)

    def _achievement_definition(self, spec: AchievementSpec) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": spec.name,
            "title": spec.title,
            "description": spec.description,
            "target": spec.target,
            "campaignId": spec.campaign_id,
            "recurrencePolicy": "no_recurrence" if spec.period is None else "on_expiration",
            "activationPolicy": "user_action",
            "allowRollbackAfterCompletion": spec.allow_rollback_after_completion,
        }
        if spec.period is not None:
            data["period"] = f"{int(spec.period.total_seconds() // 86400)}D"
        return data

    def _inventory_achievements(self, profile_id: str, now: datetime) -> list[dict[str, Any]]:
        """The inventory's ``achievements``: ``AchievementProgressWithDefinition`` items."""
        result = []
        for spec in self.campaign_set.achievements.values():
            if (spec.id, profile_id) not in self.achievement_progress_by:
                continue
            result.append(
                {
                    **self._current_progress(spec, profile_id, now),
                    "achievementId": spec.id,
                    "name": spec.name,
                    "title": spec.title,
                    "description": spec.description,
                    "campaignId": spec.campaign_id,
                    "target": spec.target,
                    "achievementRecurrencePolicy": "no_recurrence"
                    if spec.period is None
                    else "on_expiration",
                    "achievementActivationPolicy": "user_action",
                    "achievementAllowRollbackAfterCompletion": spec.allow_rollback_after_completion,
                }
            )
        return result

    # --- endpoints ------------------------------------------------------------------------

    def customer_achievements(
        self, integration_id: str, query: dict[str, str], lists: dict[str, list[str]]
    ) -> dict[str, Any]:
        """GET /v1/customer_profiles/{integrationId}/achievements."""
        campaign_ids = _int_filter(lists, "campaignIds")
        achievement_ids = _int_filter(lists, "achievementIds")
        states = _enum_filter(lists, "achievementStatus", _ACHIEVEMENT_STATUS)
        progress_states = _enum_filter(lists, "currentProgressStatus", _PROGRESS_STATUS)
        page_size, skip = page_args(query, default_size=1000)
        with self.lock:
            if integration_id not in self.profiles:
                raise not_found(f"customer profile {integration_id!r} not found", "customerProfile")
            now = utcnow()
            rows = []
            for spec in sorted(self.campaign_set.achievements.values(), key=lambda a: a.id):
                state = self._achievement_state(spec, now)
                current = self._current_progress(spec, integration_id, now)
                if (
                    (campaign_ids and spec.campaign_id not in campaign_ids)
                    or (achievement_ids and spec.id not in achievement_ids)
                    or (states and state not in states)
                    or (progress_states and current["status"] not in progress_states)
                ):
                    continue
                created = self.campaign_by_id[spec.campaign_id].created or now
                rows.append(
                    {
                        "id": spec.id,
                        "created": isoformat(created),
                        **self._achievement_definition(spec),
                        "status": state,
                        "currentProgress": current,
                    }
                )
            return {"totalResultSize": len(rows), "data": rows[skip : skip + page_size]}

    def achievement_history(
        self,
        integration_id: str,
        achievement_id: str,
        query: dict[str, str],
        lists: dict[str, list[str]],
    ) -> dict[str, Any]:
        """GET /v1/customer_profiles/{integrationId}/achievements/{achievementId}."""
        aid = want_int(_number(achievement_id), "achievementId")
        states = _enum_filter(lists, "progressStatus", _HISTORY_STATUS)
        page_size, skip = page_args(query, default_size=1000)
        start = _date_arg(query, "startDate")
        end = _date_arg(query, "endDate")
        with self.lock:
            if integration_id not in self.profiles:
                raise not_found(f"customer profile {integration_id!r} not found", "customerProfile")
            spec = self.campaign_set.achievements.get(aid)
            if spec is None:
                raise not_found(f"achievement {aid} not found", "achievement")
            now = utcnow()
            progress = self.achievement_progress_by.get((aid, integration_id), Progress())
            rows = [
                t.to_api(spec.target, now)
                for t in reversed(progress.trackers)
                if (not states or t.status(spec.target, now) in states)
                and (start is None or t.start >= start)
                and (end is None or t.start <= end)
            ]
            return {"totalResultSize": len(rows), "data": rows[skip : skip + page_size]}


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text


def _int_filter(lists: dict[str, list[str]], name: str) -> set[int]:
    values = set()
    for raw in lists.get(name, []):
        for part in raw.split(","):
            if part:
                values.add(want_int(_number(part), name))
    return values


def _enum_filter(lists: dict[str, list[str]], name: str, allowed: tuple[str, ...]) -> set[str]:
    values = {part for raw in lists.get(name, []) for part in raw.split(",") if part}
    for value in values:
        if value not in allowed:
            raise bad_request(f"{name} must be one of {', '.join(allowed)}", parameter=name)
    return values


def page_args(query: dict[str, str], *, default_size: int) -> tuple[int, int]:
    """``pageSize`` (1..1000) and ``skip`` (>= 0) of a list endpoint, 400 when invalid."""
    size = want_int(
        _number(query.get("pageSize", str(default_size))), "pageSize", minimum=1, maximum=1000
    )
    skip = want_int(_number(query.get("skip", "0")), "skip", minimum=0)
    return size, skip


def _date_arg(query: dict[str, str], name: str) -> datetime | None:
    return parse_datetime(query[name], name) if query.get(name) else None
