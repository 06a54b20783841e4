"""Rate limit for coupon and referral code attempts (against guessing codes).

One limiter serves the HTML form views and the REST API, so a guesser cannot double the
budget by switching surfaces. Two budgets, both counted in the ``TALON["CACHE_ALIAS"]``
cache (use a shared cache such as Redis when you run several web processes):

* ``TALON["CODE_ATTEMPT_RATE"]`` (default ``"10/minute"``; ``None`` disables it) per
  signed-in user, or per client IP for anonymous visitors;
* ``TALON["CODE_ATTEMPT_RATE_PER_IP"]`` (default ``None``: off) per client IP whoever is
  signed in, so that one machine with five accounts does not get five budgets.

An attempt must fit in both. A refused attempt is not counted: it tried no code.

**Why a sliding window in slots.** A fixed window (one counter per clock minute) lets twice
the budget through around a boundary: 10 guesses at 0:59.9 and 10 more at 1:00.0. Here each
budget's period is cut into :data:`SLOTS` slots, one cache counter per slot, and an attempt
counts the current slot plus the :data:`SLOTS` slots before it, i.e. every attempt since the
*start* of the slot one period ago. That span always covers the last full period, so no
``period``-long stretch of time ever holds more than ``limit`` allowed attempts (the price:
an attempt is remembered for up to ``period * (1 + 1/SLOTS)``, a little stricter, never
looser). A weighted two-window estimate would let up to 2x through in the worst case, and a
token bucket would allow ``limit`` plus the refill within one period; both are looser.

**Why it is atomic with plain cache calls.** An attempt first *reserves* its place with
``cache.add`` (create the slot counter) + ``cache.incr`` (one atomic INCR on Redis and
Memcached), then reads the older slots with one ``get_many`` and, when the total is over
the limit, gives the place back with ``cache.decr``. Every counter only rises by reservations
and falls by give-backs of refused attempts, so parallel attempts can at worst see each
other's pending reservations and refuse one that would have fit (conservative), never admit
one too many: with one guesser in several processes, exactly ``limit`` attempts get through
(``tests/surfaces/test_throttling.py`` runs that against a real Redis). No compare-and-set,
no Lua script, so any Django cache backend works; on the database cache ``incr`` is a read
and a write, not atomic, so a burst of parallel requests may overrun it slightly.

**Which IP.** ``REMOTE_ADDR`` by default. Behind reverse proxies set
``TALON["TRUSTED_PROXY_COUNT"]`` to their number (the address the outermost proxy saw is
taken from ``X-Forwarded-For``, counting from the right, as DRF's ``NUM_PROXIES``), or name a
function ``request -> str`` in ``TALON["CLIENT_IP_FUNCTION"]``. ``X-Forwarded-For`` is never
trusted without that: a guesser would send a fresh address per request. IPv6 addresses are
counted per ``/64`` network (what one customer line usually gets).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.http import HttpRequest
from django.utils.module_loading import import_string

from django_talon.conf import talon_settings

logger = logging.getLogger(__name__)

DEFAULT_RATE = "10/minute"  # same as conf.DEFAULTS["CODE_ATTEMPT_RATE"]
#: Slots per period: an attempt is remembered for at most ``period * (1 + 1 / SLOTS)``.
SLOTS = 12
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_UNSET = object()


def parse_rate(rate: str | None, setting: str = "CODE_ATTEMPT_RATE") -> tuple[int, int] | None:
    """``"10/minute"`` -> ``(10, 60)``; ``None``/``""`` -> ``None`` (no limit)."""
    if not rate:
        return None
    try:
        num, period = str(rate).split("/", 1)
        limit = int(num)
        if limit < 1:
            raise ValueError("the number of attempts must be at least 1")
        return limit, _PERIODS[period.strip()[0].lower()]
    except (ValueError, KeyError, IndexError) as exc:
        raise ValueError(
            f"invalid TALON[{setting!r}] {rate!r}: use e.g. '10/minute' (or None to turn it off)"
        ) from exc


def configured_rate() -> str | None:
    return talon_settings.CODE_ATTEMPT_RATE or None


def configured_ip_rate() -> str | None:
    return talon_settings.CODE_ATTEMPT_RATE_PER_IP or None


def _valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def client_ip(request: HttpRequest) -> str:
    """The client's address as the settings say to find it (see the module docstring)."""
    hook = talon_settings.CLIENT_IP_FUNCTION
    if hook:
        resolve: Callable[[HttpRequest], str | None] = import_string(hook)
        return str(resolve(request) or "")
    remote = str(request.META.get("REMOTE_ADDR", "") or "")
    proxies = talon_settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        header = str(request.META.get("HTTP_X_FORWARDED_FOR", "") or "")
        hops = [hop.strip() for hop in header.split(",") if hop.strip()]
        if hops:
            candidate = hops[-min(proxies, len(hops))]
            if _valid_ip(candidate):
                return candidate
    return remote


def ip_ident(ip: str) -> str:
    """A cache-key-safe name for an address: IPv4 as it is, IPv6 as its ``/64`` network.

    Anything else (a custom ``CLIENT_IP_FUNCTION`` may answer any string) is hashed, so that
    no character of it can break a Memcached key.
    """
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return "h" + hashlib.sha256(ip.encode("utf-8", "replace")).hexdigest()[:32]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def client_ident(request: HttpRequest) -> str:
    """``user:<pk>`` for signed-in users, ``ip:<address>`` otherwise (see :func:`client_ip`)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{ip_ident(client_ip(request))}"


@dataclass(frozen=True)
class _Budget:
    key: str  # cache key prefix of this budget's slot counters
    limit: int
    period: int


class CodeAttemptLimiter:
    """Sliding-window budgets of code attempts per client and, optionally, per IP.

    ``rate``/``ip_rate`` override the settings (``None`` for ``ip_rate`` turns the per-IP
    budget off); ``clock`` returns the time in seconds (tests drive it instead of sleeping).
    """

    cache_prefix = "django_talon:code_attempts:"
    #: Seconds until the next attempt is allowed (set by :meth:`allow`).
    wait_seconds: float = 0.0

    def __init__(
        self,
        rate: str | None = None,
        *,
        ip_rate: str | None | object = _UNSET,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.rate = parse_rate(rate if rate is not None else configured_rate())
        raw_ip_rate = configured_ip_rate() if ip_rate is _UNSET else ip_rate
        self.ip_rate = parse_rate(
            raw_ip_rate if isinstance(raw_ip_rate, str) else None, "CODE_ATTEMPT_RATE_PER_IP"
        )
        self.clock = clock

    def _budgets(self, request: HttpRequest) -> list[_Budget]:
        budgets = []
        if self.rate is not None:
            key = f"{self.cache_prefix}{client_ident(request)}:{self.rate[1]}"
            budgets.append(_Budget(key, *self.rate))
        if self.ip_rate is not None:
            key = f"{self.cache_prefix}per-ip:{ip_ident(client_ip(request))}:{self.ip_rate[1]}"
            budgets.append(_Budget(key, *self.ip_rate))
        return budgets

    def allow(self, request: HttpRequest) -> bool:
        """Record one attempt; False (and :attr:`wait_seconds`) when a budget is used up."""
        self.wait_seconds = 0.0
        cache = caches[talon_settings.CACHE_ALIAS]
        now = self.clock()
        reserved: list[str] = []
        for budget in self._budgets(request):
            key, wait = self._reserve(cache, budget, now)
            if wait is None:
                reserved.append(key)
                continue
            for done in reserved:  # refused by a later budget: give the earlier places back
                _give_back(cache, done)
            self.wait_seconds = wait
            logger.warning("Code attempts throttled for %s", client_ident(request))
            return False
        return True

    @staticmethod
    def _reserve(cache: BaseCache, budget: _Budget, now: float) -> tuple[str, float | None]:
        """Reserve a place in ``budget``: ``(slot key, None)``, or ``(key, wait)`` if full."""
        current = math.floor(now * SLOTS / budget.period)
        indexes = range(current - SLOTS, current + 1)
        keys = [f"{budget.key}:{i}" for i in indexes]
        mine = keys[-1]
        ttl = math.ceil(budget.period * (SLOTS + 2) / SLOTS) + 1
        cache.add(mine, 0, ttl)
        try:
            count = int(cache.incr(mine))
        except ValueError:  # evicted between add and incr: start the slot again
            cache.add(mine, 0, ttl)
            count = int(cache.incr(mine))
        older = cache.get_many(keys[:-1])
        counts = [int(older.get(k) or 0) for k in keys[:-1]] + [count]
        if sum(counts) <= budget.limit:
            return mine, None
        _give_back(cache, mine)
        counts[-1] -= 1
        # Wait until enough old slots have left the window (slot i leaves at (i+SLOTS+1)).
        excess = sum(counts) - budget.limit + 1
        for index, slot_count in zip(indexes, counts, strict=True):
            excess -= slot_count
            if excess <= 0:
                leaves = (index + SLOTS + 1) * budget.period / SLOTS
                return mine, max(leaves - now, 0.001)
        return mine, budget.period / SLOTS  # only concurrent reservations: retry soon


def _give_back(cache: BaseCache, key: str) -> None:
    try:
        cache.decr(key)
    except ValueError:  # the slot expired or was evicted: nothing left to give back
        pass
