"""Rate limit for coupon and referral code attempts (against guessing codes).

One limiter serves the HTML form views and the REST API, so a guesser cannot double the
budget by switching surfaces. The budget is ``TALON["CODE_ATTEMPT_RATE"]`` (default
``"10/minute"``; ``None`` disables it) per signed-in user, or per client IP for anonymous
visitors, counted in the ``TALON["CACHE_ALIAS"]`` cache (use a shared cache such as Redis
when you run several web processes).
"""

from __future__ import annotations

import logging
import time

from django.core.cache import caches
from django.http import HttpRequest

from django_talon.conf import talon_settings

logger = logging.getLogger(__name__)

DEFAULT_RATE = "10/minute"  # same as conf.DEFAULTS["CODE_ATTEMPT_RATE"]
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """``"10/minute"`` -> ``(10, 60)``; ``None``/``""`` -> ``None`` (no limit)."""
    if not rate:
        return None
    try:
        num, period = str(rate).split("/", 1)
        return int(num), _PERIODS[period.strip()[0].lower()]
    except (ValueError, KeyError, IndexError) as exc:
        raise ValueError(
            f"invalid TALON['CODE_ATTEMPT_RATE'] {rate!r}: use e.g. '10/minute'"
        ) from exc


def configured_rate() -> str | None:
    return talon_settings.CODE_ATTEMPT_RATE or None


def client_ident(request: HttpRequest) -> str:
    """``user:<pk>`` for signed-in users, ``ip:<REMOTE_ADDR>`` otherwise.

    Only ``REMOTE_ADDR`` is trusted: behind a proxy, set it from the forwarded header in a
    middleware you control (as DRF's ``NUM_PROXIES`` does); trusting ``X-Forwarded-For``
    blindly would let a guesser pick a fresh identity per request.
    """
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{request.META.get('REMOTE_ADDR', '')}"


class CodeAttemptLimiter:
    """Fixed-window counter of code attempts per client.

    ``cache.add`` + ``cache.incr`` are atomic on Redis, Memcached and the database cache, so
    parallel requests from one guesser across several processes cannot overrun the budget.
    """

    cache_prefix = "django_talon:code_attempts:"
    #: Seconds until the next attempt is allowed (set by :meth:`allow`).
    wait_seconds: float = 0.0

    def __init__(self, rate: str | None = None) -> None:
        self.rate = parse_rate(rate if rate is not None else configured_rate())

    def allow(self, request: HttpRequest) -> bool:
        """Record one attempt; False when the budget for the current window is used up."""
        self.wait_seconds = 0.0
        if self.rate is None:
            return True
        limit, period = self.rate
        cache = caches[talon_settings.CACHE_ALIAS]
        now = time.time()
        window = int(now // period)
        key = f"{self.cache_prefix}{client_ident(request)}:{period}:{window}"
        cache.add(key, 0, period + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: start the window again
            cache.set(key, 1, period + 1)
            count = 1
        if count > limit:
            self.wait_seconds = max(1.0, (window + 1) * period - now)
            logger.warning("Code attempts throttled for %s", client_ident(request))
            return False
        return True
