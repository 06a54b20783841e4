"""Referral codes for many advocates at once: ``POST /v1/referrals_for_multiple_advocates``.

One new code per advocate (profiles are created if new), with the shared constraints of the
request; ``referralPattern`` (``#`` = one random character of ``validCharacters``, default
upper-case letters and digits) shapes the codes. All-or-nothing: the request is checked
completely before the first code is made. ``silent`` (the API's default) answers 204.
"""

from __future__ import annotations

import string
from typing import Any

from django_talon.emulator.errors import bad_request
from django_talon.emulator.store.coupons import CouponsMixin
from django_talon.emulator.store.parsing import MAX_BATCH
from django_talon.emulator.util import want_int, want_list, want_object, want_str

DEFAULT_PATTERN = "REF-######"
#: ``Referral.code`` has ``minLength: 4`` (the pattern's own minimum, 3, would allow less)
MIN_CODE_LENGTH = 4


class ReferralBatchMixin(CouponsMixin):
    """``POST /v1/referrals_for_multiple_advocates``."""

    def create_referrals_for_advocates(
        self, body: Any, query: dict[str, str]
    ) -> dict[str, Any] | None:
        """Create the codes; ``None`` when silent (204)."""
        silent = query.get("silent", "yes")
        if silent not in ("yes", "no"):
            raise bad_request("silent must be yes or no", parameter="silent")
        body = want_object(body, "")
        campaign_id = want_int(body.get("campaignId"), "/campaignId")
        raw = want_list(
            body.get("advocateProfileIntegrationIds"),
            "/advocateProfileIntegrationIds",
            max_items=MAX_BATCH,
        )
        if not raw:
            raise bad_request(
                "/advocateProfileIntegrationIds must name at least one advocate",
                pointer="/advocateProfileIntegrationIds",
            )
        advocates = [
            want_str(v, f"/advocateProfileIntegrationIds/{i}", min_length=1, max_length=1000)
            for i, v in enumerate(raw)
        ]
        pattern = want_str(
            body.get("referralPattern", DEFAULT_PATTERN),
            "/referralPattern",
            min_length=3,
            max_length=100,
        )
        if "#" not in pattern or len(pattern) < MIN_CODE_LENGTH:
            raise bad_request(
                f"/referralPattern needs a # and at least {MIN_CODE_LENGTH} characters "
                "(a referral code has at least 4)",
                pointer="/referralPattern",
            )
        alphabet = [
            want_str(c, f"/validCharacters/{i}", min_length=1, max_length=1)
            for i, c in enumerate(
                want_list(
                    body.get("validCharacters", list(string.ascii_uppercase + string.digits)),
                    "/validCharacters",
                )
            )
        ]
        if not alphabet:
            raise bad_request("/validCharacters must not be empty", pointer="/validCharacters")
        shared = {
            k: body[k] for k in ("startDate", "expiryDate", "usageLimit", "attributes") if k in body
        }
        with self.lock:
            made = []
            for advocate in advocates:
                referral = self.create_referral(
                    {"campaignId": campaign_id, "advocateProfileIntegrationId": advocate, **shared}
                )
                made.append(self._recode(referral["code"], pattern, alphabet))
            if silent == "yes":
                return None
            return {"totalResultSize": len(made), "data": made}

    def _recode(self, code: str, pattern: str, alphabet: list[str]) -> dict[str, Any]:
        """Give a just-made referral a code following ``pattern`` (unique, case-insensitive)."""
        referral = self.referrals.pop(code.casefold())
        for _ in range(1000):
            candidate = "".join(self.rng.choice(alphabet) if ch == "#" else ch for ch in pattern)
            if candidate.casefold() not in self.referrals:
                break
        else:
            raise bad_request(
                "referralPattern has no unused codes left", pointer="/referralPattern"
            )
        referral.code = candidate
        self.referrals[candidate.casefold()] = referral
        return referral.to_api()
