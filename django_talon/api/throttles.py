"""DRF throttle for coupon/referral attempts, sharing the budget of the HTML form views."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from django_talon.throttling import CodeAttemptLimiter


class CodeAttemptThrottle(BaseThrottle):
    """``TALON["CODE_ATTEMPT_RATE"]`` per user (or IP for anonymous visitors) and, when set,
    ``TALON["CODE_ATTEMPT_RATE_PER_IP"]`` per IP -> HTTP 429 with ``Retry-After``.

    The counting is :class:`~django_talon.throttling.CodeAttemptLimiter`'s (a sliding window,
    atomic on shared caches), not DRF's ``SimpleRateThrottle``, whose history list is read and
    written back without a lock, so parallel requests can each pass on the same count.
    """

    def __init__(self) -> None:
        self.limiter = CodeAttemptLimiter()

    def allow_request(self, request: Request, view: Any) -> bool:
        # Only attempts count: reading promotions or removing a code costs nothing.
        if request.method not in ("POST", "PUT", "PATCH"):
            return True
        return self.limiter.allow(request._request)

    def wait(self) -> float | None:
        return self.limiter.wait_seconds or None
