"""Achievement operations: a customer's achievements and the history of one (both reads).

``GET /v1/customer_profiles/{integrationId}/achievements`` and
``GET /v1/customer_profiles/{integrationId}/achievements/{achievementId}``; both are safe to
repeat. Array filters are sent as the spec says for these two operations: ``style: form,
explode: false``, one key with the values separated by commas (``campaignIds=10,11``), as
the official SDKs send them. (The loyalty reads' filters are exploded instead, one key per
value: see :mod:`.loyalty`.) Every value is an integer or one of a few fixed words, so no
value can hold a comma.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlencode

from ..errors import TalonValidationError
from ..loyalty_models import Achievement, AchievementProgress
from ..models import Page
from ..validation import check_integration_id
from .base import OperationGroup, segment
from .loyalty import QueryPairs, as_moment, check_page, check_program_id

__all__ = ["AchievementOperations"]

ACHIEVEMENT_STATUSES = ("active", "scheduled")
CURRENT_PROGRESS_STATUSES = ("inprogress", "completed", "not_started")
HISTORY_STATUSES = ("inprogress", "completed", "expired")


def _with_query(path: str, pairs: QueryPairs) -> str:
    """``path?query``, the commas between array values as they are (``campaignIds=10,11``,
    the delimiter of OpenAPI's form style; the official SDKs send it unescaped)."""
    return f"{path}?{urlencode(pairs, safe=',')}" if pairs else path


def _ids(pairs: QueryPairs, name: str, values: Sequence[int] | None, field: str) -> None:
    if values is None:
        return
    if isinstance(values, (str, bytes)):
        raise TalonValidationError("must be a list of integers", field=field)
    ids = [str(check_program_id(v, field)) for v in values]
    if ids:
        pairs.append((name, ",".join(ids)))  # style form, explode false


def _states(
    pairs: QueryPairs,
    name: str,
    values: Sequence[str] | None,
    allowed: tuple[str, ...],
    field: str,
) -> None:
    if values is None:
        return
    states = [] if isinstance(values, str) else list(values)
    if isinstance(values, str) or any(v not in allowed for v in states):
        raise TalonValidationError(f"must be a list of {', '.join(allowed)}", field=field)
    if states:
        pairs.append((name, ",".join(states)))  # style form, explode false


class AchievementOperations(OperationGroup):
    """Operations on ``/v1/customer_profiles/{id}/achievements``."""

    def get_customer_achievements(
        self,
        integration_id: str,
        *,
        campaign_ids: Sequence[int] | None = None,
        achievement_ids: Sequence[int] | None = None,
        achievement_status: Sequence[str] | None = None,
        current_progress_status: Sequence[str] | None = None,
        page_size: int | None = None,
        skip: int | None = None,
    ) -> Page[Achievement]:
        """The achievements a customer can work on, each with their current progress."""
        check_integration_id(integration_id, "integration_id")
        pairs: QueryPairs = []
        _ids(pairs, "campaignIds", campaign_ids, "campaign_ids")
        _ids(pairs, "achievementIds", achievement_ids, "achievement_ids")
        _states(
            pairs,
            "achievementStatus",
            achievement_status,
            ACHIEVEMENT_STATUSES,
            "achievement_status",
        )
        _states(
            pairs,
            "currentProgressStatus",
            current_progress_status,
            CURRENT_PROGRESS_STATUSES,
            "current_progress_status",
        )
        check_page(pairs, page_size, skip)
        path = f"/v1/customer_profiles/{segment(integration_id)}/achievements"
        data = self._send_for_object(
            "getCustomerAchievements", "GET", _with_query(path, pairs), safe_to_retry=True
        )
        return Page.decode(data, Achievement.from_json)

    def get_customer_achievement_history(
        self,
        integration_id: str,
        achievement_id: int,
        *,
        progress_status: Sequence[str] | None = None,
        start_date: datetime | str | None = None,
        end_date: datetime | str | None = None,
        page_size: int | None = None,
        skip: int | None = None,
    ) -> Page[AchievementProgress]:
        """A customer's runs at one achievement (completed, expired, in progress), newest
        first."""
        check_integration_id(integration_id, "integration_id")
        check_program_id(achievement_id, "achievement_id")
        pairs: QueryPairs = []
        _states(pairs, "progressStatus", progress_status, HISTORY_STATUSES, "progress_status")
        if start_date is not None:
            pairs.append(("startDate", as_moment(start_date, "start_date")))
        if end_date is not None:
            pairs.append(("endDate", as_moment(end_date, "end_date")))
        check_page(pairs, page_size, skip)
        path = f"/v1/customer_profiles/{segment(integration_id)}/achievements/{achievement_id}"
        data = self._send_for_object(
            "getCustomerAchievementHistory", "GET", _with_query(path, pairs), safe_to_retry=True
        )
        return Page.decode(data, AchievementProgress.from_json)
