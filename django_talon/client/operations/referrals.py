"""Referral codes for many advocates at once (``POST /v1/referrals_for_multiple_advocates``).

Not retried: every call makes new codes, so a repeat after a lost success would give each
advocate a second one. The single-advocate ``create_referral`` is in :mod:`.codes`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..answers import ReferralBatch
from ..errors import TalonValidationError
from ..validation import check_batch, check_integration_id
from .base import OperationGroup, require_id, require_mapping

__all__ = ["ReferralOperations"]

#: ``referralPattern``: 3..100 characters, ``#`` stands for one random character.
PATTERN_LENGTH = (3, 100)


class ReferralOperations(OperationGroup):
    """Operations on ``/v1/referrals_for_multiple_advocates``."""

    def create_referrals_for_multiple_advocates(
        self,
        campaign_id: int,
        advocate_profile_integration_ids: Sequence[str],
        *,
        start_date: datetime | str | None = None,
        expiry_date: datetime | str | None = None,
        usage_limit: int | None = None,
        attributes: Mapping[str, Any] | None = None,
        valid_characters: Sequence[str] | None = None,
        referral_pattern: str | None = None,
        silent: bool = False,
    ) -> ReferralBatch:
        """One new referral code per advocate, up to 1000 advocates per call.

        With ``silent=True`` the API answers 204 and the result is empty (faster when the
        codes are sent by Talon.One itself, e.g. through a webhook).
        """
        require_id(campaign_id, "campaign_id")
        advocates = check_batch(
            advocate_profile_integration_ids, "advocate_profile_integration_ids"
        )
        if not advocates:
            raise TalonValidationError(
                "must not be empty", field="advocate_profile_integration_ids"
            )
        for index, advocate in enumerate(advocates):
            check_integration_id(advocate, f"advocate_profile_integration_ids[{index}]")
        body: dict[str, Any] = {
            "campaignId": campaign_id,
            "advocateProfileIntegrationIds": advocates,
        }
        if start_date is not None:
            body["startDate"] = start_date
        if expiry_date is not None:
            body["expiryDate"] = expiry_date
        if usage_limit is not None:
            if (
                isinstance(usage_limit, bool)
                or not isinstance(usage_limit, int)
                or not (0 <= usage_limit <= 999_999)
            ):
                raise TalonValidationError("must be an integer 0..999999", field="usage_limit")
            body["usageLimit"] = usage_limit
        if attributes is not None:
            body["attributes"] = require_mapping(attributes, "attributes")
        if valid_characters is not None:
            chars = list(valid_characters)
            if not chars or not all(isinstance(c, str) and len(c) == 1 for c in chars):
                raise TalonValidationError(
                    "must be a non-empty list of single characters", field="valid_characters"
                )
            body["validCharacters"] = chars
        if referral_pattern is not None:
            low, high = PATTERN_LENGTH
            if not isinstance(referral_pattern, str) or not (low <= len(referral_pattern) <= high):
                raise TalonValidationError(
                    f"must be {low}..{high} characters", field="referral_pattern"
                )
            body["referralPattern"] = referral_pattern
        reply = self._send(
            "createReferralsForMultipleAdvocates",
            "POST",
            "/v1/referrals_for_multiple_advocates",
            body=body,
            has_body=True,
            query={"silent": "yes" if silent else "no"},
            safe_to_retry=False,
        )
        if reply.status == 204 or (silent and reply.body is None):
            # A 200 without a body when the codes were asked for is a TalonDecodeError
            # (_json_object): the codes were made, and an empty batch would hide them.
            return ReferralBatch.from_json({})
        return ReferralBatch.from_json(
            self._json_object(reply, "createReferralsForMultipleAdvocates")
        )
